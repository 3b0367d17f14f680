"""gov.cn, the State Council policy library (field guide §1.8).

The column is the search SPA `/zcwjk/policyDocumentLibrary?t=zhengcelibrary_gw`; its data come from
`GET /search-gov/data?t=…&p=N&n=M&…` (a Referer is required) as
{"code":200,"msg":"操作成功","searchVO":{"listVO":[…],"totalCount":N,"totalpage":M}} whose items carry
title, url, pcode (文号), puborg, pubtime (ms), pubtimeStr (YYYY.MM.DD), childtype (主题分类), summary,
index (索引号) and id; past the end {"code":1001,"msg":"抱歉，没有找到相关结果","data":[],"searchVO":null}.
Articles: template A /zhengce/content/YYYYMM/content_N.htm with a `<td><b>LABEL：</b></td><td>VALUE</td>`
table; template B /zhengce/YYYYMM/content_N.htm with h1#ti and no table (the list alone carries its
索引号, 文号 and 发文机关). Both: body #UCAP-CONTENT, metas manuscriptId and firstpublishedtime.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from html import escape
from urllib.parse import parse_qs, urlsplit

from ..corpus import Doc
from ..faults import Context
from ..listing import to_int
from ..pages import body_html
from ..response import Response, html_response
from ..site import Column, Profile
from ..text import TOPICS
from .base import JSON, FamilySite, organ, written

LIBRARY = "/zcwjk/policyDocumentLibrary"
API = "/search-gov/data"
BEIJING = dt.timezone(dt.timedelta(hours=8))
EMPTY = {"code": 1001, "msg": "抱歉，没有找到相关结果", "data": [], "searchVO": None}

GOVCN = Profile(
    columns=(Column(1, "国务院文件", key="zhengcelibrary_gw"), Column(2, "部门文件", key="zhengcelibrary_bm")),
    weights=(1, 1),
    organs=(
        organ("国务院办公厅", "国务院办公厅", "00001434", "国办发", ("营商环境", "安全生产", "医疗卫生")),
        organ("国务院", "国务院", "00001433", "国发", ("乡村振兴", "生态环境")),
        organ("财政部", "财政部", "00001391", "财预", ("财政管理",)),
        organ("教育部", "教育部", "00001402", "教发", ("教育事业",)),
    ),
    id_base=7_000_000,
)


def template_b(doc: Doc) -> bool:
    """General policy articles: no metadata table on the page."""
    return doc.id % 10 < 3


def topic(doc: Doc) -> str:
    return TOPICS[doc.topic][0]


class GovcnSite(FamilySite):
    family = "govcn"
    profile = GOVCN
    server = "Apache"

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        p = urlsplit(path)
        t = parse_qs(p.query).get("t", [""])[0]
        if p.path != LIBRARY or not t:
            raise ValueError(f"a gov.cn library column is {LIBRARY}?t=…, not {path!r}")
        return Column(i + 1, t, key=t)

    def default_paths(self) -> list[str]:
        return [f"{LIBRARY}?t={c.key}&q=" for c in self.columns.values()]

    def doc_paths(self, doc: Doc) -> list[str]:
        d = doc.date
        return [
            f"/zhengce/{d:%Y%m}/content_{doc.id}.htm"
            if template_b(doc)
            else f"/zhengce/content/{d:%Y%m}/content_{doc.id}.htm"
        ]

    def attachment_path(self, doc: Doc, att) -> str:
        return f"/zhengce/files/{doc.date:%Y%m}/{att.filename}"

    def rows(self, doc: Doc) -> list[tuple[str, str, str]]:
        if template_b(doc):
            return []
        return [
            ("索引号", "索引号", doc.value("索引号") or ""),
            ("主题分类", "主题分类", topic(doc)),
            ("发布单位", "发文机关", doc.organ.full),
            ("成文日期", "成文日期", written(doc)),
            ("标题", "标题", doc.title),
            ("文号", "发文字号", doc.value("文号") or ""),
            ("公开日期", "发布日期", doc.date.isoformat()),
            ("主题词", "主题词", ""),
        ]

    def page_values(self, doc: Doc) -> dict:
        return {"publish_date": doc.date.isoformat()}

    def list_values(self, doc: Doc) -> dict:
        return {
            "index_no": doc.value("索引号") or None,
            "doc_no": doc.value("文号") or None,
            "publisher": doc.organ.full,
            "topic": topic(doc),
        }

    # -- serving -------------------------------------------------------------------------------
    def serve(self, ctx: Context, params: dict) -> Response | None:
        if ctx.path == LIBRARY:
            return html_response(200, self.library(params.get("t", "")))
        if ctx.path == API:
            return self.data(ctx, params)
        return self.stored(ctx.path)

    def library(self, t: str) -> str:
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>国务院政策文件库</title>
<meta name="keywords" content="国务院政策文件库">
<link rel="stylesheet" href="/zcwjk/static/css/app.css"></head>
<body><div id="app"></div>
<script>window.__SEARCH__ = {{api: "https://sousuo.www.gov.cn{API}", t: "{escape(t)}", library: ["zhengcelibrary_gw", "zhengcelibrary_bm", "zhengcelibrary_gb"]}};</script>
<script src="/zcwjk/static/js/chunk-vendors.js"></script><script src="/zcwjk/static/js/app.js"></script>
</body></html>"""

    def data(self, ctx: Context, params: dict) -> Response:
        if not ctx.headers.get("Referer"):
            return html_response(403, "<html><body><h1>403 Forbidden</h1></body></html>")
        col = next((c for c in self.columns.values() if c.key == params.get("t")), None)
        page, size = max(1, to_int(params.get("p"), 1)), min(100, max(1, to_int(params.get("n"), 5)))
        docs = [] if col is None or ctx.options.get("empty") else self.column_docs(col.id)
        window = docs[(page - 1) * size : page * size]
        if not window:
            return _json(EMPTY)
        host = ctx.headers.get("Host", "")
        return _json(
            {
                "code": 200,
                "msg": "操作成功",
                "searchVO": {
                    "listVO": [self._item(d, host) for d in window],
                    "totalCount": len(docs),
                    "totalpage": math.ceil(len(docs) / size),
                },
            }
        )

    def _item(self, doc: Doc, host: str) -> dict:
        when = dt.datetime.combine(doc.date, dt.time.fromisoformat(doc.time), BEIJING)
        first = next((b[1] for b in doc.body if b[0] == "p"), "")
        return {
            "title": doc.title,
            "url": f"http://{host}{self.doc_paths(doc)[0]}",
            "pcode": doc.value("文号") or "",
            "puborg": doc.organ.full,
            "pubtime": int(when.timestamp() * 1000),
            "pubtimeStr": f"{doc.date:%Y.%m.%d}",
            "ptime": int(when.timestamp() * 1000),
            "childtype": topic(doc),
            "summary": first[:80],
            "index": doc.value("索引号") or "",
            "id": doc.id,
        }

    def article_page(self, doc: Doc, path: str) -> str:
        d = doc.date
        labels = {"索引号": "索 引 号", "标题": "标\u3000\u3000题", "主题词": "主 题 词"}
        if template_b(doc):
            head = (
                f'<h1 id="ti">{escape(doc.title)}</h1>\n<div class="pages-date">{d.isoformat()} {doc.time}'
                f'<span class="font">来源：{escape(doc.organ.full)}</span></div>'
            )
        else:
            cells = [
                f'<td class="b12c"><b>{labels.get(label, label)}：</b></td><td>{escape(value)}</td>'
                for _c, label, value in self.rows(doc)
            ]
            trs = "".join(f"<tr>{cells[i]}{cells[i + 1]}</tr>\n" for i in range(0, len(cells), 2))
            head = (
                f'<div class="policyLibraryOverview_header"><table class="bd1">\n<tbody>\n{trs}</tbody></table></div>'
            )
        zoom = body_html(doc, href=lambda a: self.attachment_path(doc, a))
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>{escape(doc.title)}_国务院文件_中国政府网</title>
<meta name="manuscriptId" content="{doc.id}">
<meta name="ArticleTitle" content="{escape(doc.title)}">
<meta name="firstpublishedtime" content="{d.isoformat()}-{doc.time}:00">
<meta name="lastmodifiedtime" content="{d.isoformat()}-{doc.time}:00">
</head><body>
<div class="header"><a href="/">中国政府网</a></div>
<div class="article oneColumn pub_border">
{head}
<div class="pages_content" id="UCAP-CONTENT">
{zoom}
</div>
</div>
<div class="footer">主办单位：国务院办公厅</div>
</body></html>"""


def _json(obj: dict) -> Response:
    return Response(200, {"Content-Type": JSON}, json.dumps(obj, ensure_ascii=False).encode())
