"""TRS WCM static publishing (field guide §1.4), shaped on the saved www.ndrc.gov.cn list and article.

A column is a folder: page 0 is index.{ext}, page i is index_i.{ext} for i = 1 … N−1, where N is the
first argument of `createPageHTML(N, i, "index", "{ext}")` (one column declares `var countPage = N`
instead); ext is html, htm or shtml; past N−1 the server answers 404. Rows are `ul.u-list li` with
`./YYYYMM/tYYYYMMDD_ID.{ext}` links, a `.popbox` of 解读 links that point out of the column
(../../jd/jd/…) and a `YYYY/MM/DD` span, with `li.empty` every 5 rows. Articles: <!--startprint-->,
h2.article_title, div.article_con > div.TRS_Editor, attachments ./P0….{pdf,ofd,…} in div.attachment;
most carry an xxgk metadata table, some (as ndrc) only <meta>.
"""

from __future__ import annotations

import math
import re
from html import escape

from ..corpus import Doc
from ..faults import Context
from ..pages import body_html
from ..response import Response, html_response
from ..site import Column, Profile
from .base import FamilySite, file_label, organ

PER_PAGE = 25
SITE_NAME = "国家发展和改革委员会"
_PAGE = re.compile(r"^(/.*/)index(?:_(\d+))?\.(html|htm|shtml)$")

TRS = Profile(
    columns=(
        Column(1, "通知", key="/xxgk/zcfb/tz/index.html"),
        Column(2, "公告", key="/xxgk/zcfb/gg/index.htm"),
        Column(3, "规范性文件", key="/xxgk/zcfb/ghxwj/index.shtml"),
    ),
    weights=(5, 3, 2),
    organs=(
        organ("经贸司", "国家发展改革委经济贸易司", "00001398", "发改经贸", ("营商环境", "市场监管")),
        organ("价格司", "国家发展改革委价格司", "00001399", "发改价格", ("市场监管", "财政管理")),
        organ("环资司", "国家发展改革委资源节约和环境保护司", "00001400", "发改环资", ("生态环境", "安全生产")),
    ),
    id_base=1_400_000,
)


def folder(col: Column) -> str:
    return col.key.rsplit("/", 1)[0] + "/"


def ext_of(col: Column) -> str:
    return col.key.rsplit(".", 1)[1]


def has_table(doc: Doc) -> bool:
    """Most TRS disclosure pages carry the xxgk table; some (as ndrc's) only <meta> tags."""
    return doc.id % 10 >= 3


class TrsStaticSite(FamilySite):
    family = "trs-static"
    profile = TRS
    server = "TRS/WCM"

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        if path.endswith("/"):
            path += "index.html"
        if not _PAGE.match(path):
            raise ValueError(f"a TRS column is a folder's index.html/.htm/.shtml, not {path!r}")
        return Column(i + 1, f"栏目{i + 1}", key=path)

    def default_paths(self) -> list[str]:
        return [c.key for c in self.columns.values()]

    def doc_paths(self, doc: Doc) -> list[str]:
        d = doc.date
        return [
            f"{folder(self.columns[c])}{d:%Y%m}/t{d:%Y%m%d}_{doc.id}.{ext_of(self.columns[c])}" for c in doc.columns
        ]

    def attachment_path(self, doc: Doc, att) -> str:
        d = doc.date
        serial = int(att.filename.split(".")[0][:12], 16) % 10**12
        return (
            f"{folder(self.columns[doc.columns[0]])}{d:%Y%m}/P0{d:%Y%m%d}{serial:012d}.{att.filename.rsplit('.', 1)[1]}"
        )

    def attachment_name(self, att) -> str:
        return att.download or file_label(att)

    def body_lines(self, doc: Doc) -> list[str]:
        return doc.body_lines(with_files=False)

    def rows(self, doc: Doc) -> list[tuple[str, str, str]]:
        if not has_table(doc):
            return []
        return [
            ("索引号", "索引号", doc.value("索引号") or ""),
            ("主题分类", "主题分类", doc.value("主题分类") or ""),
            ("发布单位", "发布机构", doc.organ.short),
            ("成文日期", "成文日期", doc.value("成文日期") or ""),
            ("文号", "文号", doc.value("文号") or ""),
            ("公开日期", "发布日期", doc.date.isoformat()),
        ]

    def page_values(self, doc: Doc) -> dict:
        return {"publish_date": doc.date.isoformat(), "publisher": doc.organ.short}

    # -- serving -------------------------------------------------------------------------------
    def serve(self, ctx: Context, params: dict) -> Response | None:
        if ctx.path.endswith("/"):  # the folder itself: its index page
            col = next((c for c in self.columns.values() if folder(c) == ctx.path), None)
            return self.list_page(col, 0, ctx.options) if col else None
        m = _PAGE.match(ctx.path)
        col = next((c for c in self.columns.values() if m and folder(c) == m[1] and ext_of(c) == m[3]), None)
        if col is not None and m[2] != "0":  # there is no index_0
            return self.list_page(col, int(m[2] or 0), ctx.options)
        return self.stored(ctx.path)

    def list_page(self, col: Column, page: int, options: dict) -> Response | None:
        docs = [] if options.get("empty") else self.column_docs(col.id)
        count = max(1, math.ceil(len(docs) / PER_PAGE))
        if page >= count:
            return None  # past the end: 404
        rows = []
        for i, doc in enumerate(docs[page * PER_PAGE : (page + 1) * PER_PAGE]):
            if i and i % 5 == 0:
                rows.append('                <li class="empty"></li>')
            rows.append(self._row(doc, col))
        ext = ext_of(col)
        if col.id % 3 == 0:  # older template: only `var countPage`, its own pager
            nxt = f'<a href="index_{page + 1}.{ext}">下一页</a>' if page + 1 < count else ""
            pager = (
                f'<script type="text/javascript">var countPage = {count}//共多少页\nvar currentPage = {page};'
                f"</script>{nxt}"
            )
        else:
            pager = (
                f'<script type="text/javascript">\n                    <!--\n                    '
                f'createPageHTML({count}, {page}, "index", "{ext}");\n                    //-->\n'
                "                </script>"
            )
        if options.get("layout"):
            rows, pager = ['<div class="redesign">本栏目已改版</div>'], ""
        html = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
    <meta charset="UTF-8">
    <title>{col.name}_{SITE_NAME}</title>
    <meta name="SiteName" content="{SITE_NAME}">
    <meta name="ColumnName" content="{col.name}">
    <link href="../../../images/column.css" rel="stylesheet" type="text/css">
</head>
<body>
<div class="container">
    <div class="list">
        <ul class="u-list">
{chr(10).join(rows)}
        </ul>
        <p class="clr"></p>
        <div class="page">
            <ul>
                {pager}
            </ul>
        </div>
    </div>
</div>
<script src="../../../images/common.js"></script>
</body>
</html>
"""
        return html_response(200, html)

    def _file_href(self, doc: Doc, att, page_path: str) -> str:
        """./P0… beside the article; absolute when the article is served from a second column's folder."""
        target = self.attachment_path(doc, att)
        here, there = page_path.rsplit("/", 1)[0], target.rsplit("/", 1)[0]
        return "./" + target.rsplit("/", 1)[1] if here == there else target

    def _row(self, doc: Doc, col: Column) -> str:
        d = doc.date
        href = f"./{d:%Y%m}/t{d:%Y%m%d}_{doc.id}.{ext_of(col)}"
        title = escape(doc.title)
        jd = ""
        if doc.id % 3 == 0:
            jd = (
                f'\n                                    <li><a href="../../jd/jd/{d:%Y%m}/t{d:%Y%m%d}_{doc.id + 1}.html" '
                f'target="_blank" title="有关负责同志就{title}答记者问">有关负责同志就{title}答记者问</a></li>'
            )
        return f"""                    <li><a href="{href}" target="_blank" title="{title}">{title}</a>
                        <script>
                            var jdFlag={1 if jd else 0};
                        </script>
                        <div class="popbox">
                            <div class="close" title="关闭"></div>
                            <h3 title="相关解读">相关解读</h3>
                            <ul>{jd}
                            </ul>
                        </div>
                        <span>{d:%Y/%m/%d}</span></li>"""

    def article_page(self, doc: Doc, path: str) -> str:
        d = doc.date
        rows = self.rows(doc)
        table = ""
        if rows:
            cells = [f'<td class="t">{label}：</td><td>{escape(value)}</td>' for _c, label, value in rows]
            trs = "".join(f"<tr>{cells[i]}{cells[i + 1]}</tr>\n" for i in range(0, len(cells), 2))
            table = f'<div class="xxgk-head"><table class="xxgk_table" width="100%">\n{trs}</table></div>'
        files = "".join(
            f'<a href="{self._file_href(doc, a, path)}"'
            + (f' download="{escape(a.download)}"' if a.download else "")
            + f">{escape(file_label(a))}</a><BR>"
            for a in doc.attachments
        )
        files = f'<div class="attachment">附件：{files}</div>' if files else ""
        return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<title>{escape(doc.title)}_{SITE_NAME}</title>
<meta name="SiteName" content="{SITE_NAME}">
<meta name="ArticleTitle" content="{escape(doc.title)}">
<meta name="PubDate" content="{d.isoformat()} {doc.time}">
<meta name="ContentSource" content="{escape(doc.organ.short)}">
</head>
<body>
<div class="container">
<!--startprint-->
{table}
<div class="article">
    <h2 class="article_title">{escape(doc.title)}</h2>
    <div class="time"><span>发布时间：{d:%Y/%m/%d}</span><span>来源：{escape(doc.organ.short)}</span></div>
    <div class="article_con"><div class=TRS_Editor>
{body_html(doc, with_files=False)}
    </div></div>
    {files}
</div>
<!--endprint-->
</div>
</body>
</html>
"""
