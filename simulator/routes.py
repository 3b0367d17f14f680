"""The Hanweb jcms (jpage / dataproxy.jsp) portal: URL routing with per-day caches of the rendered bytes."""

from __future__ import annotations

import re

from . import listing, pages
from .families.base import FamilySite, not_found
from .faults import Context
from .response import Response, html_response
from .site import DAY_STAMP, KAIHUA, Column
from .truth import contract_values

_ART = re.compile(r"^/art/(\d{4})/(\d{1,2})/(\d{1,2})/art_(\d+)_(\d+)\.html$")
_COL = re.compile(r"^/col/col(\d+)/index\.html$")
_TS, _VC = pages.TS.encode(), pages.VC.encode()
CONTENT_TYPE = {
    "utf-8": "text/html; charset=UTF-8",
    "gbk-header": "text/html; charset=GBK",
    "gbk-meta": "text/html",
    "gbk-none": "text/html",
}


class Site(FamilySite):
    """The corpus plus render caches; `day` and `robots` may change while serving."""

    family = "hanweb-jpage"
    profile = KAIHUA

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = {u: c for c in self.columns.values() for u in (c.pc_unit, c.mobile_unit)}

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        m = _COL.match(path)
        if not m:
            raise ValueError(f"a jcms column lives at /col/colNNN/index.html, not {path!r}")
        return Column(int(m[1]), f"栏目{i + 1}", 7_405_000 + 2 * i, 7_405_001 + 2 * i)

    def default_paths(self) -> list[str]:
        return [f"/col/col{c}/index.html" for c in self.columns]

    def doc_paths(self, doc) -> list[str]:
        return doc.url_paths()

    def attachment_path(self, doc, att) -> str:
        return att.path

    def rows(self, doc):
        return pages.table_rows(doc)

    def page_values(self, doc) -> dict:
        return {k: v for k, v in contract_values(pages.inline_rows(doc)).items() if v}

    def body_lines(self, doc) -> list[str]:
        return doc.body_lines(with_files=pages.files_in_body(doc))

    def serve(self, ctx: Context, params: dict) -> Response | None:
        path = ctx.path
        if path in ("/", "/index.html"):
            return html_response(200, pages.home_page())
        if path == "/module/web/jpage/dataproxy.jsp":
            return self.dataproxy(params, ctx.options)
        if path == "/module/download/downfile.jsp":
            return self.file(params.get("filename", ""))
        if path == "/module/visitcount/visit.jsp":
            return html_response(200, "<html><body></body></html>")
        m = _COL.match(path)
        if m and int(m[1]) in self.columns:
            return self.column(self.columns[int(m[1])], ctx.options)
        m = _ART.match(path)
        if m:
            return self.article(path, int(m[4]), int(m[5]), ctx.options.get("no_metadata", False))
        return None

    def column(self, col, options: dict) -> Response:
        empty, layout = bool(options.get("empty")), bool(options.get("layout"))

        def render() -> bytes:
            maketime = f"{DAY_STAMP[self.key()]} 09:25:38"
            docs = [] if empty else self.column_docs(col.id)
            return listing.column_page(
                col, docs, maketime, redesigned=layout, columns=tuple(self.columns.values())
            ).encode("utf-8")

        body = self.cached(("col", col.id, empty, layout), render)
        return Response(200, {"Content-Type": "text/html; charset=UTF-8"}, body)

    def dataproxy(self, params: dict, options: dict) -> Response:
        col = self.columns.get(listing.to_int(params.get("columnid"), 0))
        unit = self.units.get(listing.to_int(params.get("unitid"), 0))
        docs = self.column_docs(col.id) if col is not None and unit is col else None
        if docs is not None and options.get("empty"):
            docs = []
        if options.get("ignore_startrecord"):  # the Yancheng quirk: only page= is honoured
            params = {k: v for k, v in params.items() if k not in ("startrecord", "endrecord")}
        if docs and options.get("shift"):
            docs = docs[: options["shift"]] + docs  # as if that many items were pushed on top
        if options.get("duplicate") and listing.to_int(params.get("startrecord"), 1) > 1:
            start = listing.to_int(params.get("startrecord"), 1)
            params = {**params, "startrecord": str(max(1, start - options["duplicate"]))}
        xml = listing.dataproxy_xml(docs, col.id if col else 0, params)
        return html_response(200, xml, "text/xml;charset=UTF-8")

    def article(self, path: str, column_id: int, doc_id: int, no_metadata: bool) -> Response:
        doc = self.docs().get(doc_id)
        if doc is None or column_id not in doc.columns or path not in doc.url_paths():
            return not_found()

        def render():
            text = pages.article_page(doc, self.columns[column_id], no_metadata, tuple(self.columns.values()))
            data = text.encode("utf-8" if doc.encoding == "utf-8" else "gbk")
            head, rest = data.split(_TS)
            return (head, *rest.split(_VC))

        parts = self.cached(("art", column_id, doc_id, no_metadata), render)
        # volatile bytes: a millisecond timestamp and a visit counter that grows per request
        body = b"".join((parts[0], self.stamp().encode(), parts[1], self.visits(doc).encode(), parts[2]))
        return Response(200, {"Content-Type": CONTENT_TYPE[doc.encoding]}, body)
