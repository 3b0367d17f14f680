"""Ground truth: what a correct crawler + parser should extract from each served document."""

from __future__ import annotations

import re

from .corpus import Doc
from .site import CONTRACT, DATE_FIELDS

_CN_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


def _iso(value: str) -> str:
    m = _CN_DATE.match(value)
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else value


def expected(doc: Doc, base_url: str) -> dict:
    fields = {label: value for _c, label, value in doc.rows}
    out = {key: None for key in CONTRACT.values()}
    for canon, _label, value in doc.rows:
        if value and canon in CONTRACT:
            out[CONTRACT[canon]] = _iso(value) if canon in DATE_FIELDS else value
    out.update(
        title=doc.title,
        fields=fields,
        body_text="\n".join(doc.body_lines()),
        urls=sorted(base_url + p for p in doc.url_paths()),
        attachments=[{"name": a.name, "url": base_url + a.path} for a in doc.attachments],
        edited_on_day=doc.edited_on_day,
        added_on_day=doc.added_on_day,
        encoding="utf-8" if doc.encoding == "utf-8" else "gbk",
    )
    return out
