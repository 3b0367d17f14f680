"""Parser speed on the real pages in tests/examples: this tree against a git ref, side by side in one run.

    .venv/bin/python benchmarks/parse_speed.py [--against main] [--rounds 5] [--repeat 20]
    .venv/bin/python benchmarks/fidelity.py --speed [--against main]

The ref's `scraper/` package is unpacked into a temporary folder (git archive); each round times both
parsers, in turn, in fresh child processes over the same page bytes, so machine noise hits both alike.
Prints the median ms/page of each side and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

_TIMER = """
import json, sys, time
pages = json.load(sys.stdin)
from scraper.parse import parse_article
data = [(open(p, "rb").read(), u) for p, u in pages]
repeat = int(sys.argv[1])
for body, url in data:                     # warm up: imports, regex compiles
    parse_article(body, url, "text/html")
t0 = time.perf_counter()
for _ in range(repeat):
    for body, url in data:
        parse_article(body, url, "text/html")
print((time.perf_counter() - t0) * 1000 / (repeat * len(data)))
"""


def unpack(ref: str, into: Path) -> Path:
    """The `scraper/` package as it is at `ref`, under `into`."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "scraper"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def ms_per_page(tree: Path, pages: list, repeat: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n{_TIMER}", str(repeat)],
        input=json.dumps(pages),
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    return float(out.stdout.strip().splitlines()[-1])


def compare(ref: str = "main", rounds: int = 5, repeat: int = 20) -> None:
    from example_pages import examples

    pages = [(str(e.html), e.expected["url"]) for e in examples()]
    with tempfile.TemporaryDirectory() as tmp:
        old = unpack(ref, Path(tmp))
        before, after = [], []
        for _ in range(rounds):
            before.append(ms_per_page(old, pages, repeat))
            after.append(ms_per_page(ROOT, pages, repeat))
    b, a = statistics.median(before), statistics.median(after)
    print(f"parse_article over {len(pages)} real pages, {rounds} rounds x {repeat} passes (median ms/page)")
    print(f"  {ref:<12} {b:7.2f} ms/page   (rounds: {', '.join(f'{x:.2f}' for x in before)})")
    print(f"  {'this tree':<12} {a:7.2f} ms/page   (rounds: {', '.join(f'{x:.2f}' for x in after)})")
    print(f"  this tree is {b / a:.2f}x the speed of {ref}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", default="main", help="git ref to compare with (default: main)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20, help="passes over all pages per timing")
    args = ap.parse_args()
    compare(args.against, args.rounds, args.repeat)


if __name__ == "__main__":
    main()
