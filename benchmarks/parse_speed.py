"""Parser speed on the real pages in tests/examples and on simulated pages of every family: this tree
against a git ref or a checkout, side by side in one run.

    .venv/bin/python benchmarks/parse_speed.py [--against main | --compare ../main] [--rounds 5] [--repeat 20]
        [--simulated 40]
    .venv/bin/python benchmarks/fidelity.py --speed [--against main]

The ref's `scraper/` package is unpacked into a temporary folder (git archive), or `--compare CHECKOUT`'s
is used as it is (e.g. /work/main, like crawl_bench.py's --compare); each round times both parsers, in
turn, in fresh child processes over the same page bytes, so machine noise hits both alike. Times the
crawl path's work on a page: the anti-bot check, then the parse to a record and its content hash
(scraper.process.parse_page, scraper.blocking.block_reason). Prints the median CPU ms/page (process
time) and wall ms/page of each side and their ratios, for the real pages, then for `--simulated` article
pages of each simulated family (rendered by simulator/, served bytes and Content-Type; 0: none).
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
data = [(open(p, "rb").read(), u, t) for p, u, t in pages]
repeat = int(sys.argv[1])

def once(body, url, ctype):
    block_reason(200, body, ctype)
    try:
        parse_page(body, url, ctype)
    except ParseError:
        pass

for page in data:                     # warm up: imports, regex compiles
    once(*page)
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(repeat):
    for page in data:
        once(*page)
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


def simulated_pages(per_family: int, into: Path) -> list[tuple[str, str, str]]:
    """(file, url, Content-Type) of `per_family` article pages of each simulated family, as served on day 1."""
    from urllib.parse import parse_qsl

    from simulator.corpus import Corpus
    from simulator.families import FAMILIES
    from simulator.faults import Context

    pages = []
    for family, site_cls in FAMILIES.items():
        site = site_cls(Corpus(seed=1, docs=per_family, profile=site_cls.profile))
        for doc in list(site.docs().values())[:per_family]:
            path = site.doc_paths(doc)[0]
            bare, _, query = path.partition("?")
            resp = site.route(Context(seed=1, method="GET", target=path, path=bare), dict(parse_qsl(query)))
            file = into / f"{family}-{len(pages)}.html"
            file.write_bytes(resp.body)
            pages.append((str(file), f"http://sim.example{path}", resp.headers.get("Content-Type") or "text/html"))
    return pages


def compare(
    ref: str = "main", rounds: int = 5, repeat: int = 20, checkout: Path | None = None, simulated: int = 40
) -> None:
    """Time this tree against git ref `ref`, or against the checkout folder `checkout` when given."""
    from example_pages import examples

    real = [(str(e.html), e.expected["url"], "text/html") for e in examples()]
    with tempfile.TemporaryDirectory() as tmp:
        old = checkout.resolve() if checkout else unpack(ref, Path(tmp) / "ref")
        name = checkout.name if checkout else ref
        _side_by_side(old, name, real, f"{len(real)} real pages", rounds, repeat)
        if simulated:
            (Path(tmp) / "sim").mkdir()
            sim = simulated_pages(simulated, Path(tmp) / "sim")
            _side_by_side(old, name, sim, f"{len(sim)} simulated pages (7 families)", rounds, repeat)


def _side_by_side(old: Path, name: str, pages: list, label: str, rounds: int, repeat: int) -> None:
    before, after = [], []
    for _ in range(rounds):
        before.append(ms_per_page(old, pages, repeat))
        after.append(ms_per_page(ROOT, pages, repeat))
    print(f"block_reason + parse_page over {label}, {rounds} rounds x {repeat} passes (median ms/page)")
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
    ap.add_argument("--simulated", type=int, default=40, metavar="N", help="simulated pages per family (0: none)")
    args = ap.parse_args()
    compare(args.against, args.rounds, args.repeat, args.compare, args.simulated)


if __name__ == "__main__":
    main()
