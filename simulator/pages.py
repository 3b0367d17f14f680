"""Article pages (Hanweb jcms template with the xxgk metadata header), the home page,
robots.txt and attachment bytes.

Article pages carry two volatile spots, `TS` (pageTimestamp) and `VC` (visit counter), left as
placeholders so the server can fill them per response; neither is inside the title, table or body.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from html import escape

from .corpus import Attachment, Doc, attachment_line
from .listing import crlf, site_metas
from .site import COLUMNS, SITE_DOMAIN, SITE_ID_CODE, SITE_NAME, WEBID, Column

TS, VC = "\x00TS\x00", "\x00VC\x00"
NBSP = "\xa0"
IDEO = "\u3000"

_CHARSET_META = {
    "utf-8": '<meta charset="UTF-8">\n    <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />',
    "gbk-meta": '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />',
    "gbk-header": "",
    "gbk-none": "",
}


def pad_label(label: str, doc: Doc) -> str:
    """Label as shown: padded with spaces, NBSP or U+3000 per document, plus its colon."""
    pad, colon = doc.style["pad"], doc.style["colon"]
    if not label:
        return ""
    nbsp = NBSP if doc.style["nbsp_raw"] else "&nbsp;"
    if len(label) <= 3 and pad != "none":
        sep = {
            "space": " ",
            "nbsp": nbsp * (4 if len(label) == 2 else 1),
            "ideo": IDEO * (2 if len(label) == 2 else 1),
        }[pad]
        label = sep.join(label)
    return label + colon


def meta_table(doc: Doc, rows=None) -> str:
    pairs = [(pad_label(escape(label), doc), escape(value)) for _c, label, value in (rows or doc.rows)]
    if len(pairs) % 2:
        pairs.append(("", ""))
    cls = doc.style["table_class"]
    th = doc.style["layout"] == "th"
    rows = []
    for i in range(0, len(pairs), 2):
        cells = ""
        for label, value in pairs[i : i + 2]:
            lab = f"<th>{label}</th>" if th else f'<td class="t" align="right">{label}</td>'
            cells += f"{lab}<td>{value}</td>"
        rows.append(f"\t<tr>{cells}</tr>\n")
    return f'<table border="0" width="90%" cellspacing="0" cellpadding="0" class="{cls}">\n{"".join(rows)}</table>\n'


INLINE_CANON = ("文号", "成文日期")  # what the `inline` variant prints in a text line instead of the table


def inline_rows(doc: Doc) -> list:
    """Rows the page gives in a text line (`发文字号：…　成文日期：…`) rather than in its table."""
    return [row for row in doc.rows if row[0] in INLINE_CANON and row[2]] if doc.style.get("inline") else []


def table_rows(doc: Doc) -> list:
    inline = inline_rows(doc)
    return [row for row in doc.rows if row not in inline]


def files_in_body(doc: Doc) -> bool:
    return doc.style.get("files", "body") == "body"


def _hidden_copy(doc: Doc) -> str:
    """The mobile copy of the metadata, hidden on the desktop page (same values)."""
    if not doc.style.get("hidden_copy"):
        return ""
    items = "".join(f"<li>{escape(label)}：{escape(value)}</li>" for _c, label, value in table_rows(doc))
    return f'<div class="m-xxgk" style="display:none"><ul>{items}</ul></div>\n'


def _inline_line(doc: Doc) -> str:
    pairs = "　".join(f"{escape(label)}：{escape(value)}" for _c, label, value in inline_rows(doc))
    return f'<p class="bt-art-fwzh">{pairs}</p>' if pairs else ""


def files_block(doc: Doc) -> str:
    """Files listed after the body: Hanweb's 相关附件 block, or only a script array the page's JS renders."""
    where = doc.style.get("files", "body")
    if not doc.attachments or where == "body":
        return ""
    if where == "script":
        apps = ", ".join(
            f"{{name:{json.dumps(a.name, ensure_ascii=False)}, url:{json.dumps(a.path)}}}" for a in doc.attachments
        )
        return f'<div id="fjlist"></div><script type="text/javascript">var apps = [{apps}];</script>'
    items = "".join(
        f'<li><a target="_blank"{f" download={chr(34)}{escape(a.download)}{chr(34)}" if a.download else ""}'
        f' href="{escape(a.path)}">{escape(a.text)}</a></li>'
        for a in doc.attachments
    )
    return f'<div class="xxgk-art-fj"><span>相关附件：</span><ul>{items}</ul></div>'


def _att_link(doc: Doc, i: int, href=None) -> str:
    a: Attachment = doc.attachments[i]
    dl = f' download="{escape(a.download)}"' if a.download else ""
    line = attachment_line(doc, i)
    prefix = escape(line[: len(line) - len(a.text)])
    return f'{prefix}<a target="_blank"{dl} href="{escape(href(a) if href else a.path)}">{escape(a.text)}</a>'


def body_html(doc: Doc, href=None, with_files: bool = True) -> str:
    """The #zoom body: paragraphs, headings, small tables and attachment links (LF, CMS-injected).
    `href(attachment)` writes a family's download link; `with_files=False` leaves the links out
    (families that list attachments in their own block after the body)."""
    out = []
    n = len(doc.body)
    for i, block in enumerate(doc.body):
        if block[0] == "att" and not with_files:
            continue
        kind = block[0]
        indent = ""
        if i in doc.style["indent"]:
            indent = IDEO * 2 if i % 2 else "&nbsp;&nbsp;"
        if kind == "table":
            trs = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for cells in block[1])
            out.append(
                f'<table border="1" cellspacing="0" cellpadding="0" style="width:100%;border-collapse:collapse;"><tbody>{trs}</tbody></table>'
            )
        elif kind == "h":
            out.append(f'<p style="text-indent:2em"><strong>{escape(block[1])}</strong></p>')
        elif kind == "att":
            out.append(f'<p style="text-indent:2em">{_att_link(doc, block[1], href)}</p>')
        elif i >= n - 2:  # signature lines
            out.append(f'<p style="text-align:right">{escape(block[1])}</p>')
        else:
            out.append(f'<p style="text-indent:2em">{indent}{escape(block[1])}</p>')
    return "\n".join(out)


def _nav(columns: tuple = COLUMNS) -> str:
    links = "".join(f'<li><a href="/col/col{c.id}/index.html">{c.name}</a></li>' for c in columns)
    return f'<ul class="bt-nav"><li><a href="/index.html">首页</a></li>{links}</ul>'


def article_page(doc: Doc, col: Column, no_metadata: bool = False, columns: tuple = COLUMNS) -> str:
    """The full article page as text (with TS/VC placeholders)."""
    d = doc.date
    path = f"/art/{d.year}/{d.month}/{d.day}/art_{col.id}_{doc.id}.html"
    title = escape(doc.title)
    first = next((b[1] for b in doc.body if b[0] == "p"), "")
    desc = escape(first[:60])
    table = "" if no_metadata else _hidden_copy(doc) + meta_table(doc, table_rows(doc))
    head = crlf(f"""<!DOCTYPE html>
<html>

<head lang="zh">
    {_CHARSET_META[doc.encoding]}
    <meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
<script language="javascript" src="/module/jslib/jquery/jquery.js"></script>
<script language="javascript" src="/module/jslib/urite/urite.min.js"></script>
<meta name='WebId' content='{WEBID}'>

    <meta name="renderer" content="webkit">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="stylesheet" href="/images/3249/bootstrap.min.css">
    <link rel="stylesheet" href="/images/3249/article.min.css">
    <title>{SITE_NAME} {col.name} {title}</title>
{site_metas(col, doc.maketime)}
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{d.isoformat()} {doc.time}">
<meta name="ContentSource" content="{escape(doc.organ.full)}">
<meta name="Keywords" content="{escape(doc.topic)}">
<meta name="Author" content="{escape(doc.organ.short)}">
<meta name="Description" content="{desc}">
<meta name="Image" content="">
<meta name="Url" content="http://{SITE_DOMAIN}{path}">
</head>

<body id="page_type" alt="文章页">
    <div id='barrierfree_container' pageTimestamp= '{TS}'>
        <div class="bt-head"><a href="/index.html"><img src="/images/3249/logo.png" alt="{SITE_NAME}"></a>
        {_nav(columns)}
        </div>
        <div class="bt-place">
            <nav aria-label="breadcrumb" class="dangq bt-box-1200">当前位置：<a href="/index.html" class="bt_link">首页</a> &gt; <a href="/col/col{col.id}/index.html" class="bt_link">{col.name}</a></nav>
        </div>
        <div class="container bt-standard16 bt-box-1200" role="main">
 <div class="bt-box-main bt-art-0001-D7 clearfix" ergodic="article">
<div class="xxgk-head">
""")
    middle = crlf(f"""</div>
<p class="bt-art-title bt-size-30"><!--<$[标题名称(html)]>begin-->{title}<!--<$[标题名称(html)]>end--></p>
<div class="bt-art-assist-title clearfix">
      <span class="bt-date">{d.isoformat()} {doc.time}</span>
      <span class="bt-source">来源：<!--<$[信息来源]>begin-->{escape(doc.organ.full)}<!--<$[信息来源]>end--></span>
      <span class="bt-count">浏览次数：<span id="artcount">{VC}</span></span>
      {"" if no_metadata else _inline_line(doc)}
</div>
<div class="bt-content zoom clearfix">
  """)
    content = (
        '<!--<$[信息内容]>begin--><!--ZJEG_RSS.content.begin--><meta name="ContentStart">'
        f'<div id="zoom">\n{body_html(doc, with_files=files_in_body(doc))}\n<p><br/></p></div>'
        '<meta name="ContentEnd"><!--ZJEG_RSS.content.end--><!--<$[信息内容]>end-->'
    )
    share = f"http%3A%2F%2F{SITE_DOMAIN}{path.replace('/', '%2F')}"
    tail = crlf(f"""
</div>
{files_block(doc)}
<div class="bt-box-part">
    <div id="share" class="col-md-3 bt-left">分享至：<a href="http://service.weibo.com/share/share.php?url={share}&title={title}">微博</a> <a href="https://sns.qzone.qq.com/cgi-bin/qzshare/cgi_qzshare_onekey?url={share}">QQ空间</a></div>
    <div class="bt-right clearfix"><span class="bt-printer" onclick="javascrpit:window.print()">【打印此页】</span><span class="bt-close" onclick="javascrpit:window.close()">【关闭窗口】</span></div>
</div>
</div>
        </div>
        <div class="bt-footer">
            <p>主办单位：开化县人民政府办公室　承办单位：开化县大数据发展中心</p>
            <p>地址：开化县芹阳办事处解放街1号　邮编：324300　联系电话：0570-6012345</p>
            <p>网站标识码：{SITE_ID_CODE}　<a href="https://beian.miit.gov.cn/" target="_blank">浙ICP备05011023号</a>　<a href="https://www.gov.cn/" target="_blank">中国政府网</a>　<a href="https://www.zj.gov.cn/" target="_blank">浙江省人民政府</a></p>
        </div>
    </div>
<!-- visitcount Begin --><iframe src='../../../../module/visitcount/visit.jsp?type=3&i_webid={WEBID}&i_columnid={col.id}&i_articleid={doc.id}' name="vishidden" id="vishidden" frameborder="0" style="width:0; height:0; display:none"></iframe><!-- visitcount End -->
<script language="javascript" src='/script/web_front.js'></script>
</body>

</html>""")
    return head + table + middle + content + tail


def home_page() -> str:
    links = "\n".join(f'<li><a href="/col/col{c.id}/index.html">{c.name}</a></li>' for c in COLUMNS)
    return crlf(f"""<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>{SITE_NAME}</title>
<meta name="SiteName" content="{SITE_NAME}"><meta name="SiteDomain" content="{SITE_DOMAIN}"><meta name="SiteIDCode" content="{SITE_ID_CODE}">
</head><body><h1>{SITE_NAME}</h1><h2>政府信息公开</h2><ul>
{links}
</ul></body></html>""")


def robots_txt(mode: str) -> tuple[int, str]:
    return {
        "allow": (200, "User-agent: *\nAllow: /\n"),
        "disallow-all": (200, "User-agent: *\nDisallow: /\n"),
        "disallow-art": (200, "User-agent: *\nDisallow: /art/\n"),
        "403": (403, "<html><body><h1>403 Forbidden</h1></body></html>"),
    }.get(mode, (404, "<html><body><h1>404 Not Found</h1></body></html>"))


ATTACH_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "wps": "application/kswps",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ofd": "application/ofd",
    "zip": "application/zip",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def attachment_bytes(filename: str, revision: int = 1) -> tuple[bytes, str]:
    """Deterministic bytes of an attachment (a few KB) with a fitting magic header; a new revision
    (the portal replaced the file) has other bytes."""
    ext = filename.rsplit(".", 1)[-1]
    r = random.Random(filename if revision == 1 else f"{filename}:r{revision}")
    payload = r.randbytes(r.randint(2000, 6000))
    if ext == "pdf":
        data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + payload + b"\n%%EOF\n"
    elif ext in ("doc", "xls", "wps"):
        data = _OLE + payload
    else:  # docx, xlsx, ofd, zip: a real zip archive
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(zipfile.ZipInfo("content.bin", date_time=(2025, 1, 1, 0, 0, 0)), payload)
        data = buf.getvalue()
    return data, ATTACH_TYPES[ext]
