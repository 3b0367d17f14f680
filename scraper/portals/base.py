"""The one small interface every CMS family implements: column URL in, list items out."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from scraper.decode import decode_html
from scraper.fetch import FetchError, FetchResult, RobotsDisallowed

LIST_ATTEMPTS = 5
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
BEIJING = dt.timezone(dt.timedelta(hours=8))
# What a list may say about a document, by contract field (only non-empty values are kept).
META_FIELDS = ("index_no", "doc_no", "publisher", "publish_date", "written_date", "topic", "genre")


@dataclass
class ListItem:
    url: str
    title: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    meta: dict = field(default_factory=dict)  # list-level metadata (META_FIELDS) where the family carries it


def list_meta(**values) -> dict:
    """The non-empty values among META_FIELDS, stripped."""
    out = {}
    for key, value in values.items():
        if key not in META_FIELDS:
            raise ValueError(f"not a list metadata field: {key}")
        value = str(value).strip() if value is not None else ""
        if value:
            out[key] = value
    return out


@dataclass
class Page:
    """One list page as a family reads it: its items (absolute URLs) and what it says of the whole list."""

    items: list[ListItem | None]
    pages: int | None = None  # how many pages the list has, when the page says
    total: int | None = None  # how many items the list holds, when the page says


@dataclass
class ListProblem:
    """A list page that could not be read; the walk goes on where it can."""

    url: str
    reason: str
    layout: bool = False  # True when the page did not look like this family at all


Fetch = Callable[..., Awaitable[FetchResult]]  # fetch(url, method=, data=, headers=) -> FetchResult
Yielded = ListItem | ListProblem


class ListError(Exception):
    def __init__(self, url: str, reason: str, layout: bool = False, transient: bool = True):
        super().__init__(f"{reason}: {url}")
        self.url, self.reason, self.layout, self.transient = url, reason, layout, transient
        self.broken = False  # an answer that did not read as a list page (asked for again)


REGISTRY: dict[str, type[Portal]] = {}  # family name -> adapter; each adapter module adds its own


class Portal(ABC):
    """A CMS family: subclass it in a module of scraper/portals/ and it is registered by its `family`
    name (detection tries families by `rank`, lowest first). Families that page by number give
    page() and call walk(); others give items() whole."""

    family: ClassVar[str]
    rank: ClassVar[int]  # detection order (field guide §1.0): the most specific signature first
    looks_for: ClassVar[str]  # the signature sniff() looks for, in words (for error messages)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "family" in cls.__dict__:
            REGISTRY[cls.family] = cls

    def __init__(
        self,
        column_url: str,
        fetch: Fetch,
        max_pages: int | None = None,
        options: dict | None = None,
        retry_delay: float = 0.5,
    ):
        self.column_url = column_url
        self.fetch = fetch
        self.max_pages = max_pages
        self.options = options or {}  # family options from the source (the generic family's selectors)
        self.retry_delay = retry_delay  # before asking again for a list page that did not read
        self.total: int | None = None  # items the portal says the column holds, once known
        self.requests = 0  # list requests made through get_text()

    @classmethod
    @abstractmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        """The list parameters found when a column page looks like this family, else None."""

    @classmethod
    def hosts(cls, column_url: str) -> set[str]:
        """Hosts besides the column's own that this family serves documents from."""
        return set()

    @abstractmethod
    def items(self) -> AsyncIterator[Yielded]:
        """List items newest first, with ListProblem for pages that failed. Stop iterating to stop paging."""

    async def page(self, target, n: int) -> Page:
        """Page `n` (from 1) of the list `target` (a URL, or whatever the family's walk needs); raises
        ListError. Families that page by number implement this and call walk()."""
        raise NotImplementedError(f"{type(self).__name__} does not page by number")

    async def walk(self, target, seen: set[str]) -> AsyncIterator[Yielded]:
        """The items of pages 1, 2 … of `target`, until the page count, max_pages, a page with nothing
        new (past the end, or a server that ignores the page number) or a page that fails."""
        n, pages = 1, None
        while (pages is None or n <= pages) and self.pages_left():
            try:
                got = await self.page(target, n)
            except ListError as exc:
                yield ListProblem(exc.url, exc.reason, exc.layout)
                return
            pages = got.pages if got.pages is not None else pages
            if n == 1 and got.total is not None:
                self.total = (self.total or 0) + got.total
            fresh = unseen(got.items, seen)
            if not fresh:
                return
            for item in fresh:
                yield item
            n += 1

    async def get_text(self, url: str, check: Callable[[str, str], None] | None = None, **kw) -> str:
        """A list page as text, `check`ed. Network errors, 5xx and walls were retried by the fetcher
        (scraper/fetch.py: one policy, not repeated here); only an answer that came back but does not
        read as a list page (cut short, malformed) is asked for again, up to LIST_ATTEMPTS times."""
        for attempt in range(1, LIST_ATTEMPTS + 1):
            try:
                return await self._get_text_once(url, check, **kw)
            except ListError as exc:
                if attempt == LIST_ATTEMPTS or not (exc.broken and exc.transient):
                    raise
                await asyncio.sleep(self.retry_delay * attempt)
        raise AssertionError("unreachable")

    async def _get_text_once(self, url: str, check, **kw) -> str:
        self.requests += 1
        try:
            res = await self.fetch(url, **kw)
        except FetchError as exc:
            raise ListError(url, exc.reason, transient=not isinstance(exc, RobotsDisallowed)) from None
        if res.status != 200:
            raise ListError(url, f"list page answered HTTP {res.status}", transient=res.status not in (404, 410))
        text, _ = decode_html(res.body, res.content_type)
        if check:
            try:
                check(text, url)
            except ListError as exc:
                exc.broken = True
                raise
        return text

    async def get_json(self, url: str, **kw):
        text = await self.get_text(url, **kw)
        try:
            return json.loads(text)
        except ValueError:
            raise ListError(url, "list answer is not JSON", layout=True) from None

    def pages_left(self) -> bool:
        """False once `max_pages` list requests were made for this column."""
        return self.max_pages is None or self.requests < self.max_pages


def unseen(items, seen: set[str]) -> list[ListItem]:
    """The items whose URL was not seen yet (now marked seen), in order."""
    out = []
    for item in items:
        if item is not None and item.url not in seen:
            seen.add(item.url)
            out.append(item)
    return out


def origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def epoch_date(value) -> str | None:
    """An ISO date (Beijing time) from unix seconds or milliseconds; None when not a timestamp."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    if seconds > 1e11:
        seconds /= 1000
    try:
        return dt.datetime.fromtimestamp(seconds, BEIJING).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def iso_date(text: str | None) -> str | None:
    m = _DATE.search(text or "")
    if not m:
        return None
    y, mo, d = (int(x) for x in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}"
