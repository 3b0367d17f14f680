"""How long `xxgk` takes to start: the median wall time and CPU time (user + sys of the process) of `--help`,
`ls` and `show` against a small demo archive, beside a bare interpreter start, then the packages that cost the
most to import on the `show` path (`python -X importtime`, self time summed per top-level package).

    .venv/bin/python benchmarks/cli_start.py [--runs 9] [--dir PATH (keep / reuse the demo archive)]
                                             [--compare CHECKOUT (e.g. ../main: its code, same run)]

With --compare, each command runs alternately on this tree and on CHECKOUT's (its packages first on
PYTHONPATH), so the two columns share the machine's noise and their ratio is the figure to read. On a busy
machine the CPU columns are the steadier ones (wall time includes waiting for a core), and the least CPU of
the runs is the nearest to what an idle machine takes.

`xxgk crawl` is timed too: a whole `crawl --full` of a 10-document simulated TRS portal (served by this
process) into a new archive each run, its CPU all but the fixed cost of a crawl (start-up, a new database,
the file-text worker, the final reports). Each tree's packages run from a byte-compiled copy (made under
the archive folder), as an installed package is: with PYTHONDONTWRITEBYTECODE set, every start would
otherwise compile the project's modules from source.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
RUN = "import sys; sys.argv[0] = 'xxgk'; from cli.main import run; run()"  # what the console script does


CODE: dict[Path, Path] = {}  # tree -> the byte-compiled copy of its packages that runs (scrapy_peer.compiled)


def xxgk(tree: Path, *args: str) -> tuple[list[str], dict]:
    """The command on `tree`'s code: run from (the compiled copy of) `tree`, its packages first on PYTHONPATH."""
    code = CODE.get(tree, tree)
    return [sys.executable, "-c", RUN, *args], {**os.environ, "PYTHONPATH": str(code), "XXGK_TREE": str(code)}


def crawl_args(root: Path, columns: list[str]) -> list[str]:
    """`crawl --full` of the small portal into a new archive under `root` (a new folder each call)."""
    run = Path(tempfile.mkdtemp(prefix="crawl-", dir=root))
    urls = ", ".join(json.dumps(u) for u in columns)
    (run / "xxgk.toml").write_text(
        '[settings]\ndata_dir = "data"\nlog_file = false\n\n[[sources]]\nname = "small"\n'
        f'start_urls = [{urls}]\nfamily = "trs-static"\nrate = 0\nconcurrency = 8\n'
    )
    return ["-q", "--config", str(run / "xxgk.toml"), "crawl", "small", "--full"]


def demo_archive(root: Path) -> tuple[Path, str]:
    """A 20-document demo archive in `root` (made once) and one 索引号 in it."""
    cfg = root / "xxgk.toml"
    if not cfg.exists():
        cmd, env = xxgk(HERE, "demo", "--dir", str(root), "--docs", "20", "--days", "1", "--port", "0")
        subprocess.run(cmd, env=env, cwd=HERE, check=True, capture_output=True)
    cmd, env = xxgk(HERE, "--config", str(cfg), "ls", "--json", "--limit", "1")
    first = subprocess.run(cmd, env=env, cwd=HERE, check=True, capture_output=True, text=True).stdout
    return cfg, json.loads(first)["index_no"]


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def once(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run (an exit status 1, a crawl run that ended partial, counts)."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=env.get("XXGK_TREE"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[3:]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
    return time.perf_counter() - started, children_cpu() - cpu


def import_offenders(tree: Path, args: list[str], top: int) -> list[tuple[str, float]]:
    """Import time (ms, self time summed per top-level package) of the modules a command loads."""
    cmd, env = xxgk(tree, *args)
    err = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=tree, capture_output=True, text=True
    ).stderr
    per_package: Counter[str] = Counter()
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:") :].split("|")
        per_package[name.strip().split(".")[0]] += int(self_us) / 1000
    return per_package.most_common(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--dir", type=Path, help="demo archive folder (made when missing, kept)")
    ap.add_argument("--compare", type=Path, help="another checkout, timed alongside")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="xxgk-start-"))
    trees = [HERE] + ([args.compare.resolve()] if args.compare else [])
    from scrapy_peer import compiled  # benchmarks/ is sys.path[0]

    for i, tree in enumerate(trees):
        CODE[tree] = compiled(tree, Path(tempfile.mkdtemp(prefix=f"code-{i}-", dir=root)))
    cfg, index_no = demo_archive(root)
    base = ["--config", str(cfg)]
    commands = {
        "xxgk --help": ["--help"],
        "xxgk ls": [*base, "ls"],
        "xxgk ls --json": [*base, "ls", "--json"],
        "xxgk show": [*base, "show", index_no],
        "xxgk show --json": [*base, "show", index_no, "--json"],
        "xxgk sources": [*base, "sources"],
        "xxgk crawl (10)": lambda: crawl_args(root, portal.column_urls),
    }
    sys.path.insert(0, str(HERE))
    from simulator import PortalSimulator

    portal = PortalSimulator(seed=1, docs=10, family="trs-static").start()
    bare = [once([sys.executable, "-c", "pass"], dict(os.environ)) for _ in range(args.runs)]
    print(
        f"median (and least CPU) of {args.runs} runs, seconds (archive {root}, document {index_no}); load average "
        f"{os.getloadavg()[0]:.1f}; bare `python -c pass`: wall {statistics.median(w for w, _ in bare):.3f}, "
        f"CPU {statistics.median(c for _, c in bare):.3f}"
    )
    names = [t.name for t in trees]
    ratio = "     ratio" if len(trees) > 1 else ""
    head = ""
    for what in ("wall", "CPU", "CPU min"):  # CPU min: the least contended run, closest to an idle machine
        head += "".join(f"{n + ' ' + what:>17}" for n in names) + ratio
    print(f"  {'command':<18}{head}")
    for name, cmd_args in commands.items():
        runs: dict[Path, list[tuple[float, float]]] = {t: [] for t in trees}
        for _ in range(args.runs):
            for tree in trees:  # alternate, so both see the same noise
                runs[tree].append(once(*xxgk(tree, *(cmd_args() if callable(cmd_args) else cmd_args))))
        line = f"  {name:<18}"
        for part, stat in ((0, statistics.median), (1, statistics.median), (1, min)):
            figures = [stat(r[part] for r in runs[t]) for t in trees]
            line += "".join(f"{m:17.3f}" for m in figures)
            line += f"  {figures[0] / figures[1]:7.2f}x" if len(trees) > 1 else ""
        print(line)
    portal.stop()
    for tree in trees:
        print(f"\nimport time of `xxgk show` in {tree.name}, self time summed per package (top {args.top}):")
        for package, ms in import_offenders(tree, [*base, "show", index_no], args.top):
            print(f"  {package:<24} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
