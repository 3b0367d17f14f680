"""Field-level accuracy of the parser over the real pages in tests/examples, per family and per field.

    .venv/bin/python benchmarks/fidelity.py [--parser-of REF] [--speed [--against main]]

Prints pages, portals and families, a table of right/total per family and per field, and every miss;
`--parser-of REF` scores the parser as it is at a git ref (its `scraper/` unpacked) on today's pages
(the "before" table); `--speed` then times the parser on the same pages against a git ref
(benchmarks/parse_speed.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402


def main() -> None:
    from example_pages import FIELDS, compare, examples  # after --parser-of has chosen the scraper package

    pages = examples()
    right: Counter = Counter()
    total: Counter = Counter()
    misses = []
    for page in pages:
        wrong = {field: (exp, got) for field, exp, got in compare(page)}
        for field in FIELDS:
            for key in ((page.family, field), (page.family, "*"), ("*", field), ("*", "*")):
                total[key] += 1
                right[key] += field not in wrong
        total[(page.family, "pages")] += 1
        right[(page.family, "pages")] += not wrong
        misses += [f"{page.family}/{page.name}: {f}: expected {e!r}, got {g!r}" for f, (e, g) in wrong.items()]
    families = sorted({p.family for p in pages})
    console = Console(width=200)
    console.print(f"{len(pages)} pages, {len({p.portal for p in pages})} portals, {len(families)} families")
    table = Table("field", *families, "all")
    for field in (*FIELDS, "*"):
        table.add_row(
            "all fields" if field == "*" else field,
            *(_cell(right[(fam, field)], total[(fam, field)]) for fam in (*families, "*")),
        )
    table.add_row(
        "pages fully right",
        *(_cell(right[(f, "pages")], total[(f, "pages")]) for f in families),
        _cell(sum(right[(f, "pages")] for f in families), len(pages)),
    )
    console.print(table)
    for miss in misses:
        console.print(miss, markup=False)


def _cell(ok: int, n: int) -> str:
    return f"{ok}/{n} ({100 * ok / n:.0f}%)" if n else "-"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--parser-of", metavar="REF", help="score the parser as it is at this git ref")
    ap.add_argument("--speed", action="store_true", help="also time the parser against a git ref")
    ap.add_argument("--against", default="main", help="the git ref --speed compares with (default: main)")
    args = ap.parse_args()
    from parse_speed import compare, unpack

    with tempfile.TemporaryDirectory() as tmp:
        if args.parser_of:
            sys.path.insert(0, str(unpack(args.parser_of, Path(tmp))))
            print(f"parser of {args.parser_of}")
        main()
    if args.speed:
        compare(args.against)
