"""Hanweb jcms list rendering: records, the column page with embedded jpage datastores, and
the `dataproxy.jsp` XML (structure copied from the saved fzggw.jiangsu.gov.cn column page).

Template-authored parts use CRLF, CMS-injected parts (records) use LF, as on real portals.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from .corpus import Doc
from .site import COLUMNS, SITE_DOMAIN, SITE_ID_CODE, SITE_NAME, WEBID, Column

PER_PAGE, GROUP_SIZE = 15, 3
MAX_WINDOW = 300
WEBNAME_2X = quote(quote(SITE_NAME))  # webname is URL-encoded twice in the nextgroup link


def crlf(s: str) -> str:
    return s.replace("\n", "\r\n")


def site_metas(col: Column, maketime: str) -> str:
    """Maketime plus the site and column part of the standard meta set (LF; callers convert)."""
    metas = [
        ("SiteName", SITE_NAME),
        ("SiteDomain", SITE_DOMAIN),
        ("SiteIDCode", SITE_ID_CODE),
        ("ColumnName", col.name),
        ("ColumnDescription", ""),
        ("ColumnKeywords", ""),
        ("ColumnType", ""),
    ]
    return f"<meta name='Maketime' content='{maketime}'>\n" + "\n".join(
        f'<meta name="{name}" content="{value}">' for name, value in metas
    )


def record(doc: Doc, column_id: int) -> str:
    """One `<record>`; attribute order, quoting and date markup vary per document."""
    d = doc.date
    href = f"/art/{d.year}/{d.month}/{d.day}/art_{column_id}_{doc.id}.html"
    t = escape(doc.title)
    style = doc.style["record"]
    if style == 0:  # title first, single quotes (Jiangsu)
        li = (
            f'<li class="clearfix bt-list-new"><a title=\'{t}\' target="_blank" href="{href}">'
            f'            {t}</a><span class="bt-list-time">{d.isoformat()}</span>    </li>    '
        )
        return f"<record><![CDATA[\n    {li}]]></record>"
    if style == 1:  # href first, double quotes, anchor text may be truncated
        shown = escape(doc.title[:26] + "…") if len(doc.title) > 28 else t
        li = f'<li><a href="{href}" title="{t}" target="_blank">{shown}</a><span>{d.isoformat()}</span></li>'
        return f"<record><![CDATA[{li}]]></record>"
    li = (
        f'<li class="cf"><a target="_blank" href="{href}">{t}</a><span class="bt-list-time">{d.isoformat()}</span></li>'
    )
    return f"<record><![CDATA[{li}]]></record>"


def param_object(col: Column, unit: int) -> str:
    return (
        f"{{col:1,appid:'1',webid:{WEBID},path:'/',columnid:{col.id},sourceContentType:1,"
        f"unitid:'{unit}',webname:'{SITE_NAME}',permissiontype:0}}"
    )


def _jpage_call(unit: int, theme: str, mode: str, total: int, with_store: bool) -> str:
    store = f"dataStore:$('#{unit}').children('script').html()," if with_store else ""
    return (
        f"$('#{unit}').jpage({{themeName:'{theme}',showMode:'{mode}',totalRecord:{total},openCookies:false,"
        f"dataBefore:'<ul class=\"column-list bt-all bt-lists-cover\">    ',{store}dataAfter:'</ul>',"
        f"groupSize:{GROUP_SIZE},proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:{PER_PAGE},"
        f"barPosition:'bottom',ajaxParam:param_{unit}}});"
    )


def unit_block(col: Column, unit: int, docs: list[Doc], mobile: bool) -> str:
    """`<div id=UNIT>` with the first group embedded, then the param object and jpage calls."""
    theme, mode = ("lucidity", "mini") if mobile else ("default", "full")
    nextgroup = (
        f"/module/web/jpage/dataproxy.jsp?page=1&appid=1&appid=1&webid={WEBID}&path=/"
        f"&columnid={col.id}&unitid={unit}&webname={WEBNAME_2X}&permissiontype=0"
    )
    records = "\n".join(record(d, col.id) for d in docs[: PER_PAGE * GROUP_SIZE])
    head = crlf(
        f'<div id="{unit}"><script type="text/xml"><datastore>\n'
        f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>\n<recordset>\n'
        '<ul class="column-list bt-all bt-lists-cover">\n    \n</ul>\n'
    )
    script = (
        f'<link rel="stylesheet" type="text/css" href="/module/web/jpage/theme/{theme}/css/jpage.css"/>'
        '<script language="javascript" src="/module/jslib/datepicker/WdatePicker.js"></script>'
        '<script language="javascript" src="/module/jslib/jquery/cookie/jquery.cookie.js"></script>'
        '<script language="javascript" src="/module/web/jpage/jquery.jpage.js"></script>'
        f"<script>var param_{unit} = {param_object(col, unit)}; function jpage_{unit}()"
        f"{{$('#jpageform_{unit} :input').each(function(){{param_{unit}[$(this).attr('name')]=$(this).val();}});"
        f"{_jpage_call(unit, theme, mode, 1000, False)}}};"
        f"$(function(){{{_jpage_call(unit, theme, mode, len(docs), True)}}});</script>"
    )
    return head + records + "\n" + crlf("</recordset>\n</datastore></script></div>") + script


def redesigned_list(col: Column, docs: list[Doc]) -> str:
    """A column after a site redesign: a plain server-rendered list, no jpage unit, no datastore."""
    rows = "".join(
        f'<li><a href="{d.url_paths()[0]}" title="{d.title}">{d.title}</a><span>{d.date.isoformat()}</span></li>\n'
        for d in docs[:20]
    )
    return f'<div class="new-list-2025"><ul>\n{rows}</ul><div class="pager">共{len(docs)}条</div></div>'


def column_page(col: Column, docs: list[Doc], maketime: str, redesigned: bool = False, columns: tuple = COLUMNS) -> str:
    nav = "\n".join(
        f'<a href="/col/col{c.id}/index.html" class="list-group-item list-group-item-action '
        f'col-sm-6 col-md-12">{c.name}</a>\n'
        for c in columns
    )
    top = crlf(f"""<!DOCTYPE html>
<html>
<head lang="zh">
  <meta charset="UTF-8">
  <meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
  <meta http-equiv="Content-Type" content="text/html; charset=utf-8" /><script language="javascript" src="/module/jslib/jquery/jquery.js"></script>
<script language="javascript" src="/module/jslib/urite/urite.min.js"></script>
<meta name='WebId' content='{WEBID}'>

  <meta name="renderer" content="webkit">
  <meta http-equiv="pragma" content="no-cache">
  <meta name="viewport" content="width=device-width, initial-scale=1">
   <link href="/images/3248/bootstrap.min.css" rel="stylesheet">
   <link href="/images/3248/column.min.css" rel="stylesheet">

<title>{SITE_NAME} {col.name}</title>
{site_metas(col, maketime)}
<meta name="server" content="http://{SITE_DOMAIN}/col/col{col.id}/index.html,,">
</head>
<body id="page_type" alt="综合页" class="bt-col-0001-C5">
    <div class="b-container">
    <div class="bt-place">
        <nav aria-label="breadcrumb" class="dangq bt-box-1200">
          <table cellspacing="0"cellpadding="0"border="0"><tr><td><a href="/index.html"class="bt_link">首页</a></td><td class="shouye"><table width="100%" cellspacing="0" cellpadding="0" border="0">
<tr>
<td>><a href="/col/col1229402400/index.html"class="bt_link">政府信息公开</a></td><td>><a href="/col/col{col.id}/index.html"class="bt_link">{col.name}</a></td>
</tr></table></td></tr></table>
        </nav>
      </div>
    <div class="container  bt-box-1200 theme-showcase" role="main" ergodic="navigation">
        <div class="row cf">
          <div class="col-sm-12 col-md-3">
            <h4 class="bt-col-flm">政府信息公开</h4>
            <div class="list-group clearfix row" ergodic="navigation">
{nav}
            </div>
          </div>
         <div class="col-sm-12 col-md-9 bt-allUnder-18 pclist">
          """)
    mid = crlf("""
        </div>
        <div class="col-sm-12 col-md-9 bt-allUnder-18 moblist">
          """)
    bottom = crlf(f"""
        </div>
        </div>
      </div>
    <div class="bt-height-30"></div>
  </div>
  <script id='barrierfree' src='/module/jslib/accessiblereading/load.js'></script>
<!-- visitcount Begin --><iframe src='../../module/visitcount/visit.jsp?type=2&i_webid={WEBID}&i_columnid={col.id}' name="vishidden" id="vishidden" frameborder="0" style="width:0; height:0; display:none"></iframe><!-- visitcount End -->
<script language="javascript" src='/script/web_front.js'></script>
</body>
</html>""")
    if redesigned:
        return top + redesigned_list(col, docs) + mid + bottom
    return top + unit_block(col, col.pc_unit, docs, False) + mid + unit_block(col, col.mobile_unit, docs, True) + bottom


def dataproxy_xml(col_docs: list[Doc] | None, column_id: int, params: dict) -> str:
    """The dataproxy answer. `col_docs` None means unknown column/unit: empty, total 0."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
    if col_docs is None:
        return head + "<totalrecord>0</totalrecord>\n<recordset/>\n</datastore>"
    total = len(col_docs)
    perpage = min(MAX_WINDOW, max(1, to_int(params.get("perpage"), PER_PAGE * GROUP_SIZE)))
    if "startrecord" in params:
        start = max(1, to_int(params.get("startrecord"), 1))
        end = to_int(params.get("endrecord"), start + perpage - 1)
        end = min(end, start + MAX_WINDOW - 1)
        window, extra = col_docs[start - 1 : end], ""
    else:
        page = max(1, to_int(params.get("page"), 1))
        window = col_docs[(page - 1) * perpage : page * perpage]
        extra = f"<totalpage>{-(-total // perpage)}</totalpage>\n"
    records = "".join("\n" + record(d, column_id) for d in window)
    return head + f"<totalrecord>{total}</totalrecord>\n{extra}<recordset>{records}</recordset>\n</datastore>"


def to_int(v, default: int) -> int:
    try:
        return int(str(v).strip().strip("'\""))
    except (TypeError, ValueError):
        return default
