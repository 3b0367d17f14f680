"""Probe a column URL before configuring it: fetch the page, name its family and list parameters, and
walk the first list page to show what a crawl would find (`xxgk sources detect URL`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scraper.blocking import block_reason
from scraper.decode import decode_html
from scraper.fetch import Fetcher, FetchError, FetchPolicy
from scraper.portals import ListItem, ListProblem, detect, signatures


@dataclass
class Probe:
    url: str
    status: int | None = None
    family: str | None = None
    params: dict = field(default_factory=dict)
    items: list[ListItem] = field(default_factory=list)
    total: int | None = None
    problem: str | None = None  # why nothing could be told (fetch error, block, no signature)

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "status": self.status,
            "family": self.family,
            "params": self.params,
            "total": self.total,
            "problem": self.problem,
            "items": [{"url": i.url, "title": i.title, "date": i.date, "meta": i.meta} for i in self.items],
        }


async def probe(url: str, policy: FetchPolicy, items: int = 5) -> Probe:
    """Fetch `url`, detect its family, and list up to `items` documents with the adapter (one list page)."""
    result = Probe(url)
    policy.allowed_hosts = frozenset({urlsplit(url).hostname})
    async with Fetcher(policy) as fetcher:
        try:
            res = await fetcher.fetch(url)
        except FetchError as exc:
            result.problem = f"cannot fetch the page: {exc.reason}"
            return result
        result.status = res.status
        blocked = block_reason(res.status, res.body, res.content_type)
        if blocked or res.status != 200:
            result.problem = f"the page answered {blocked or f'HTTP {res.status}'}"
            return result
        found = detect(url, decode_html(res.body, res.content_type)[0])
        if found is None:
            result.problem = f"no known portal family; looked for {signatures()}"
            return result
        result.family, result.params = found.family, found.params
        policy.allowed_hosts = policy.allowed_hosts | found.portal.hosts(url)
        portal = found.portal(url, fetcher.fetch, max_pages=3)
        walk = portal.items()
        try:
            async for item in walk:
                if isinstance(item, ListProblem):
                    result.problem = f"{item.reason}: {item.url}"
                    break
                result.items.append(item)
                if len(result.items) >= items:
                    break
        finally:
            await walk.aclose()  # type: ignore[attr-defined]  # items() is an async generator
        result.total = portal.total
    return result
