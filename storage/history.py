"""A document's versions over time: the timeline (`xxgk history`) and text diffs (`xxgk diff`)."""

from __future__ import annotations

import difflib

from sqlmodel import Session, select

from storage import contract
from storage.models import Attachment, Capture, Document, DocumentReparse, DocumentVersion
from storage.stamps import iso_ts


def versions(s: Session, doc: Document) -> list[DocumentVersion]:
    return list(
        s.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id).order_by(DocumentVersion.version))
    )


def _attachments(s: Session, ver: DocumentVersion) -> dict[tuple[str, str], dict]:
    """(name, url) -> {name, url, sha256, size} of the files `ver` was recorded with."""
    rows = s.exec(select(Attachment).where(Attachment.version_id == ver.id).order_by(Attachment.id))
    return {(a.name, a.url): {"name": a.name, "url": a.url, "sha256": a.sha256, "size": a.size} for a in rows}


def attachment_changes(old: dict, new: dict) -> dict[str, list[dict]]:
    """Files added, removed, and replaced (same name and URL, other bytes: old and new sha256 and size)."""
    replaced = [
        {
            "name": n["name"],
            "url": n["url"],
            "old_sha256": old[k]["sha256"],
            "new_sha256": n["sha256"],
            "old_size": old[k]["size"],
            "new_size": n["size"],
        }
        for k, n in new.items()
        if k in old and (old[k]["sha256"], old[k]["size"]) != (n["sha256"], n["size"])
    ]
    return {
        "attachments_added": [a for k, a in new.items() if k not in old],
        "attachments_removed": [a for k, a in old.items() if k not in new],
        "attachments_replaced": replaced,
    }


def field_changes(old: dict, new: dict) -> list[dict]:
    """Contract fields, then metadata labels (`fields.<label>`), whose value differs."""
    out = [
        {"field": k, "old": old.get(k), "new": new.get(k)} for k in contract.CONTRACT_FIELDS if old.get(k) != new.get(k)
    ]
    of, nf = old.get("fields") or {}, new.get("fields") or {}
    out += [
        {"field": f"fields.{k}", "old": of.get(k), "new": nf.get(k)}
        for k in list(of) + [k for k in nf if k not in of]
        if of.get(k) != nf.get(k)
    ]
    return out


def body_change(old: str, new: str) -> dict:
    a, b = old.splitlines(), new.splitlines()
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed += (i2 - i1) if tag in ("replace", "delete") else 0
        added += (j2 - j1) if tag in ("replace", "insert") else 0
    return {
        "changed": old != new,
        "lines_added": added,
        "lines_removed": removed,
        "chars_before": len(old),
        "chars_after": len(new),
    }


def timeline(s: Session, doc: Document) -> list[dict]:
    """One entry per version, oldest first: when it was seen, from which capture, what changed."""
    vers = versions(s, doc)
    out: list[dict] = []
    prev: DocumentVersion | None = None
    prev_atts: dict[tuple[str, str], dict] = {}
    for i, ver in enumerate(vers):
        cap = s.get(Capture, ver.capture_id)
        atts = _attachments(s, ver)
        reparses = s.exec(
            select(DocumentReparse).where(DocumentReparse.version_id == ver.id).order_by(DocumentReparse.id)
        ).all()
        until = vers[i + 1].seen_at if i + 1 < len(vers) else doc.last_seen
        entry = {
            "version": ver.version,
            "seen_at": iso_ts(ver.seen_at),
            "until": iso_ts(until),
            "current": ver.version == doc.version,
            "url": cap.url if cap else None,
            "capture_id": ver.capture_id,
            "sha256": cap.sha256 if cap else None,
            "content_hash": ver.content_hash,
            "parser_version": ver.parser_version,
            "reparses": [
                {"at": iso_ts(r.reparsed_at), "from_parser": r.previous_parser_version, "to_parser": r.parser_version}
                for r in reparses
            ],
            "fields_changed": [],
            "body": None,
            "attachments_added": [],
            "attachments_removed": [],
            "attachments_replaced": [],
        }
        if prev is not None:
            entry["fields_changed"] = field_changes(prev.record or {}, ver.record or {})
            entry["body"] = body_change(prev.body_text or "", ver.body_text or "")
            entry.update(attachment_changes(prev_atts, atts))
        out.append(entry)
        prev, prev_atts = ver, atts
    return out


def _file(sha256: str | None, size: int | None) -> str:
    return f"sha256 {sha256} ({size:,} B)" if sha256 else "(not archived)"


def char_changes(a: str, b: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The [start, end) spans of `a` and of `b` that differ, character by character (no word splitting:
    right for Chinese, where words are not separated)."""
    old, new = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            old += [(i1, i2)] if i2 > i1 else []
            new += [(j1, j2)] if j2 > j1 else []
    return old, new


def render(s: Session, ver: DocumentVersion) -> list[str]:
    """A version as diffable lines: fields, attachments, a blank line, then the body."""
    rec = ver.record or {}
    lines = [f"{k}: {rec.get(k) if rec.get(k) is not None else ''}" for k in contract.CONTRACT_FIELDS]
    lines += [f"fields.{k}: {v}" for k, v in (rec.get("fields") or {}).items()]
    lines += [
        f"attachment: {a['name']} <{a['url']}> {_file(a['sha256'], a['size'])}" for a in _attachments(s, ver).values()
    ]
    return lines + [""] + (ver.body_text or "").splitlines()


def unified_diff(s: Session, doc: Document, v1: DocumentVersion, v2: DocumentVersion, context: int = 3) -> list[str]:
    name = doc.index_no or doc.url
    return list(
        difflib.unified_diff(
            render(s, v1),
            render(s, v2),
            fromfile=f"{name} v{v1.version}",
            tofile=f"{name} v{v2.version}",
            n=context,
            lineterm="",
        )
    )
