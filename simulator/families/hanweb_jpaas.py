"""Hanweb jpaas, the Zhejiang 集约化 platform (field guide §1.3), shaped on the saved fzggw.zj.gov.cn pages.

The column page is a shell: `<script src=".../unitbuild.js" url="/api-gateway/jpaas-publish-server/front/
page/build/unit" queryData="{'webId':…,'pageId':…}">`. The unit API answers JSON {"data":{"html":…}} whose
html holds `li` items (anchor text truncated with "...", the full title in @title; links either
/col/col{C}/art/YYYY/art_<32hex>.html or migrated protocol-relative //host/art/Y/M/D/art_C_ID.html) and a
pagination table with count= and rows=. It pages ONLY through paramJson={"pageNo":N,"pageSize":…}:
bare pageNo/page/currentPage are ignored (page 1 again). Articles carry the table.xxgktab header,
#zoom.main-txt body, downloads through /api-gateway/jpaas-web-server/front/document/download?fileUrl=…
&fileName=… and an a#zcjdlink 解读 link.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
from html import escape
from urllib.parse import quote

from ..corpus import Doc, _rng
from ..faults import Context
from ..listing import to_int
from ..pages import body_html
from ..response import Response, html_response
from ..site import Column, Profile
from .base import JSON, FamilySite, organ

WEB_ID, TPL_SET = "3185", "o0YcVHHq5vWtr3uiCp4SY"
SITE_NAME, SITE_CODE = "浙江省发展和改革委员会", "3300000020"
UNIT_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
DOWNLOAD = "/api-gateway/jpaas-web-server/front/document/download"
MAX_ROWS = 100
_COL = re.compile(r"^/col/col(\d+)/index\.html$")

JPAAS = Profile(
    columns=(Column(1229565788, "行政规范性文件"), Column(1229123351, "其他文件"), Column(1599544, "通知公告")),
    weights=(3, 4, 3),
    organs=(
        organ("省发展改革委", "浙江省发展和改革委员会", "1133000000248203", "浙发改", ("营商环境", "乡村振兴")),
        organ("省能源局", "浙江省能源局", "11330000MB1A2B3C", "浙能源", ("生态环境", "安全生产")),
        organ("省物价局", "浙江省物价局", "1133000000248211", "浙价", ("市场监管", "财政管理")),
    ),
    id_base=2_540_000,
)


def art_hex(doc: Doc, column_id: int) -> str:
    return hashlib.md5(f"jpaas:{doc.id}:{column_id}".encode()).hexdigest()


def migrated(doc: Doc) -> bool:
    """Articles moved over from the old jcms keep their /art/Y/M/D/art_C_ID.html address."""
    return doc.id % 5 == 0


class HanwebJpaasSite(FamilySite):
    family = "hanweb-jpaas"
    profile = JPAAS
    server = "nginx"

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        m = _COL.match(path)
        if not m:
            raise ValueError(f"a jpaas column lives at /col/colNNN/index.html, not {path!r}")
        return Column(int(m[1]), f"栏目{i + 1}")

    def default_paths(self) -> list[str]:
        return [f"/col/col{c}/index.html" for c in self.columns]

    def doc_paths(self, doc: Doc) -> list[str]:
        d = doc.date
        if migrated(doc):
            return [f"/art/{d.year}/{d.month}/{d.day}/art_{c}_{doc.id}.html" for c in doc.columns]
        return [f"/col/col{c}/art/{d.year}/art_{art_hex(doc, c)}.html" for c in doc.columns]

    def attachment_path(self, doc: Doc, att) -> str:
        return (
            f"{DOWNLOAD}?fileUrl={quote(base64.b64encode(att.filename.encode()).decode(), safe='')}"
            f"&fileName={quote(self.file_param(att), safe='')}"
        )

    @staticmethod
    def file_param(att) -> str:
        ext = att.filename.rsplit(".", 1)[1]
        return att.text if att.text.endswith(f".{ext}") else f"{att.text}.{ext}"

    def attachment_name(self, att) -> str:
        return att.download or self.file_param(att)

    # -- serving -------------------------------------------------------------------------------
    def serve(self, ctx: Context, params: dict) -> Response | None:
        path = ctx.path
        if path == UNIT_API:
            return self.unit(params, ctx)
        if path == DOWNLOAD:
            try:
                return self.file(base64.b64decode(params.get("fileurl", "")).decode())
            except ValueError:
                return None
        m = _COL.match(path)
        if m and int(m[1]) in self.columns:
            return html_response(200, self.cached(("shell", m[1]), lambda: self.shell(self.columns[int(m[1])])))
        resp = self.stored(path)
        if resp is not None:  # the visit counter grows per request
            resp.body = resp.body.replace(b"\x00VC\x00", self.visits(self.doc_at(path)).encode())
        return resp

    def shell(self, col: Column) -> str:
        query = (
            f"{{'parseType':'bulidstatic','webId':'{WEB_ID}','tplSetId':'{TPL_SET}','pageType':'column',"
            f"'tagId':'信息列表','editType':'null','pageId':'{col.id}'}}"
        )
        unit = hashlib.md5(f"unit:{col.id}".encode()).hexdigest()
        return f"""<!DOCTYPE html>
<html>
<head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<script src="/cms_files/default/script/jslib/jquery.js"></script>
<title>{col.name}</title>
<meta name="ColId" content="{col.id}">
<meta name="SiteName" content="{SITE_NAME}">
<meta name="SiteDomain" content="fzggw.zj.gov.cn">
<meta name="SiteIDCode" content="{SITE_CODE}">
<meta name="ColumnName" content="{col.name}">
<meta name="ColumnType" content="{col.name}">
<meta id="pagetype" content="2">
</head>
<body><div id='barrierfree_container' pageTimestamp= '{self.stamp()}'>
<script src="/cms_files/jcms1/web{WEB_ID}/site/script/0/1901171025024660.js"></script>
<div class="position"><a href="/index.html">首页</a> &gt; <a href="/col/col{col.id}/index.html">{col.name}</a></div>
<div class="bt-column-cen">
<script>
var authorizedReadUnitId = "{unit}";
</script><script id="{unit}" src="/cms_files/default/script/AuthorizedRead/unitbuild.js?v=4.5.12.1-ZJSJYH-U45" webId="{WEB_ID}" parseType="bulidstatic" url="{UNIT_API}" queryData="{query}"></script>
</div>
</div></body>
</html>
"""

    def unit(self, params: dict, ctx: Context) -> Response:
        col = self.columns.get(to_int(params.get("pageid"), 0))
        if col is None or params.get("webid") != WEB_ID:
            return Response(
                200,
                {"Content-Type": JSON},
                json.dumps(
                    {"success": False, "message": "页面不存在", "code": "500", "data": None}, ensure_ascii=False
                ).encode(),
            )
        try:
            paging = json.loads(params.get("paramjson") or "{}")
        except ValueError:
            paging = {}
        if not isinstance(paging, dict):
            paging = {}
        page = max(1, to_int(paging.get("pageNo"), 1))  # bare pageNo / page / currentPage: ignored
        rows = min(MAX_ROWS, max(1, to_int(paging.get("pageSize"), 15)))
        docs = [] if ctx.options.get("empty") else self.column_docs(col.id)
        host = ctx.headers.get("Host", "")
        items = "".join(self._item(d, col.id, host) for d in docs[(page - 1) * rows : page * rows])
        query = (
            f"{{'webId':'{WEB_ID}','pageId':'{col.id}','parseType':'bulidstatic','pageType':'column',"
            f"'tagId': '信息列表', 'tplSetId': '{TPL_SET}'}}"
        )
        html = (
            f'<ul>  <div id="信息列表">\n    <div class="page-content">\n{items}\n    </div>\n  </div>\n</ul>\n'
            f'<table class="pagination default_pgToolbar" width="100%" border="0" cellpadding="0" '
            f'cellspacing="0" newPagination="1" queryData="{query}" rows="{rows}" unitid="信息列表" '
            f'count="{len(docs)}" pageNo="{page}" unitUrl="{UNIT_API}"><tbody><tr><td>第 {page} 页 / 共 '
            f"{max(1, math.ceil(len(docs) / rows))} 页</td></tr></tbody></table>"
        )
        if ctx.options.get("layout"):
            html = '<div class="new-list-2025">栏目改版中</div>'
        body = {
            "roles": None,
            "permissions": None,
            "success": True,
            "message": "生成成功",
            "code": "200",
            "data": {"html": html},
            "traceId": hashlib.md5(f"{col.id}:{page}".encode()).hexdigest(),
            "messageType": 2,
        }
        return Response(200, {"Content-Type": JSON}, json.dumps(body, ensure_ascii=False).encode())

    def _item(self, doc: Doc, column_id: int, host: str) -> str:
        path = self.doc_paths(doc)[doc.columns.index(column_id)]
        href = f"//{host}{path}" if migrated(doc) else path
        title = doc.title
        shown = title if len(title) <= 30 else title[:30] + "..."
        return (
            f'\n      <li class="clearfix"><a class="bt-left" title="{escape(title)}" href="{href}" '
            f'target="_blank">{escape(shown)}</a><span class="bt-right">{doc.date.isoformat()}</span></li>\n'
        )

    # -- articles ---------------------------------------------------------------------------------
    def rows(self, doc: Doc) -> list[tuple[str, str, str]]:
        r = _rng(self.corpus.seed, "jpaas-rows", doc.id)
        stamp = doc.date - dt.timedelta(days=r.randint(0, 4))  # 生成日期: the written date (as on the real page)
        doc_no = doc.value("文号") or ""
        unified = f"ZJSP-02-{doc.date.year}-{doc.id % 10000:04d}" if doc_no and r.random() < 0.5 else ""
        return [
            ("索引号", "索引号", doc.value("索引号") or ""),
            ("组配分类", "组配分类", doc.value("组配分类") or "其他文件"),
            ("发布单位", "发布机构", doc.organ.short),
            ("成文日期", "生成日期", stamp.isoformat()),
            ("文号", "文件编号", doc_no),
            ("统一编号", "统一编号", unified),
            ("有效性", "有效性", doc.value("有效性") or ""),
        ]

    def page_values(self, doc: Doc) -> dict:
        return {"publish_date": doc.date.isoformat()}  # <meta PubDate>, not 生成日期

    def article_page(self, doc: Doc, path: str) -> str:
        pairs = self.rows(doc)
        cells = [f'<td height="25" align="right">{label}：</td><td>{escape(value)}</td>' for _c, label, value in pairs]
        cells.append('<td align="right"></td><td></td>')
        trs = "".join(f"\n\t<tr>\n\t\t{cells[i]}\n\t\t{cells[i + 1]}\n\t</tr>" for i in range(0, len(cells) - 1, 2))
        d = doc.date
        jd = ""
        if doc.id % 7 == 0:
            jd = (
                f'<table style="width:100%;"><tr><td align="right"><a id="zcjdlink" target="_blank" '
                f'href="/col/col1229602268/art/{d.year}/art_{art_hex(doc, 1229602268)}.html"><img '
                'src="/cms_files/jcms1/web3185/site/picture/0/1905221443169361025.png" width="86" height="26" />'
                "</a></td></tr></table>"
            )
        zoom = body_html(doc, href=lambda a: self.attachment_path(doc, a))
        return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>{escape(doc.title)}</title>
<meta name="SiteName" content="{SITE_NAME}">
<meta name="SiteDomain" content="fzggw.zj.gov.cn">
<meta name="SiteIDCode" content="{SITE_CODE}">
<meta name="ColId" content="{doc.columns[0]}">
<meta name="ArticleTitle" content="{escape(doc.title)}">
<meta name="PubDate" content="{d.isoformat()} {doc.time}">
<meta name="ContentSource" content="{escape(doc.organ.full)}">
<meta id="pagetype" content="1">
</head>
<body><div id='barrierfree_container' pageTimestamp= '{doc.maketime}'>
<div class="position"><a href="/index.html">首页</a> &gt; <a href="/col/col{doc.columns[0]}/index.html">栏目</a></div>
<div class="wz-con bt-box-1200">
<div class="con">
    <table border="0" width="90%" class="xxgktab">{trs}
</table>
    <p class="con-title"> {escape(doc.title)}</p>
    <div class="small-title clearfix">
        <span>发布日期：{d.isoformat()} {doc.time}
</span>
<span>信息来源：{escape(doc.organ.short)}</span>
        <span>浏览次数：<lable id="artcount">\x00VC\x00</lable> </span>
    </div>
    {jd}
    <div class="main-txt" id="zoom">
{zoom}
    </div>
    <div class="main-word"><span class="printer" onclick="javascrpit:window.print()">打印</span></div>
</div>
</div>
</div></body>
</html>
"""
