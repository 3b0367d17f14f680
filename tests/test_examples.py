"""Every real page in tests/examples parses exactly to the JSON written beside it by reading the page."""

from __future__ import annotations

import pytest
from example_pages import FIELDS, compare, examples, families_without_pages

from scraper.portals import FAMILIES

EXAMPLES = examples()


def test_every_family_has_a_real_page_or_says_why_not():
    covered = {e.family for e in EXAMPLES}
    missing = set(FAMILIES) - covered - families_without_pages()
    assert not missing, f"families with no example page and no reason in tests/examples/SOURCES.md: {sorted(missing)}"
    assert not covered & families_without_pages(), "SOURCES.md says a family has no page, but it has one"
    assert covered <= set(FAMILIES), f"example folders that name no family: {sorted(covered - set(FAMILIES))}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.family}/{e.name}")
def test_example(example):
    assert set(example.expected) == {"url", *FIELDS}, f"{example.name}.json: keys must be url + {FIELDS}"
    wrong = compare(example)
    assert not wrong, "\n".join(
        f"{example.family}/{example.name}: {field}: expected {exp!r}, got {got!r}" for field, exp, got in wrong
    )
