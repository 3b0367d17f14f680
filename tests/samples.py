"""Where the saved real portal pages are: tests/examples/<family>/ (articles) and …/<family>/columns/ (list pages)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "examples"


def sample(name: str) -> Path:
    """The saved page called `name`, wherever it sits under tests/examples."""
    found = sorted(EXAMPLES.rglob(name))
    if len(found) != 1:
        raise FileNotFoundError(f"{len(found)} saved pages named {name} under {EXAMPLES}")
    return found[0]


def saved_pages() -> set[str]:
    """Names of every saved page (html/json, not the expected-output JSON beside an article page)."""
    return {
        p.name
        for p in EXAMPLES.rglob("*")
        if p.suffix in (".html", ".json") and not (p.suffix == ".json" and p.with_suffix(".html").exists())
    }
