"""Parser speed on the real pages in tests/examples: this tree against a git ref or a checkout, side by
side in one run.

    .venv/bin/python benchmarks/parse_speed.py [--against main | --compare ../main] [--rounds 5] [--repeat 20]
    .venv/bin/python benchmarks/fidelity.py --speed [--against main]

The ref's `scraper/` package is unpacked into a temporary folder (git archive), or `--compare CHECKOUT`'s
is used as it is (e.g. /work/main, like crawl_bench.py's --compare); each round times both parsers, in
turn, in fresh child processes over the same page bytes, so machine noise hits both alike. Times the
crawl path's work on a page: the anti-bot check, then the parse to a record and its content hash
(scraper.process.parse_page, scraper.blocking.block_reason). Prints the median CPU ms/page (process
time) and wall ms/page of each side and their ratios.
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
from scraper.blocking import block_reason
from scraper.process import parse_page
from scraper.parse import ParseError
data = [(open(p, "rb").read(), u) for p, u in pages]
repeat = int(sys.argv[1])

def once(body, url):
    block_reason(200, body, "text/html")
    try:
        parse_page(body, url, "text/html")
    except ParseError:
        pass

for body, url in data:                     # warm up: imports, regex compiles
    once(body, url)
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(repeat):
    for body, url in data:
        once(body, url)
n = repeat * len(data)
print((time.process_time() - c0) * 1000 / n, (time.perf_counter() - t0) * 1000 / n)
"""


def unpack(ref: str, into: Path) -> Path:
    """The `scraper/` package as it is at `ref`, under `into`."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "scraper"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def ms_per_page(tree: Path, pages: list, repeat: int) -> tuple[float, float]:
    """(CPU, wall) ms per page of the parser in `tree`, in a fresh child process."""
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n{_TIMER}", str(repeat)],
        input=json.dumps(pages),
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def compare(ref: str = "main", rounds: int = 5, repeat: int = 20, checkout: Path | None = None) -> None:
    """Time this tree against git ref `ref`, or against the checkout folder `checkout` when given."""
    from example_pages import examples

    pages = [(str(e.html), e.expected["url"]) for e in examples()]
    name = checkout.name if checkout else ref
    with tempfile.TemporaryDirectory() as tmp:
        old = checkout.resolve() if checkout else unpack(ref, Path(tmp))
        before, after = [], []
        for _ in range(rounds):
            before.append(ms_per_page(old, pages, repeat))
            after.append(ms_per_page(ROOT, pages, repeat))
    print(f"block_reason + parse_page over {len(pages)} real pages, {rounds} rounds x {repeat} passes (median ms/page)")
    for i, what in enumerate(("CPU", "wall")):
        b, a = statistics.median(x[i] for x in before), statistics.median(x[i] for x in after)
        print(f"  {what:<5}{name:<12} {b:7.3f} ms/page   (rounds: {', '.join(f'{x[i]:.3f}' for x in before)})")
        print(f"  {what:<5}{'this tree':<12} {a:7.3f} ms/page   (rounds: {', '.join(f'{x[i]:.3f}' for x in after)})")
        print(f"  {what:<5}this tree takes {a / b:.2f}x the {what} of {name} ({b / a:.2f}x the speed)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", default="main", help="git ref to compare with (default: main)")
    ap.add_argument("--compare", type=Path, metavar="CHECKOUT", help="a checkout folder to compare with instead")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20, help="passes over all pages per timing")
    args = ap.parse_args()
    compare(args.against, args.rounds, args.repeat, args.compare)


if __name__ == "__main__":
    main()
