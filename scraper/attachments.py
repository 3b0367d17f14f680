"""The files a document links (pdf, doc(x), xls(x), wps, ofd, zip …): downloaded under their own size cap,
archived content-addressed like every response, and known to the document only as (sha256, size).

A file's name stays text in the database (from the download= attribute, the fileName parameter or the
link text; for a file the page names only by a storage id, the `Content-Disposition` its server sent):
nothing is ever written under that name, so a hostile name cannot touch the filesystem.
A file that cannot be fetched now keeps the copy archived before, if any, so a passing failure does
not make a new version; one linked by several documents in a run is fetched once.
"""

from __future__ import annotations

import asyncio
import functools
import posixpath
import re
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from loguru import logger

from scraper.blocking import wall_of
from scraper.decode import decode_html
from scraper.fetch import FetchError, FetchResult
from scraper.parse.links import is_storage_name
from scraper.parse.tree import collapse

_DISPOSITION_RE = re.compile(r"""filename\*\s*=\s*(?:[\w-]+'[^']*')?([^;]+)|filename\s*=\s*("[^"]*"|[^;]+)""", re.I)

File = tuple[str, int] | None  # (sha256, size) of an archived file
Archive = Callable[[FetchResult, str | None], Awaitable[tuple[str, int]]]  # (response, error) -> (sha256, size)


class FileFetcher:
    def __init__(
        self,
        fetch: Callable[..., Awaitable[FetchResult]],
        archive: Archive,
        archived: Callable[[str], Awaitable[File]],
        max_bytes: int,
    ):
        self.fetch, self.archive, self.archived, self.max_bytes = fetch, archive, archived, max_bytes
        self.downloaded = 0
        self.failed: list[str] = []
        self._tasks: dict[str, asyncio.Task] = {}  # downloads under way
        self._done: dict[str, File] = {}  # what each finished download gave (a Task each would be ~4x the memory)

    async def files(self, urls: list[str]) -> dict[str, File]:
        for url in urls:
            if url not in self._tasks and url not in self._done:
                task = self._tasks[url] = asyncio.ensure_future(self._download(url))
                task.add_done_callback(functools.partial(self._finished, url))
        return {url: self._done[url] if url in self._done else await self._tasks[url] for url in urls}

    def _finished(self, url: str, task: asyncio.Task) -> None:
        """A download that gave a file (or None) keeps only that; one that raised stays a task (every
        document waiting on it gets the exception, as before)."""
        if not task.cancelled() and task.exception() is None:
            self._done[url] = task.result()
            del self._tasks[url]

    async def close(self) -> None:
        """Downloads nobody waits for any more (the run is ending) are cancelled and collected."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _download(self, url: str) -> File:
        try:
            res = await self.fetch(url, max_bytes=self.max_bytes)
        except FetchError as exc:
            return await self._fallback(url, exc.reason)
        blocked = wall_of(res)
        error = f"blocked: {blocked}" if blocked else (f"HTTP {res.status}" if res.status != 200 else None)
        if error is None and _is_error_page(res):
            error = "an HTML page where a file was expected"
        sha_size = await self.archive(res, error)
        if error:
            return await self._fallback(url, error)
        self.downloaded += 1
        return sha_size

    async def _fallback(self, url: str, reason: str) -> File:
        kept = await self.archived(url)
        self.failed.append(f"attachment {reason}: {url}")
        logger.warning("attachment {}: {}{}", reason, url, " (keeping the copy archived before)" if kept else "")
        return kept


def _is_error_page(res: FetchResult) -> bool:
    """A soft 404: an HTML 'not found' page served with 200 where a file was linked."""
    ctype = (res.content_type or "").lower()
    if "html" not in ctype or len(res.body) > 20000:
        return False
    text = decode_html(res.body, res.content_type)[0]
    return any(word in text for word in ("404", "页面不存在", "文件不存在", "找不到"))


def served_name(disposition: str | None) -> str | None:
    """The file name a `Content-Disposition` header gives (`filename*=UTF-8''…` first, percent-escapes and
    UTF-8/GBK bytes sent as Latin-1 undone), or None when it gives none a person chose."""
    found: dict[str, str] = {}
    for m in _DISPOSITION_RE.finditer(disposition or ""):
        found.setdefault("star" if m.group(1) else "plain", (m.group(1) or m.group(2)).strip().strip('"'))
    raw = found.get("star") or found.get("plain")
    if not raw:
        return None
    if "%" in raw:
        name = _decoded(unquote_to_bytes(raw))
    elif any(0x80 <= ord(c) < 0x100 for c in raw) and all(ord(c) < 0x100 for c in raw):
        name = _decoded(raw.encode("latin-1"))
    else:
        name = raw
    name = collapse(posixpath.basename(name.replace("\\", "/")))
    return None if is_storage_name(name) else name


def _decoded(raw: bytes) -> str:
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")
