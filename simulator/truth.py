"""Ground truth: what a correct crawler + parser should extract from each served document."""

from __future__ import annotations

import hashlib
import re

from .corpus import Doc
from .pages import attachment_bytes
from .site import CONTRACT, DATE_FIELDS

_CN_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


def iso(value: str) -> str:
    m = _CN_DATE.match(value)
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else value


def contract_values(rows) -> dict:
    """Contract fields from (canonical label, label shown, value) rows; empty values stay None."""
    out: dict[str, str | None] = {key: None for key in CONTRACT.values()}
    for canon, _label, value in rows:
        if value and canon in CONTRACT:
            out[CONTRACT[canon]] = iso(value) if canon in DATE_FIELDS else value
    return out


def file_truth(name: str, url: str, filename: str, revision: int) -> dict:
    data, _ = attachment_bytes(filename, revision)
    return {"name": name, "url": url, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def expected(
    doc: Doc,
    base_url: str,
    *,
    paths: list[str] | None = None,
    files: list[dict] | None = None,
    rows=None,
    from_page: dict | None = None,
    from_list: dict | None = None,
    body_lines: list[str] | None = None,
) -> dict:
    """`rows` as the page's metadata table shows them (default: the Kaihua table); `from_page` values the
    page gives elsewhere (<meta>), then `from_list` values only the list carries, each filling what is
    still missing; `files` the attachments as linked."""
    rows = doc.rows if rows is None else rows
    out = contract_values(rows)
    for extra in (from_page or {}, from_list or {}):
        for key, value in extra.items():
            if out.get(key) is None and value:
                out[key] = value
    if files is None:
        files = [file_truth(a.name, base_url + a.path, a.filename, a.revision) for a in doc.attachments]
    out.update(
        title=doc.title,
        fields={label: value for _c, label, value in rows},
        body_text="\n".join(doc.body_lines() if body_lines is None else body_lines),
        urls=sorted(base_url + p for p in (doc.url_paths() if paths is None else paths)),
        attachments=files,
        edited_on_day=doc.edited_on_day,
        added_on_day=doc.added_on_day,
        attachment_replaced=doc.attachment_replaced,
        encoding="utf-8" if doc.encoding == "utf-8" else "gbk",
    )
    return out
