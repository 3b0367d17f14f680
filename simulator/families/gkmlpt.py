"""Guangdong gkmlpt, 政府信息公开目录管理平台 (field guide §1.7).

`{base}/gkmlpt/index` is a Vue shell with `window._CONFIG = {SID:'…', TREE:[…], …}`; a column is a
category, `{base}/gkmlpt/index#{id}`. Lists: `GET {base}/gkmlpt/api/all/{id}?page=N&sid=SID` →
{"classify":{…,"post_count":N},"articles":[…],"total":N,"offset":…}, 100 articles a page, and page 0
answers exactly as page 1 (page 2 is the next batch). Articles carry identifier (索引号),
document_number (文号), publisher, date (成文, unix seconds), create_time/display_publish_time (发布),
classify_*_name, url, attachment[]; a category may pin an off-site `"type":"url"` jump entry.
Content pages /gkmlpt/content/A/B/post_ID.html: a label table (索引号 分类 发布机构 成文日期 名称 文号
发布日期 主题词), div.article-content, the files after it, and `_CONFIG.DETAIL` in a script.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from html import escape

from ..corpus import Doc
from ..faults import Context
from ..listing import to_int
from ..pages import attachment_bytes, body_html
from ..response import Response, html_response
from ..site import Column, Profile
from ..text import TOPICS
from ..truth import iso
from .base import JSON, FamilySite, file_label, organ, written

SID = "755041"
PER_PAGE = 100
BEIJING = dt.timezone(dt.timedelta(hours=8))
_INDEX = re.compile(r"^(.*)/gkmlpt/index#(\d+)$")
_API = re.compile(r"^(.*)/gkmlpt/api/all/(\d+)$")

GKMLPT = Profile(
    columns=(Column(20765, "通告、公告"), Column(20766, "其他文件"), Column(20767, "规范性文件")),
    weights=(4, 4, 2),
    organs=(
        organ("深圳市坪山区人民政府", "深圳市坪山区人民政府", "1144030069555064", "深坪府", ("营商环境", "安全生产")),
        organ(
            "坪山区发展和改革局", "深圳市坪山区发展和改革局", "11440300MB2C0D1E", "深坪发改", ("乡村振兴", "财政管理")
        ),
        organ("坪山区生态环境局", "深圳市生态环境局坪山管理局", "11440300MB2C0D2F", "深坪环", ("生态环境",)),
    ),
    id_base=9_100_000,
)


def ts(day: dt.date, hhmm: str = "00:00") -> int:
    return int(dt.datetime.combine(day, dt.time.fromisoformat(hhmm), BEIJING).timestamp())


class GkmlptSite(FamilySite):
    family = "gkmlpt"
    profile = GKMLPT
    server = "nginx"

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        m = _INDEX.match(path)
        if not m:
            raise ValueError(f"a gkmlpt column is {{base}}/gkmlpt/index#CATEGORY, not {path!r}")
        return Column(int(m[2]), f"分类{i + 1}", key=m[1])

    @property
    def prefix(self) -> str:
        return next(iter(self.columns.values())).key

    def default_paths(self) -> list[str]:
        return [f"{c.key}/gkmlpt/index#{c.id}" for c in self.columns.values()]

    def doc_paths(self, doc: Doc) -> list[str]:
        return [f"{self.prefix}/gkmlpt/content/{doc.id // 1_000_000}/{doc.id // 1000}/post_{doc.id}.html"]

    def attachment_path(self, doc: Doc, att) -> str:
        att_id = int(att.filename[:7], 16) % 10**7
        return f"{self.prefix}/attachment/0/{att_id // 1000}/{att_id}/{doc.id % 10**8}.{att.filename.rsplit('.', 1)[1]}"

    def attachment_name(self, att) -> str:
        return att.download or file_label(att)

    def body_lines(self, doc: Doc) -> list[str]:
        return doc.body_lines(with_files=False)

    def rows(self, doc: Doc) -> list[tuple[str, str, str]]:
        return [
            ("索引号", "索引号", doc.value("索引号") or ""),
            ("主题分类", "分类", TOPICS[doc.topic][0]),
            ("发布单位", "发布机构", doc.organ.short),
            ("成文日期", "成文日期", written(doc)),
            ("标题", "名称", doc.title),
            ("文号", "文号", doc.value("文号") or ""),
            ("公开日期", "发布日期", doc.date.isoformat()),
            ("主题词", "主题词", ""),
        ]

    def list_values(self, doc: Doc) -> dict:
        return {"genre": doc.value("体裁分类")}  # classify_genre_name: not on the page

    # -- serving -------------------------------------------------------------------------------
    def serve(self, ctx: Context, params: dict) -> Response | None:
        path = ctx.path
        if path == f"{self.prefix}/gkmlpt/index":
            return html_response(200, self.index_page())
        m = _API.match(path)
        if m and m[1] == self.prefix:
            return self.api(int(m[2]), params, ctx)
        return self.stored(path)

    def index_page(self) -> str:
        children = [
            {"id": c.id, "name": c.name, "parent": 20764, "jump_url": "", "children": []} for c in self.columns.values()
        ]
        children.append(
            {"id": 20770, "name": "政府公报", "parent": 20764, "children": [], "jump_url": "http://www.sz.gov.cn/zfgb/"}
        )
        tree = [{"id": 20764, "name": "法定主动公开内容", "parent": 0, "jump_url": "", "children": children}]
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开目录</title>
<link href="{self.prefix}/gkmlpt/gkml/pc/css/app.css" rel="stylesheet"></head>
<body><div id="app"></div>
<script>window._CONFIG = {{SID:'{SID}', TREE:{json.dumps(tree, ensure_ascii=False)}, SERVICE_AREA_ID:44, APP_URL:'{self.prefix}'}};</script>
<script src="{self.prefix}/gkmlpt/gkml/pc/js/chunk-common.c1553651.js"></script>
</body></html>"""

    def api(self, category: int, params: dict, ctx: Context) -> Response | None:
        col = self.columns.get(category)
        if col is None:
            return None
        if params.get("sid") != SID:
            return Response(200, {"Content-Type": JSON}, b'{"classify":null,"articles":[],"total":0,"offset":0}')
        host = ctx.headers.get("Host", "")
        entries = [self._jump(col)] + [self._article(d, col, host) for d in self.column_docs(col.id)]
        if ctx.options.get("empty"):
            entries = []
        page = max(1, to_int(params.get("page"), 1))  # page 0 answers as page 1
        offset = (page - 1) * PER_PAGE
        body = {
            "classify": {
                "id": col.id,
                "name": col.name,
                "post_count": len(entries),
                "jump_url": "",
                "pages": math.ceil(len(entries) / PER_PAGE),
            },
            "articles": entries[offset : offset + PER_PAGE],
            "total": len(entries),
            "offset": offset,
        }
        return Response(200, {"Content-Type": JSON}, json.dumps(body, ensure_ascii=False).encode())

    def _jump(self, col: Column) -> dict:
        return {
            "id": 9_000_000 + col.id,
            "title": "深圳市政府公报（外部链接）",
            "type": "url",
            "url": "http://www.sz.gov.cn/zfgb/",
            "classify_main": col.id,
            "attachment": [],
        }

    def _article(self, doc: Doc, col: Column, host: str) -> dict:
        files = []
        for a in doc.attachments:
            data, mime = attachment_bytes(a.filename, a.revision)
            files.append(
                {
                    "id": int(a.filename[:7], 16) % 10**7,
                    "name": self.attachment_name(a),
                    "type": a.filename.rsplit(".", 1)[1],
                    "mime": mime,
                    "size": str(len(data)),
                    "url": f"http://{host}{self.attachment_path(doc, a)}",
                }
            )
        published = ts(doc.date, doc.time)
        return {
            "id": doc.id,
            "title": doc.title,
            "type": "normal",
            "classify_main": col.id,
            "classify_main_name": col.name,
            "classify_genre_name": doc.value("体裁分类") or "",
            "classify_theme_name": TOPICS[doc.topic][0],
            "identifier": doc.value("索引号") or "",
            "document_number": doc.value("文号") or "",
            "publisher": doc.organ.short,
            "keywords": "",
            "date": ts(dt.date.fromisoformat(iso(written(doc)))),
            "created_at": f"{doc.date} {doc.time}:00",
            "create_time": published,
            "display_publish_time": published,
            "url": f"//{host}{self.doc_paths(doc)[0]}",
            "post_url": f"http://{host}{self.doc_paths(doc)[0]}",
            "attachment": files,
            "abstract": "",
            "relation": "[]",
            "is_expired": 0,
            "is_abolished": 0,
        }

    def article_page(self, doc: Doc, path: str) -> str:
        cells = [
            f'<td class="td-label">{label}：</td><td class="td-value"><span>{escape(value)}</span></td>'
            for _c, label, value in self.rows(doc)
        ]
        trs = "".join(f"<tr>{cells[i]}{cells[i + 1]}</tr>\n" for i in range(0, len(cells), 2))
        content = body_html(doc, with_files=False)
        files = "".join(
            f'<p><a href="{self.attachment_path(doc, a)}"'
            + (f' download="{escape(a.download)}"' if a.download else "")
            + f">{escape(file_label(a))}</a></p>"
            for a in doc.attachments
        )
        files = f'<div class="article-attachment"><p>附件：</p>{files}</div>' if files else ""
        detail = {"id": doc.id, "title": doc.title, "identifier": doc.value("索引号") or "", "content": content}
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(doc.title)}</title>
<meta name="ArticleTitle" content="{escape(doc.title)}">
<meta name="PubDate" content="{doc.date} {doc.time}">
</head><body>
<div class="content-wrap">
<div class="classify"><table class="classify-table">
{trs}</table></div>
<h1 class="title">{escape(doc.title)}</h1>
<div class="article-content">
{content}
</div>
{files}
</div>
<script>window._CONFIG = {{SID:'{SID}', DETAIL: {json.dumps(detail, ensure_ascii=False)}}};</script>
</body></html>"""
