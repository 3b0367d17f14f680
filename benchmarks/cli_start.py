"""How long `xxgk` takes to start: the median wall time of `--help`, `ls` and `show` against a small demo
archive, beside a bare interpreter start (the machine is noisy: compare within one run), then the
modules that cost the most to import on the `show` path (`python -X importtime`), summed per package.

    .venv/bin/python benchmarks/cli_start.py [--runs 9] [--dir PATH (keep / reuse the demo archive)]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

XXGK = [sys.executable, str(Path(sys.executable).with_name("xxgk"))]   # the console script, as users run it


def demo_archive(root: Path) -> tuple[Path, str]:
    """A 20-document demo archive in `root` (made once) and one 索引号 in it."""
    cfg = root / "xxgk.toml"
    if not cfg.exists():
        subprocess.run(XXGK + ["demo", "--dir", str(root), "--docs", "20", "--days", "1", "--port", "0"],
                       check=True, capture_output=True)
    first = subprocess.run(XXGK + ["--config", str(cfg), "ls", "--json", "--limit", "1"], check=True,
                           capture_output=True, text=True).stdout
    return cfg, json.loads(first)["index_no"]


def wall(cmd: list[str], runs: int) -> float:
    """Median seconds of `runs` runs of `cmd` (output discarded; a failing command stops the benchmark)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_offenders(cmd: list[str], top: int) -> list[tuple[str, float]]:
    """Import time (ms, self time summed per top-level package) of the modules `cmd` loads."""
    err = subprocess.run([sys.executable, "-X", "importtime"] + cmd[1:], capture_output=True, text=True).stderr
    per_package: Counter[str] = Counter()
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        per_package[name.strip().split(".")[0]] += int(self_us) / 1000
    return per_package.most_common(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--dir", type=Path, help="demo archive folder (made when missing, kept)")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="xxgk-start-"))
    cfg, index_no = demo_archive(root)
    base = XXGK + ["--config", str(cfg)]
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "xxgk --help": XXGK + ["--help"],
                "xxgk ls": base + ["ls"],
                "xxgk ls --json": base + ["ls", "--json"],
                "xxgk show": base + ["show", index_no],
                "xxgk show --json": base + ["show", index_no, "--json"],
                "xxgk sources": base + ["sources"]}
    print(f"median wall time of {args.runs} runs (archive {root}, document {index_no})")
    for name, cmd in commands.items():
        print(f"  {name:<20} {wall(cmd, args.runs):6.3f} s")
    print(f"\nimport time of `xxgk show`, self time summed per package (top {args.top}):")
    offenders = import_offenders(base + ["show", index_no], args.top)
    for package, ms in offenders:
        print(f"  {package:<24} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
