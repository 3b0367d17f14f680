"""Crawl a simulated 5,000-document portal (politeness off) and print throughput numbers.

The portal runs in a child process so the numbers (CPU seconds, peak RSS) are the crawler's own.
Documents link attachments (about 30 % of them), which are downloaded and archived too.
    .venv/bin/python benchmarks/crawl_bench.py [--docs 5000] [--concurrency 8] [--family hanweb-jpage] [--profile]

`--profile [loop|writer|all]` runs the crawl under cProfile and prints the top functions by own time
and by cumulative time, of the event loop (the main thread), of the group writer's thread, or both
(the timings then include the profiler's overhead: compare profiles with profiles, numbers with
numbers); `--profile-out FILE` also keeps the main thread's stats for pstats.
The portal's own CPU (its child process) is printed per request; with the machine's cores that bounds
documents/s: cores / (portal CPU + crawler CPU per document).
`--database postgresql+psycopg://USER@HOST/DB` crawls into a fresh schema of that database instead of SQLite.
`--compare CHECKOUT` (e.g. ../main) runs the benchmark alternately on this tree and on CHECKOUT's code
(its packages first on PYTHONPATH), `--rounds` times each, and prints the medians side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing as mp
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger


def serve(docs: int, family: str, conn) -> None:
    from simulator import PortalSimulator

    with PortalSimulator(seed=1, docs=docs, family=family) as sim:
        conn.send((sim.column_urls, len(sim.expected_documents())))
        cpu0 = time.process_time()  # the portal's threads, serving the crawl only
        conn.recv()  # wait for "stop"
        conn.send((len(sim.requests), time.process_time() - cpu0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--family", default="hanweb-jpage", help="the simulated portal's CMS family")
    ap.add_argument("--parse-workers", type=int, default=0, help="settings.parse_workers of the crawl")
    ap.add_argument("--database", help="a PostgreSQL URL: the crawl writes into a fresh schema there (default SQLite)")
    ap.add_argument(
        "--profile",
        nargs="?",
        const="all",
        choices=("loop", "writer", "all"),
        help="print the top functions of the event loop, the writer thread or both",
    )
    ap.add_argument("--profile-out", type=Path, help="with --profile: the event loop's pstats file")
    ap.add_argument("--compare", type=Path, help="another checkout, benchmarked alternately with this one")
    ap.add_argument("--rounds", type=int, default=3, help="runs per tree with --compare")
    args = ap.parse_args()
    if args.compare:
        return compare(args)
    logger.remove()

    parent, child = mp.Pipe()
    proc = mp.Process(target=serve, args=(args.docs, args.family, child), daemon=True)
    proc.start()
    columns, expected = parent.recv()

    from scraper.config import parse_config
    from scraper.crawl import Crawl
    from storage.archive import open_archive
    from storage.db import open_database

    with tempfile.TemporaryDirectory() as tmp, fresh_schema(args.database) as database:
        urls = ", ".join(f'"{u}"' for u in columns)
        settings = (f"parse_workers = {args.parse_workers}\n" if args.parse_workers else "") + (
            f'database_url = "{database}"\n' if database else ""
        )
        cfg = parse_config(
            f'[[sources]]\nname = "bench"\nstart_urls = [{urls}]\nfamily = "{args.family}"\n'
            f"rate = 0\nconcurrency = {args.concurrency}\nobey_robots = true\n"
            + (f"[settings]\n{settings}" if settings else ""),
            "bench.toml",
            Path(tmp),
            None,
        )
        engine = open_database(cfg.database_url)
        statements = count_statements(engine)
        store = open_archive(cfg.archive_url)
        cpu0, loop0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
        profiler = cProfile.Profile(time.thread_time) if args.profile else None
        writer_profiles: list[cProfile.Profile] = []
        writer_cpu = measure_writer()
        if profiler:
            if args.profile != "loop":
                profile_writer(writer_profiles)
            if args.profile != "writer":
                profiler.enable()
        crawl = Crawl(cfg, cfg.sources[0], engine, store, full=True)
        summary = asyncio.run(crawl.run())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the crawl's, before the tallies below
        if profiler:
            profiler.disable()
        wall, cpu, loop_cpu = time.perf_counter() - t0, time.process_time() - cpu0, time.thread_time() - loop0
        parse_cpu = getattr(getattr(crawl, "parser", None), "cpu", 0.0)  # parse workers (other processes)
        cpu += parse_cpu
        parent.send("stop")
        served, portal_cpu = parent.recv()
        engine.dispose()
        archive_bytes = sum(  # os.walk: Path.rglob keeps every path it yields (~50 MB at 100,000 documents)
            os.path.getsize(os.path.join(d, f))
            for d, _dirs, files in os.walk(Path(tmp, "data", "archive"))
            for f in files
            if f.endswith(".zst")
        )
    proc.join(timeout=10)

    docs = summary.new + summary.changed + summary.unchanged
    per_doc = cpu / max(docs, 1) * 1000
    portal_per_doc = portal_cpu / max(docs, 1) * 1000
    cores = len(os.sched_getaffinity(0))
    print(f"portal documents      {expected}")
    print(f"documents archived    {docs}  (status {summary.status}, errors {summary.errors})")
    print(f"family                {args.family}")
    print(f"requests              {summary.requests}  (portal served {served})")
    print(f"attachments archived  {summary.attachments}  (errors {summary.attachment_errors})")
    print(f"wall time             {wall:.1f} s")
    print(f"documents/s           {docs / wall:.1f}")
    print(f"requests/s            {summary.requests / wall:.1f}")
    print(f"CPU s per document    {per_doc:.2f} ms")
    print(f"  of which event loop {loop_cpu / max(docs, 1) * 1000:.2f} ms  (the main thread)")
    print(f"  of which parse pool {parse_cpu / max(docs, 1) * 1000:.2f} ms  (parse_workers {args.parse_workers})")
    print(f"  of which writer     {sum(writer_cpu) / max(docs, 1) * 1000:.2f} ms  (the group-commit thread)")
    print(f"SQL per document      {statements[0] / max(docs, 1):.1f}  ({statements[0]} statements, all kinds)")
    print(
        f"portal CPU            {portal_cpu / max(served, 1) * 1000:.2f} ms per request, {portal_per_doc:.2f} ms per document"
    )
    print(
        f"docs/s bound          {cores * 1000 / (per_doc + portal_per_doc):.1f}  "
        f"({cores} cores / (crawler + portal CPU per document))"
    )
    print(f"peak RSS (crawler)    {peak_mb:.0f} MB")
    print(f"archive on disk       {archive_bytes / 1e6:.1f} MB")
    if profiler and args.profile != "writer":
        print("\n== event loop (main thread), by own time ==")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        print("== event loop (main thread), cumulative ==")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
    if profiler:
        for prof in writer_profiles:
            print("== writer thread (group commit), by own time ==")
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
            pstats.Stats(prof).sort_stats("cumulative").print_stats("xxgk|wt-|storage|scraper", 40)


@contextmanager
def fresh_schema(database: str | None) -> Iterator[str | None]:
    """`database` (PostgreSQL) with a schema of this run's own as its search path, dropped at the end."""
    if not database:
        yield None
        return
    import sqlalchemy

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{database}{'&' if '?' in database else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def measure_writer() -> list[float]:
    """CPU seconds of each group writer's thread, filled in as each thread ends."""
    from storage.group_commit import GroupWriter

    run, seconds = GroupWriter._run, []

    def measured(self) -> None:
        try:
            run(self)
        finally:
            seconds.append(time.thread_time())

    GroupWriter._run = measured  # type: ignore[method-assign]
    return seconds


def profile_writer(into: list) -> None:
    """Run each group writer's thread under a profiler of its own (cProfile sees one thread only)."""
    from storage.group_commit import GroupWriter

    run = GroupWriter._run

    def profiled(self) -> None:
        prof = cProfile.Profile(time.thread_time)
        into.append(prof)
        prof.runcall(run, self)

    GroupWriter._run = profiled  # type: ignore[method-assign]


def count_statements(engine) -> list[int]:
    """A counter of every statement the engine sends (an executemany counts once)."""
    from sqlalchemy import event

    counter = [0]

    def count(*_a) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return counter


FIGURES = {
    "documents/s": r"documents/s\s+([\d.]+)",
    "CPU ms/doc": r"CPU s per document\s+([\d.]+)",
    "writer ms/doc": r"of which writer\s+([\d.]+)",
    "loop ms/doc": r"of which event loop\s+([\d.]+)",
    "SQL/doc": r"SQL per document\s+([\d.]+)",
    "portal ms/doc": r"portal CPU .* ([\d.]+) ms per document",
    "bound docs/s": r"docs/s bound\s+([\d.]+)",
    "peak RSS MB": r"peak RSS \(crawler\)\s+([\d.]+)",
    "requests/s": r"requests/s\s+([\d.]+)",
}


def compare(args) -> None:
    here, other = Path(__file__).resolve().parents[1], args.compare.resolve()
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--docs",
        str(args.docs),
        "--concurrency",
        str(args.concurrency),
        "--family",
        args.family,
        *(["--database", args.database] if args.database else []),
    ]
    runs: dict[Path, list[dict[str, float]]] = {here: [], other: []}
    for _ in range(args.rounds):
        for tree in runs:  # alternate, so both see the same noise
            env = {**os.environ, "PYTHONPATH": str(tree)}
            extra = ["--parse-workers", str(args.parse_workers)] if tree == here and args.parse_workers else []
            out = subprocess.run(cmd + extra, env=env, cwd=tree, check=True, capture_output=True, text=True).stdout
            runs[tree].append({k: float(m.group(1)) for k, rx in FIGURES.items() if (m := re.search(rx, out))})
    print(
        f"median of {args.rounds} runs, {args.docs} documents, {args.family}, parse_workers {args.parse_workers} here, "
        f"{'PostgreSQL' if args.database else 'SQLite'}"
    )
    print(f"  {'figure':<14}{here.name:>14}{other.name:>14}     ratio")
    for name in FIGURES:
        a, b = (statistics.median(r.get(name, float("nan")) for r in runs[t]) for t in (here, other))
        print(f"  {name:<14}{a:14.2f}{b:14.2f}  {a / b if b else float('nan'):8.2f}x")


if __name__ == "__main__":
    main()
