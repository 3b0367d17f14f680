"""The one small interface every CMS family implements: column URL in, list items out."""
from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, ClassVar, Optional, Union


from scraper.decode import decode_html
from scraper.fetch import FetchError, FetchResult, RobotsDisallowed

LIST_ATTEMPTS = 5
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


@dataclass
class ListItem:
    url: str
    title: Optional[str] = None
    date: Optional[str] = None           # ISO YYYY-MM-DD
    meta: dict = field(default_factory=dict)   # list-level metadata where the family carries it


@dataclass
class ListProblem:
    """A list page that could not be read; the walk goes on where it can."""
    url: str
    reason: str
    layout: bool = False                 # True when the page did not look like this family at all


Fetch = Callable[..., Awaitable[FetchResult]]   # fetch(url, method=, data=, headers=) -> FetchResult
Yielded = Union[ListItem, ListProblem]


class ListError(Exception):
    def __init__(self, url: str, reason: str, layout: bool = False, transient: bool = True):
        super().__init__(f"{reason}: {url}")
        self.url, self.reason, self.layout, self.transient = url, reason, layout, transient


class Portal(ABC):
    family: ClassVar[str]

    def __init__(self, column_url: str, fetch: Fetch, max_pages: Optional[int] = None,
                 retry_delay: float = 0.5):
        self.column_url = column_url
        self.fetch = fetch
        self.max_pages = max_pages
        self.retry_delay = retry_delay
        self.total: Optional[int] = None     # items the portal says the column holds, once known

    @classmethod
    @abstractmethod
    def sniff(cls, url: str, html: str) -> bool:
        """True when a column page looks like this family."""

    @abstractmethod
    def items(self) -> AsyncIterator[Yielded]:
        """List items newest first, with ListProblem for pages that failed. Stop iterating to stop paging."""

    async def get_text(self, url: str, check: Optional[Callable[[str, str], None]] = None,
                       attempts: int = LIST_ATTEMPTS, **kw) -> str:
        """A list page as text, `check`ed; a broken or walled answer is asked for again, later."""
        for attempt in range(1, attempts + 1):
            try:
                return await self._get_text_once(url, check, **kw)
            except ListError as exc:
                if attempt == attempts or not exc.transient:
                    raise
                await asyncio.sleep(self.retry_delay * attempt)
        raise AssertionError("unreachable")

    async def _get_text_once(self, url: str, check, **kw) -> str:
        try:
            res = await self.fetch(url, **kw)
        except FetchError as exc:
            raise ListError(url, exc.reason, transient=not isinstance(exc, RobotsDisallowed)) from None
        if res.status != 200:
            raise ListError(url, f"list page answered HTTP {res.status}", transient=res.status not in (404, 410))
        text, _ = decode_html(res.body, res.content_type)
        if check:
            check(text, url)
        return text


def iso_date(text: Optional[str]) -> Optional[str]:
    m = _DATE.search(text or "")
    if not m:
        return None
    y, mo, d = (int(x) for x in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}"
