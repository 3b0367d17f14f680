"""Scale-out benchmark: 20 simulated portals on separate hosts (127.0.0.2 … 127.0.0.21), per-host
politeness on (5 requests/s a host), crawled through the queue by 1, 2 and 4 `xxgk worker` processes,
each taking the same number of sources at a time. Prints documents/s for each (target: 4 workers
>= 3.5x one, while politeness-bound).

    .venv/bin/python benchmarks/workers_bench.py [--docs 20] [--rate 5] [--per-worker 1] [--workers 1,2,4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy
from loguru import logger

ROOT = Path(__file__).resolve().parents[1]
XXGK = str(Path(sys.executable).with_name("xxgk"))
PORTALS = 20


def serve(seeds: list[int], docs: int, conn) -> None:
    """A child process serving some of the portals (so the portals are not the bottleneck)."""
    from simulator import PortalSimulator

    with ExitStack() as stack:
        sims = [stack.enter_context(PortalSimulator(seed=i, docs=docs, host=f"127.0.0.{i + 2}")) for i in seeds]
        conn.send({i: sim.column_urls for i, sim in zip(seeds, sims)})
        conn.recv()  # wait for "stop"


def start_portals(docs: int, groups: int = 4) -> tuple[list[list[str]], list]:
    """PORTALS portals on hosts 127.0.0.2 …, in `groups` child processes: (column URLs by portal, stoppers)."""
    urls: dict[int, list[str]] = {}
    stoppers = []
    for g in range(groups):
        parent, child = mp.Pipe()
        proc = mp.Process(target=serve, args=(list(range(g, PORTALS, groups)), docs, child), daemon=True)
        proc.start()
        stoppers.append((parent, proc))
        urls.update(parent.recv())
    return [urls[i] for i in range(PORTALS)], stoppers


def write_config(path: Path, url: str, portals, rate: float) -> Path:
    text = (
        f'[settings]\ndata_dir = "data"\ndatabase_url = "{url}"\nengine = "queue"\n'
        f"lease_seconds = 30\nretries = 2\ntimeout = 10\nlog_file = false\n\n"
    )
    for i, columns in enumerate(portals):
        urls = ", ".join(f'"{u}"' for u in columns)
        text += (
            f'[[sources]]\nname = "p{i:02d}"\nstart_urls = [{urls}]\nfamily = "hanweb-jpage"\n'
            f"rate = {rate}\nconcurrency = 2\n\n"
        )
    cfg = path / "xxgk.toml"
    cfg.write_text(text)
    return cfg


def one_round(n_workers: int, args, admin_url: str, portals, tmp: Path) -> tuple[float, int, int]:
    """(seconds, documents, requests) for crawling every portal once with n_workers workers."""
    from schedules.queue import CrawlQueue
    from scraper.config import load_config
    from scraper.crawl import ensure_source
    from storage.db import open_database

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in admin_url else "?"
    url = f"{admin_url}{sep}options=-csearch_path%3D{schema}"
    work = tmp / f"w{n_workers}"
    work.mkdir()
    cfg_path = write_config(work, url, portals, args.rate)
    cfg = load_config(cfg_path)
    engine = open_database(url)
    queue = CrawlQueue(engine, "bench").open()
    procs = []
    try:
        for i in range(n_workers):
            log = open(work / f"worker{i}.log", "wb")
            procs.append(
                subprocess.Popen(
                    [XXGK, "--config", str(cfg_path), "-v", "worker", "--concurrency", str(args.per_worker)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for i in range(n_workers):
            while "taking up to" not in (work / f"worker{i}.log").read_text("utf-8", "replace"):
                time.sleep(0.1)
        t0 = time.perf_counter()
        for src in cfg.sources:
            queue.enqueue(src, ensure_source(engine, src), trigger="manual", reason="benchmark")
        while True:
            with engine.connect() as conn:
                left = conn.exec_driver_sql(
                    "SELECT count(*) FROM crawl_runs WHERE status IN ('queued', 'running')"
                ).scalar()
            if not left:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        with engine.connect() as conn:
            docs = conn.exec_driver_sql("SELECT count(*) FROM documents").scalar()
            requests = conn.exec_driver_sql("SELECT sum(requests) FROM crawl_runs").scalar()
            for run_id, status, error in conn.exec_driver_sql(
                "SELECT id, status, error FROM crawl_runs WHERE status <> 'ok'"
            ):
                logger.warning("{} workers: run {} {}: {}", n_workers, run_id, status, (error or "")[:300])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        queue.close()
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
    return seconds, docs, requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20, help="documents per portal")
    ap.add_argument("--rate", type=float, default=5.0, help="requests/s per host (politeness)")
    ap.add_argument("--per-worker", type=int, default=1, help="sources each worker crawls at a time")
    ap.add_argument("--workers", default="1,2,4", help="worker counts to run, comma-separated")
    ap.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    sys.path.insert(0, str(ROOT))
    counts = [int(x) for x in args.workers.split(",")]
    results = []
    portals, stoppers = start_portals(args.docs)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(
                f"{PORTALS} portals x {args.docs} documents on hosts 127.0.0.2-{PORTALS + 1}, {args.rate:g} req/s "
                f"a host, {args.per_worker} source(s) at a time per worker"
            )
            for n in counts:
                seconds, docs, requests = one_round(n, args, args.database_url, portals, Path(tmp))
                results.append((n, seconds, docs, requests))
                print(
                    f"{n} worker(s): {docs} documents, {requests} requests in {seconds:.1f} s = "
                    f"{docs / seconds:.1f} documents/s ({requests / seconds:.1f} requests/s)",
                    flush=True,
                )
    finally:
        for conn, proc in stoppers:
            conn.send("stop")
            proc.join(timeout=10)
    base = results[0][2] / results[0][1]
    print("\nworkers  seconds  documents/s  speed-up")
    for n, seconds, docs, _ in results:
        print(f"{n:>7}  {seconds:>7.1f}  {docs / seconds:>11.1f}  {docs / seconds / base:>7.2f}x")


if __name__ == "__main__":
    main()
