"""Hanweb xxgk directory (field guide §1.2): a jcms column whose list is `/module/xxgk/search.jsp`.

The column page carries `loadDynamic('/module/xxgk/search.jsp?infotypeId=…&area=…', 'divNNN', …)` and a
`tree.jsp` iframe; the tree-only column (信息公开目录) has just the iframe, whose dTree nodes call
`funclick('<infotypeId>', …)`. search.jsp answers a form POST (query and body merged) only with
`X-Requested-With: XMLHttpRequest`, pages by `currpage` (15 rows), returns an HTML fragment whose links
carry mc (名称) / wh (文号) / rq (日期) / syh (索引号), says 共N页, and is an empty table past the end. It
does not filter by column: it lists the area's catalogue for an infotypeId (empty: all of it).
Articles are jcms pages (/art/Y/M/D/art_C_ID.html).
"""

from __future__ import annotations

import math
import re
from html import escape
from urllib.parse import urlsplit

from ..faults import Context
from ..listing import crlf, site_metas, to_int
from ..response import Response, html_response
from ..routes import Site as JcmsSite
from ..site import DAY_STAMP, ORGANS, SITE_NAME, WEBID, Column, Profile

AREA = ORGANS[0].uscc  # the catalogue's organ code (= the 索引号 prefix of 县府办)
ROWS = 15
SEARCH = "/module/xxgk/search.jsp"
TREE = "/module/xxgk/tree.jsp"
_COL = re.compile(r"^/col/col(\d+)/index\.html$")

XXGK = Profile(
    columns=(
        Column(1229500101, "政策文件", key="B001A012"),
        Column(1229500102, "通知公告", key="B001G001"),
        Column(1229500103, "规划计划", key="B001C003"),
        Column(1229500100, "信息公开目录", key=""),
    ),
    weights=(5, 4, 1, 0),
    organs=ORGANS,
    id_base=5_600_000,
)


class HanwebXxgkSite(JcmsSite):
    family = "hanweb-xxgk"
    profile = XXGK

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        p = urlsplit(path)
        m = _COL.match(p.path)
        if not m:
            raise ValueError(f"an xxgk column lives at /col/colNNN/index.html, not {path!r}")
        return Column(int(m[1]), f"目录{i + 1}", key=f"X{i + 1:03d}")

    def nodes(self) -> list[Column]:
        return [c for c in self.columns.values() if c.key]

    def serve(self, ctx: Context, params: dict) -> Response | None:
        path = ctx.path
        if path == SEARCH:
            return self.search(ctx, params)
        if path == TREE:
            return self.tree(params)
        if path == "/module/web/jpage/dataproxy.jsp":
            return None  # this portal's lists are not jpage units
        m = _COL.match(path)
        if m and int(m[1]) in self.columns:
            return self.column_page(self.columns[int(m[1])], ctx.options)
        return super().serve(ctx, params)

    # -- pages -------------------------------------------------------------------------------
    def column_page(self, col: Column, options: dict) -> Response:
        def render() -> bytes:
            maketime = f"{DAY_STAMP[self.key()]} 09:25:38"
            div = f"div{col.id}"
            tree = (
                f'<iframe src="{TREE}?divid={div}&area={AREA}&rootName=&standardXxgk=1" name="xxgktree" '
                'frameborder="0" width="100%" height="600" scrolling="auto"></iframe>'
            )
            if options.get("layout"):
                unit = '<div class="new-xxgk-2025"><p>信息公开目录已迁移</p></div>'
            elif col.key:
                query = (
                    f"infotypeId={col.key}&jdid={WEBID}&area={AREA}&divid={div}&vc_title=&vc_number="
                    "&sortfield=,compaltedate:0&currpage=1&vc_filenumber=&vc_all=&texttype=&fbtime="
                    "&standardXxgk=1&isAllList=0"
                )
                unit = (
                    f'<div class="xxgk-tree">{tree}</div><div id="{div}"></div>\n<script>\n'
                    f"loadDynamic('{SEARCH}?{query}', '{div}', 'xxgk');\n</script>"
                )
            else:
                unit = f'<div class="xxgk-tree">{tree}</div><div id="{div}"></div>'
            nav = "".join(f'<li><a href="/col/col{c.id}/index.html">{c.name}</a></li>' for c in self.columns.values())
            return crlf(f"""<!DOCTYPE html>
<html><head lang="zh">
<meta charset="UTF-8">
<script language="javascript" src="/module/jslib/jquery/jquery.js"></script>
<script language="javascript" src="/module/xxgk/js/xxgk.js"></script>
<meta name='WebId' content='{WEBID}'>
<title>{SITE_NAME} {col.name}</title>
{site_metas(col, maketime)}
</head>
<body id="page_type" alt="信息公开">
<div class="bt-head"><h1>{SITE_NAME} 政府信息公开</h1><ul class="bt-nav">{nav}</ul></div>
<div class="xxgk-main">
{unit}
</div>
<!-- visitcount Begin --><iframe src='../../module/visitcount/visit.jsp?type=2&i_webid={WEBID}&i_columnid={col.id}' name="vishidden" frameborder="0" style="width:0; height:0; display:none"></iframe><!-- visitcount End -->
</body></html>""").encode("utf-8")

        body = self.cached(("xcol", col.id, bool(options.get("layout"))), render)
        return Response(200, {"Content-Type": "text/html; charset=UTF-8"}, body)

    def tree(self, params: dict) -> Response:
        div = escape(params.get("divid", ""))
        items = "\n".join(
            f"d.add({i + 2},1,'{c.name}',\"javascript:funclick('{c.key}','{div}')\");"
            for i, c in enumerate(self.nodes())
        )
        links = "\n".join(
            f"<li><a href=\"javascript:void(0)\" onclick=\"funclick('{c.key}','{div}')\">{c.name}</a></li>"
            for c in self.nodes()
        )
        return html_response(
            200,
            crlf(f"""<html><head><meta charset="UTF-8">
<script src="/module/xxgk/js/dtree.js"></script></head>
<body><div class="dtree"><script>
d = new dTree('d');
d.add(1,-1,'主动公开目录');
{items}
document.write(d);
</script>
<noscript><ul>{links}</ul></noscript></div></body></html>"""),
        )

    def search(self, ctx: Context, params: dict) -> Response:
        if ctx.headers.get("X-Requested-With") != "XMLHttpRequest":
            return html_response(403, "<html><body><h1>403</h1><p>非法请求</p></body></html>")
        key = params.get("infotypeid", "")
        area = params.get("area", "")
        node = next((c for c in self.nodes() if c.key == key), None)
        if area not in ("", AREA) or (key and node is None):
            rows = []
        elif node is None:
            docs = sorted(self.docs().values(), key=lambda d: (d.date, d.id), reverse=True)
            rows = [(d, d.columns[0]) for d in docs]
        else:
            rows = [(d, node.id) for d in self.column_docs(node.id)]
        page = max(1, to_int(params.get("currpage"), 1))
        pages_total = max(1, math.ceil(len(rows) / ROWS))
        host = ctx.headers.get("Host", "")
        trs = "".join(self._row(i, d, col, host) for i, (d, col) in enumerate(rows[(page - 1) * ROWS : page * ROWS]))
        html = (
            f'<table width="100%" border="0" cellspacing="0" cellpadding="0" class="xxgk_list">\n'
            '<tr class="tr_main_title"><td>序号</td><td>名称</td><td>文号</td><td>发布日期</td></tr>\n'
            f"{trs}</table>\n"
            f'<table class="xxgk_pager"><tr><td>共{len(rows)}条记录 共{pages_total}页 当前第{page}页</td>'
            f'<td><a href="javascript:void(0)" onclick="goPage({min(page + 1, pages_total)})">下一页</a></td>'
            "</tr></table>"
        )
        return html_response(200, html)

    def _row(self, i: int, doc, column_id: int, host: str) -> str:
        d = doc.date
        href = f"http://{host}/art/{d.year}/{d.month}/{d.day}/art_{column_id}_{doc.id}.html"
        title = doc.title
        shown = title if len(title) <= 24 else title[:24] + "..."
        cls = "tr_main_value_odd" if i % 2 == 0 else "tr_main_value_even"
        attrs = (
            f'mc="{escape(title)}" wh="{escape(doc.value("文号") or "")}" rq="{d.isoformat()}" '
            f'syh="{escape(doc.value("索引号") or "")}"'
        )
        return (
            f'<tr class="{cls}"><td>{i + 1}</td><td><a href="{href}" target="_blank" {attrs}>{escape(shown)}</a>'
            f"</td><td>{escape(doc.value('文号') or '')}</td><td>{d.isoformat()}</td></tr>\n"
        )

    def list_values(self, doc) -> dict:
        return {}
