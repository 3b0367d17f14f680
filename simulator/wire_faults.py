"""Transport-level faults: redirects, cookie walls, slow drip, endless bodies, gzip bombs, bad types."""

from __future__ import annotations

import html
import json
import re
import zlib
from functools import lru_cache

from .response import Response

COOKIE = "CT6T"


def redirect_loop(ctx, **_) -> Response:
    """A 302 back to the same URL, for ever."""
    return Response(302, {"Location": ctx.target, "Content-Type": "text/html"}, b"")


def redirect_offsite(ctx, host: str = "127.0.0.254", **_) -> Response:
    """A 302 to another host (the crawler must not follow it)."""
    return Response(302, {"Location": f"http://{host}:{ctx.port or 80}{ctx.target}"}, b"")


def cookie_wall(ctx, **_):
    """openresty CT6T style: without the cookie, a 302 to itself that sets it; with it, the page."""
    if f"{COOKIE}=" in ctx.headers.get("cookie", ""):
        return None
    token = zlib.crc32(ctx.target.encode()) & 0xFFFFFFFF
    return Response(302, {"Location": ctx.target, "Set-Cookie": f"{COOKIE}={token:08x}; Path=/"}, b"")


def drip(ctx, chunk: int = 512, seconds: float = 0.02, **_) -> None:
    """Send the normal body slowly: `chunk` bytes every `seconds`."""

    def slow(resp: Response) -> Response:
        resp.action, resp.drip = "drip", (int(chunk), float(seconds))
        return resp

    ctx.transforms.append(slow)


def endless(ctx, **_) -> Response:
    """200, chunked, and the body never ends (until the client hangs up)."""
    return Response(200, {"Content-Type": "text/html; charset=UTF-8"}, action="endless")


@lru_cache(maxsize=2)
def _bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    block = b"\0" * (1 << 20)
    parts = [comp.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + comp.flush()


def gzip_bomb(ctx, size: int = 1 << 30, **_) -> Response:
    """A ~1 MB gzip body that inflates to `size` bytes (1 GiB by default)."""
    return Response(200, {"Content-Type": "text/html; charset=UTF-8", "Content-Encoding": "gzip"}, _bomb(int(size)))


def wrong_type(ctx, content_type: str = "application/octet-stream", **_) -> None:
    """The real page, labelled with the wrong Content-Type (and no charset)."""

    def relabel(resp: Response) -> Response:
        resp.headers["Content-Type"] = content_type
        return resp

    ctx.transforms.append(relabel)


_CLOSE_P = re.compile(rb"</p>", re.I)


def malformed_html(ctx, **_) -> None:
    """Broken but recoverable markup, as real CMS output often is: no </p>, stray closing tags,
    unquoted attributes, no </body></html>. An HTML5 parser reads the same content from it."""

    def mangle(resp: Response) -> Response:
        body = _CLOSE_P.sub(b"", resp.body)
        body = body.replace(b"<body", b"</span></font><body", 1).replace(b'class="bt-', b"class=bt-")
        body = body.replace(b"</body>", b"").replace(b"</html>", b"")
        resp.body = body
        return resp

    ctx.transforms.append(mangle)


def xml_entities(ctx, **_) -> None:
    """A dataproxy answer carrying an XXE and a billion-laughs DOCTYPE (never to be expanded)."""
    doctype = (
        b'<!DOCTYPE datastore [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        b'<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">'
        b'<!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;">'
        b'<!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;">'
        b'<!ENTITY l9 "&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;">]>'
    )

    def inject(resp: Response) -> Response:
        body = resp.body
        head, sep, rest = body.partition(b"?>")
        body = (head + sep + doctype + rest) if sep else doctype + body
        resp.body = body.replace(b"<recordset>", b"<note>&xxe;&l9;</note><recordset>", 1)
        return resp

    ctx.transforms.append(inject)


def shift(ctx, k: int = 3, **_) -> None:
    """The list moves while being paged: k more items pushed on top (and they stay there)."""
    ctx.state["pushed"] = ctx.state.get("pushed", 0) + int(k)


def duplicate(ctx, k: int = 2, **_) -> None:
    """Each list window repeats the last k records of the window before it."""
    ctx.options["duplicate"] = int(k)


def hostile_names(ctx, **_) -> None:
    """Attachment links with names that must never touch the filesystem."""

    def rename(resp: Response) -> Response:
        names = [
            b"../../../../etc/passwd.pdf",
            b"/etc/shadow.doc",
            b"a\x00b.pdf",
            b"\xe6\x96\x87" * 340 + b".pdf",
            b"..\\..\\windows\\system32.xls",
            b"CON.pdf",
        ]
        i = [0]

        def swap(m):
            name = names[i[0] % len(names)]
            i[0] += 1
            tag = re.sub(rb'\sdownload="[^"]*"', b"", m.group(0))[:-1]
            return tag + b' download="' + name.replace(b"\x00", b"&#0;") + b'">'

        def swap_js(m):  # `{name:"…", url:"/module/download/downfile.jsp…"}` in a script array
            name = names[i[0] % len(names)]
            i[0] += 1
            return b"{name:" + json.dumps(name.decode()).encode() + m.group(1)

        resp.body = re.sub(rb"<a [^>]*/module/download/downfile\.jsp[^>]*>", swap, resp.body)
        resp.body = re.sub(rb'\{name:"(?:[^"\\]|\\.)*"(, url:"/module/download/downfile\.jsp)', swap_js, resp.body)
        return resp

    ctx.transforms.append(rename)


def nameless_files(ctx, **_) -> None:
    """File links that name nothing (an icon, no download=): only the file's own response says its name
    (`Content-Disposition`), as on real pages where an icon links the file."""

    def strip(m):
        tag = re.sub(rb'\sdownload="[^"]*"', b"", m.group(1))
        return tag + b'<img src="/images/fj_icon.gif"></a>'

    _edit(ctx, lambda b: re.sub(rb"(<a [^>]*/module/download/downfile\.jsp[^>]*>)[^<]*</a>", strip, b))


def _edit(ctx, fn) -> None:
    def apply(resp: Response) -> Response:
        resp.body = fn(resp.body)
        return resp

    ctx.transforms.append(apply)


def deep_html(ctx, depth: int = 100_000, **_) -> None:
    """Markup nested `depth` levels deep inside the body container."""
    _edit(ctx, lambda b: b.replace(b'<div id="zoom">', b'<div id="zoom">' + b"<div>" * depth + b"</div>" * depth, 1))


def bad_bytes(ctx, **_) -> None:
    """Bytes invalid in the page's encoding (UTF-8 or GBK) sprinkled into the markup."""
    _edit(ctx, lambda b: b.replace(b"<body", b"\xff\xfe\x80\x81<!-- \xc3\x28 \xa0\xa1\xfe -->\n<body", 1))


def sql_index(ctx, **_) -> None:
    """The page's 索引号 replaced by SQL metacharacters."""
    evil = b"1'; DROP TABLE documents; --/2025-00001\" OR 1=1"
    _edit(ctx, lambda b: re.sub(rb"[0-9A-Z]{9,18}/\d{4}-\d{5}", evil, b, count=1))


HOSTILE_TITLE = '<script>document.documentElement.dataset.xss="title"</script><img src=x onerror="document.documentElement.dataset.xss=1">'


def hostile_title(ctx, **_) -> None:
    """Markup in the title, as text (escaped as a CMS escapes it), and a live script in the page itself."""
    esc = html.escape(HOSTILE_TITLE).encode()

    def edit(b: bytes) -> bytes:
        b = re.sub(rb'(<meta name="ArticleTitle" content=")', lambda m: m.group(1) + esc, b, count=1)
        b = b.replace("<!--<$[标题名称(html)]>begin-->".encode(), "<!--<$[标题名称(html)]>begin-->".encode() + esc, 1)
        return b.replace(b"</body>", b'<script>document.documentElement.dataset.xss="raw"</script></body>', 1)

    _edit(ctx, edit)


WIRE_FAULTS = {
    "deep-html": deep_html,
    "bad-bytes": bad_bytes,
    "sql-index": sql_index,
    "redirect-loop": redirect_loop,
    "redirect-offsite": redirect_offsite,
    "cookie-wall": cookie_wall,
    "drip": drip,
    "endless": endless,
    "gzip-bomb": gzip_bomb,
    "wrong-type": wrong_type,
    "malformed-html": malformed_html,
    "xml-entities": xml_entities,
    "shift": shift,
    "duplicate": duplicate,
    "hostile-names": hostile_names,
    "nameless-files": nameless_files,
    "hostile-title": hostile_title,
}
