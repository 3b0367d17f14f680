"""URL routing of the simulated portal, with per-day caches of the rendered bytes."""

from __future__ import annotations

import itertools
import re
import time

from . import listing, pages
from .corpus import Corpus
from .site import COLUMNS, DAY_STAMP
from .faults import Context
from .response import Response, html_response

_ART = re.compile(r"^/art/(\d{4})/(\d{1,2})/(\d{1,2})/art_(\d+)_(\d+)\.html$")
_COL = re.compile(r"^/col/col(\d+)/index\.html$")
_COLUMNS = {c.id: c for c in COLUMNS}
_UNITS = {u: c for c in COLUMNS for u in (c.pc_unit, c.mobile_unit)}
_TS, _VC = pages.TS.encode(), pages.VC.encode()
_CONTENT_TYPE = {"utf-8": "text/html; charset=UTF-8", "gbk-header": "text/html; charset=GBK",
                 "gbk-meta": "text/html", "gbk-none": "text/html"}
NOT_FOUND = "<html><head><title>404</title></head><body><h1>404 Not Found</h1><p>页面不存在</p></body></html>"


class Site:
    """The corpus plus render caches; `day` and `robots` may change while serving."""

    def __init__(self, corpus: Corpus, day: int = 1, robots: str = "allow"):
        self.corpus = corpus
        self.day = day
        self.robots = robots
        self._cache: dict = {}
        self._visits = itertools.count(1)

    def _key(self) -> int:
        return 1 if self.day <= 1 else 2

    def column_docs(self, column_id: int) -> list:
        key = ("list", self._key(), column_id)
        if key not in self._cache:
            self._cache[key] = self.corpus.column_docs(self._key(), column_id)
        return self._cache[key]

    def route(self, ctx: Context, params: dict) -> Response:
        path = ctx.path
        if path == "/robots.txt":
            status, text = pages.robots_txt(self.robots)
            ctype = "text/plain; charset=UTF-8" if status == 200 else "text/html; charset=UTF-8"
            return html_response(status, text, ctype)
        if path in ("/", "/index.html"):
            return html_response(200, pages.home_page())
        if path == "/module/web/jpage/dataproxy.jsp":
            return self.dataproxy(params, ctx.options)
        if path == "/module/download/downfile.jsp":
            return self.attachment(params.get("filename", ""))
        if path == "/module/visitcount/visit.jsp":
            return html_response(200, "<html><body></body></html>")
        m = _COL.match(path)
        if m and int(m[1]) in _COLUMNS:
            return self.column(_COLUMNS[int(m[1])], ctx.options)
        m = _ART.match(path)
        if m:
            return self.article(path, int(m[4]), int(m[5]), ctx.options.get("no_metadata", False))
        return html_response(404, NOT_FOUND)

    def column(self, col, options: dict) -> Response:
        empty, layout = bool(options.get("empty")), bool(options.get("layout"))
        key = ("col", self._key(), col.id, empty, layout)
        if key not in self._cache:
            maketime = f"{DAY_STAMP[self._key()]} 09:25:38"
            docs = [] if empty else self.column_docs(col.id)
            self._cache[key] = listing.column_page(col, docs, maketime, redesigned=layout).encode("utf-8")
        return Response(200, {"Content-Type": "text/html; charset=UTF-8"}, self._cache[key])

    def dataproxy(self, params: dict, options: dict) -> Response:
        col = _COLUMNS.get(listing.to_int(params.get("columnid"), 0))
        unit = _UNITS.get(listing.to_int(params.get("unitid"), 0))
        docs = self.column_docs(col.id) if col is not None and unit is col else None
        if docs is not None and options.get("empty"):
            docs = []
        if docs and options.get("shift"):
            docs = docs[: options["shift"]] + docs       # as if that many items were pushed on top
        if options.get("duplicate") and listing.to_int(params.get("startrecord"), 1) > 1:
            start = listing.to_int(params.get("startrecord"), 1)
            params = {**params, "startrecord": str(max(1, start - options["duplicate"]))}
        xml = listing.dataproxy_xml(docs, col.id if col else 0, params)
        return html_response(200, xml, "text/xml;charset=UTF-8")

    def article(self, path: str, column_id: int, doc_id: int, no_metadata: bool) -> Response:
        doc = self.corpus.docs(self._key()).get(doc_id)
        if doc is None or column_id not in doc.columns or path not in doc.url_paths():
            return html_response(404, NOT_FOUND)
        key = ("art", self._key(), column_id, doc_id, no_metadata)
        parts = self._cache.get(key)
        if parts is None:
            text = pages.article_page(doc, _COLUMNS[column_id], no_metadata)
            data = text.encode("utf-8" if doc.encoding == "utf-8" else "gbk")
            head, rest = data.split(_TS)
            parts = self._cache[key] = (head, *rest.split(_VC))
        # volatile bytes: a millisecond timestamp and a visit counter that grows per request
        visits = 100 + doc_id % 4000 + next(self._visits)
        body = b"".join((parts[0], str(int(time.time() * 1000)).encode(), parts[1], str(visits).encode(), parts[2]))
        return Response(200, {"Content-Type": _CONTENT_TYPE[doc.encoding]}, body)

    def attachment(self, filename: str) -> Response:
        if filename not in self.corpus.attachments:
            return html_response(404, NOT_FOUND)
        key = ("att", filename)
        if key not in self._cache:
            self._cache[key] = pages.attachment_bytes(filename)
        data, ctype = self._cache[key]
        return Response(200, {"Content-Type": ctype, "Content-Disposition": f'attachment; filename="{filename}"'}, data)
