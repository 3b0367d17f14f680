"""The parser's output on every example page (tests/examples/<family>/<name>.html), one sha256 a page,
recorded with the PARSER_VERSION that produced it (tests/parser_fingerprint.json).

tests/test_parser_fingerprint.py fails when the output changes while PARSER_VERSION does not: a changed
parse of the same bytes must be announced, or the next `crawl --full` records a false new version of
every document. After bumping PARSER_VERSION (scraper/parse/__init__.py), record the new output:

    .venv/bin/python tests/parser_fingerprint.py --refresh

It refuses while PARSER_VERSION is the recorded one and a recorded page's output changed (pages new to
the corpus are added without a bump: nothing changed for bytes already parsed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from example_pages import examples

from scraper.parse import PARSER_VERSION, parse_article

RECORD = Path(__file__).resolve().parent / "parser_fingerprint.json"


def fingerprints() -> dict[str, str]:
    """family/name -> sha256 of the parser's whole output (canonical JSON) for that page."""
    out = {}
    for ex in examples():
        art = parse_article(ex.html.read_bytes(), ex.expected["url"], "text/html")
        canonical = json.dumps(art.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        out[f"{ex.family}/{ex.name}"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return out


def recorded() -> dict:
    return json.loads(RECORD.read_text("utf-8")) if RECORD.exists() else {"parser_version": None, "pages": {}}


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Pages recorded before whose output is not what it was."""
    return sorted(k for k in old if k in new and old[k] != new[k])


def refresh() -> str:
    """Record today's output; refused when a recorded page changed under the same PARSER_VERSION."""
    rec, now = recorded(), fingerprints()
    diff = changed(rec["pages"], now)
    if diff and rec["parser_version"] == PARSER_VERSION:
        raise SystemExit(
            f"refused: the output changed for {len(diff)} page(s) ({', '.join(diff[:5])}) but "
            f"PARSER_VERSION is still {PARSER_VERSION!r}: bump it in scraper/parse/__init__.py first"
        )
    RECORD.write_text(
        json.dumps({"parser_version": PARSER_VERSION, "pages": now}, ensure_ascii=False, indent=1, sort_keys=True)
        + "\n",
        "utf-8",
    )
    return f"recorded {len(now)} pages at PARSER_VERSION {PARSER_VERSION} ({len(diff)} changed)"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refresh", action="store_true", required=True, help="record today's output")
    ap.parse_args()
    print(refresh())
