"""The corpus of real pages (tests/examples/<family>/<name>.html + <name>.json, juriscraper style) and the
field-by-field comparison both tests/test_examples.py and benchmarks/fidelity.py use."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from samples import EXAMPLES

from scraper.parse import ParsedArticle, parse_article
from storage.contract import CONTRACT_FIELDS as CONTRACT

FIELDS = CONTRACT + ("attachments", "body_first_line", "body_last_line")
_NO_PAGE = re.compile(r"^- `([a-z-]+)`: ", re.M)


@dataclass
class Example:
    family: str
    name: str
    html: Path
    expected: dict

    @property
    def portal(self) -> str:
        return self.expected["url"].split("/")[2]


def examples() -> list[Example]:
    found = []
    for expected in sorted(EXAMPLES.glob("*/*.json")):
        html = expected.with_suffix(".html")
        if html.exists():
            found.append(Example(expected.parent.name, expected.stem, html, json.loads(expected.read_text("utf-8"))))
    return found


def families_without_pages() -> set[str]:
    """Families SOURCES.md declares to have no real page (its `- \\`family\\`: why` lines)."""
    return set(_NO_PAGE.findall((EXAMPLES / "SOURCES.md").read_text("utf-8")))


def actual(art: ParsedArticle) -> dict:
    lines = art.body_text.splitlines()
    return {
        **{f: getattr(art, f) for f in CONTRACT},
        "attachments": [{"name": a.name, "url": a.url} for a in art.attachments],
        "body_first_line": lines[0] if lines else None,
        "body_last_line": lines[-1] if lines else None,
    }


def compare(example: Example) -> list[tuple[str, object, object]]:
    """(field, expected, got) for every field the parser got wrong on this page."""
    got = actual(parse_article(example.html.read_bytes(), example.expected["url"], "text/html"))
    return [(f, example.expected[f], got[f]) for f in FIELDS if example.expected[f] != got[f]]
