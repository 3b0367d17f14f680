"""Plain static list sites of no known family: what the `generic` adapter (CSS selectors) is for.

Columns are `/{folder}/list.htm`, then list2.htm … listN.htm. Two real layouts: a CMS list
(`ul.news-list > li` with `a[href][title]` and `span.date` [YYYY-MM-DD], pages linked by `a.next`), and,
for folders under /zhengce/zhengceku/, the gov.cn 政策文件库 list (`.news_box > .list > ul > li` with
`h4 > a` and `h4 > .date`, `li.line` separators, a plain 下一页 link). Articles
/{folder}/YYYY/MMDD/c{C}a{ID}/page.htm carry an xxgk_table header and a div.article-content body.
"""

from __future__ import annotations

import math
import re
from html import escape

from ..corpus import Doc
from ..faults import Context
from ..pages import body_html, meta_table
from ..response import Response, html_response
from ..site import ORGANS, Column, Profile
from .base import FamilySite

PER_PAGE = 20
SELECTORS = {"item": "ul.news-list > li", "link": "a", "date": "span.date", "next": "a.next"}
_LIST = re.compile(r"^(/.*/)list(\d*)\.htm$")

GENERIC = Profile(
    columns=(Column(1, "通知公告", key="/zwgk/tzgg/"), Column(2, "部门文件", key="/zhengce/zhengceku/bmwj/")),
    weights=(1, 1),
    organs=ORGANS,
    id_base=4_000_000,
)


class GenericSite(FamilySite):
    family = "generic"
    profile = GENERIC
    server = "VWebServer"

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        m = _LIST.match(path) if not path.endswith("/") else None
        folder = path if path.endswith("/") else (m[1] if m else None)
        if folder is None:
            raise ValueError(f"a generic column is a folder or its list.htm, not {path!r}")
        return Column(i + 1, f"栏目{i + 1}", key=folder)

    def default_paths(self) -> list[str]:
        return [f"{c.key}list.htm" for c in self.columns.values()]

    def doc_paths(self, doc: Doc) -> list[str]:
        d = doc.date
        return [f"{self.columns[c].key}{d:%Y}/{d:%m%d}/c{c}a{doc.id}/page.htm" for c in doc.columns]

    def attachment_path(self, doc: Doc, att) -> str:
        return f"/_upload/article/files/{att.filename[:2]}/{att.filename}"

    # -- serving -------------------------------------------------------------------------------
    def serve(self, ctx: Context, params: dict) -> Response | None:
        path = ctx.path + ("list.htm" if ctx.path.endswith("/") else "")
        m = _LIST.match(path)
        col = next((c for c in self.columns.values() if m and c.key == m[1]), None)
        if col is not None:
            return self.list_page(col, int(m[2] or 1), ctx.options)
        return self.stored(ctx.path)

    def list_page(self, col: Column, page: int, options: dict) -> Response | None:
        docs = [] if options.get("empty") else self.column_docs(col.id)
        count = max(1, math.ceil(len(docs) / PER_PAGE))
        if page > count:
            return None
        window = docs[(page - 1) * PER_PAGE : page * PER_PAGE]
        body = (
            self.zhengceku(col, window, page, count)
            if col.key.startswith("/zhengce/zhengceku/")
            else self.news_list(col, window, page, count)
        )
        return html_response(
            200,
            f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{col.name}</title></head>
<body><div class="header"><ul class="menu"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul></div>
{body}
<div class="footer">版权所有</div></body></html>""",
        )

    def news_list(self, col: Column, docs: list[Doc], page: int, count: int) -> str:
        rows = "\n".join(
            f'<li><a href="{self.doc_paths(d)[d.columns.index(col.id)]}" title="{escape(d.title)}" target="_blank">'
            f'{escape(d.title)}</a><span class="date">[{d.date.isoformat()}]</span></li>'
            for d in docs
        )
        nxt = (
            f'<a class="next" href="list{page + 1}.htm">下一页</a>'
            if page < count
            else '<span class="next">下一页</span>'
        )
        prev = f'<a class="prev" href="list{page - 1 if page > 2 else ""}.htm">上一页</a>' if page > 1 else ""
        return f"""<div class="col-main"><h2>{col.name}</h2>
<ul class="news-list">
{rows}
</ul>
<div class="pages">{prev} <em>{page}/{count}</em> {nxt} <a class="last" href="list{count if count > 1 else ""}.htm">尾页</a></div>
</div>"""

    def zhengceku(self, col: Column, docs: list[Doc], page: int, count: int) -> str:
        rows = []
        for i, d in enumerate(docs):
            if i and i % 5 == 0:
                rows.append('<li class="line"></li>')
            rows.append(
                f'<li><h4><a href="{self.doc_paths(d)[d.columns.index(col.id)]}" target="_blank" '
                f'title="{escape(d.title)}">{escape(d.title)}</a><span class="date">{d.date.isoformat()}'
                "</span></h4></li>"
            )
        nxt = f'<a href="list{page + 1}.htm">下一页</a>' if page < count else ""
        return f"""<div class="channel_tab"><div class="noline"><a href="./">{col.name}</a></div></div>
<div class="news_box"><div class="list">
<ul>
{chr(10).join(rows)}
</ul>
</div></div>
<div class="page_box">第{page}页 共{count}页 {nxt}</div>"""

    def article_page(self, doc: Doc, path: str) -> str:
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(doc.title)}</title>
<meta name="PubDate" content="{doc.date} {doc.time}">
<meta name="ContentSource" content="{escape(doc.organ.full)}">
</head><body>
<div class="arti">
{meta_table(doc)}
<h1 class="arti_title">{escape(doc.title)}</h1>
<p class="arti_metas"><span>发布时间：{doc.date}</span><span>来源：{escape(doc.organ.full)}</span></p>
<div class="article-content">
{body_html(doc, href=lambda a: self.attachment_path(doc, a))}
</div></div>
</body></html>"""
