"""Reparse and export throughput: crawl a simulated portal once, then time `reparse` twice over the
same archive — with the parser that crawled it (nothing to read again), as a new parser with the same
output (every version parsed again and compared) and as one whose output differs (every version
recorded as a re-parse) — and `export --format jsonl` (streamed to a null sink).
CPU is this process's and its parse workers' (each shown too); peak RSS is this process's growth over
what it held before that run (Linux).
    .venv/bin/python benchmarks/reparse_bench.py [--docs 2000] [--family hanweb-jpage] [--workers N]
                                                 [--compare CHECKOUT (e.g. ../main: its code, same run)]
                                                 [--postgres postgresql+psycopg://postgres@127.0.0.1/test]
With --compare, the same benchmark runs on CHECKOUT's code too (its packages first on PYTHONPATH), and
the two are printed side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger

HERE = Path(__file__).resolve().parent.parent


def _timed(fn) -> tuple[object, float, float, float, float]:
    """fn()'s result, wall seconds, CPU seconds of this process and of its reaped children (the parse
    workers), and this process's peak RSS growth in MB while fn ran (Linux; 0 elsewhere)."""
    rss0 = _reset_peak_rss()
    t0, c0 = time.perf_counter(), os.times()
    out = fn()
    c1 = os.times()
    wall = time.perf_counter() - t0
    return out, wall, sum(c1[:2]) - sum(c0[:2]), sum(c1[2:4]) - sum(c0[2:4]), _peak_rss() - rss0


def _reset_peak_rss() -> float:
    """Resets this process's peak RSS to its RSS now (Linux: /proc/self/clear_refs) and returns it, MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return _peak_rss()
    return _peak_rss()


def _peak_rss() -> float:
    try:
        status = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), 0.0)


@contextmanager
def _database(postgres: str | None) -> Iterator[str]:
    """The config line naming the database: SQLite in the data folder, or a fresh schema of `postgres`
    (dropped afterwards)."""
    from crawl_bench import fresh_schema  # benchmarks/ is sys.path[0]

    with fresh_schema(postgres) as url:
        yield f'[settings]\ndatabase_url = "{url}"\n' if url else ""


def measure(docs: int, family: str, workers: int | None, profile: bool = False, postgres: str | None = None) -> dict:
    import inspect

    from scraper import process
    from scraper.config import parse_config
    from scraper.crawl import crawl_source
    from scraper.reparse import reparse_archive, source_ids
    from simulator import PortalSimulator
    from storage import export
    from storage.archive import open_archive
    from storage.db import open_database, read_session

    kw = {"workers": workers} if "workers" in inspect.signature(reparse_archive).parameters else {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        PortalSimulator(seed=1, docs=docs, family=family) as sim,
        _database(postgres) as db_line,
    ):
        urls = ", ".join(f'"{u}"' for u in sim.column_urls)
        cfg = parse_config(
            f'{db_line}[[sources]]\nname = "bench"\nstart_urls = [{urls}]\nfamily = "{family}"\nrate = 0\n'
            "concurrency = 8\n",
            "bench.toml",
            Path(tmp),
            None,
        )
        engine, store = open_database(cfg.database_url), open_archive(cfg.archive_url)
        crawled = asyncio.run(crawl_source(cfg, cfg.sources[0], engine, store, full=True))
        ids = source_ids(engine, None)
        out = {"crawled": crawled.new}
        real_parse = process.parse_article

        def changed_parse(data, url, content_type=None):  # a parser whose output differs: all re-parses
            art = real_parse(data, url, content_type)
            art.body_text = art.body_text.replace("，", ",")
            return art

        for mode in ("same parser", "new parser", "changed output"):
            # a bumped parser version: every version is read again (the same output, then a different one)
            process.PARSER_VERSION = str(int(process.PARSER_VERSION) + (mode != "same parser"))
            if mode == "changed output":
                process.parse_article = changed_parse
            run = lambda: reparse_archive(engine, store, ids, **kw)  # noqa: E731
            if profile and mode == "changed output":
                run = _profiled(run)
            sm, wall, cpu, workers_cpu, rss = _timed(run)
            out[f"reparse, {mode}"] = (sm.versions, wall, cpu, workers_cpu, rss)

        def run_export() -> int:
            with read_session(engine) as s, open(os.devnull, "w", encoding="utf-8") as null:
                return export.write_jsonl(export.iter_documents(s), null)

        n, wall, cpu, _, rss = _timed(run_export)
        out["export jsonl"] = (n, wall, cpu, None, rss)
    return out


def _profiled(fn):
    """fn, run under cProfile: the top functions (this process only) printed to stderr."""

    def run():
        import cProfile
        import pstats

        prof = cProfile.Profile()
        out = prof.runcall(fn)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        return out

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--family", default="hanweb-jpage")
    ap.add_argument("--workers", type=int, default=None, help="parse processes (default: one a core)")
    ap.add_argument("--compare", type=Path, help="another checkout, measured in the same run")
    ap.add_argument("--postgres", metavar="URL", help="on PostgreSQL (a fresh schema of this database)")
    ap.add_argument("--profile", action="store_true", help="profile the changed-output reparse (stderr)")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one tree's figures, for --compare
    args = ap.parse_args()
    logger.remove()
    if args.json:
        print(json.dumps(measure(args.docs, args.family, args.workers, args.profile, args.postgres)))
        return
    trees = [HERE] + ([args.compare.resolve()] if args.compare else [])
    results = []
    for tree in trees:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--json", "--docs", str(args.docs)]
        cmd += ["--family", args.family] + (["--workers", str(args.workers)] if args.workers else [])
        cmd += ["--postgres", args.postgres] if args.postgres else []
        env = {**os.environ, "PYTHONPATH": str(tree)}
        run = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=True)
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(f"{results[0]['crawled']} documents crawled ({args.family}); columns: " + " | ".join(map(str, trees)))
    for key in results[0]:
        if key == "crawled":
            continue
        cells = []
        for r in results:
            n, wall, cpu, workers, rss = r[key]
            ms = [sec / max(n, 1) * 1000 for sec in (cpu, workers or 0)]
            split = f" ({ms[0]:.2f} here + {ms[1]:.2f} parse workers)" if workers is not None else ""
            cells.append(
                f"{n} in {wall:6.2f} s: {n / wall:7.0f}/s, {sum(ms):5.2f} ms CPU each{split}, peak RSS +{rss:.0f} MB"
            )
        ratio = f"   x{results[1][key][1] / results[0][key][1]:.1f} faster" if len(results) > 1 else ""
        print(f"{key:<24}" + " | ".join(cells) + ratio)


if __name__ == "__main__":
    main()
