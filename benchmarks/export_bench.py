"""Export throughput and memory: crawl a simulated portal of each size once, then export it as JSON Lines,
CSV and WARC (each in a fresh process, to a null sink) and print documents (captures) per second, CPU per
row and the exporting process's peak RSS, for each size: a streamed export keeps its peak RSS flat as the
archive grows.
    .venv/bin/python benchmarks/export_bench.py [--docs 1000 10000] [--family hanweb-jpage]
                                                [--keep DIR (crawled archives kept and reused)]
                                                [--compare CHECKOUT (its export code, same archives, same run)]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

HERE = Path(__file__).resolve().parent.parent
FORMATS = ("jsonl", "csv", "warc")


def crawl(docs: int, family: str, where: Path) -> tuple[str, str]:
    """A crawled simulator archive of `docs` documents in `where` (reused when already there)."""
    from scraper.config import parse_config

    done = where / "crawled"
    if not done.exists():
        from scraper.crawl import crawl_source
        from simulator import PortalSimulator
        from storage.archive import open_archive
        from storage.db import open_database

        with PortalSimulator(seed=1, docs=docs, family=family) as sim:
            urls = ", ".join(f'"{u}"' for u in sim.column_urls)
            cfg = parse_config(_toml(urls, family), "bench.toml", where, None)
            engine, store = open_database(cfg.database_url), open_archive(cfg.archive_url)
            asyncio.run(crawl_source(cfg, cfg.sources[0], engine, store, full=True))
            engine.dispose()
        done.write_text("ok")
    cfg = parse_config(_toml('"http://127.0.0.1:9/"', family), "bench.toml", where, None)
    return cfg.database_url, cfg.archive_url


def _toml(urls: str, family: str) -> str:
    return f'[[sources]]\nname = "bench"\nstart_urls = [{urls}]\nfamily = "{family}"\nrate = 0\nconcurrency = 8\n'


def export_once(fmt: str, database_url: str, archive_url: str) -> dict:
    """One export in this process (run in a fresh one): rows, wall, CPU, peak RSS before and after."""
    from storage import export, warc
    from storage.archive import open_archive
    from storage.db import open_readonly, read_session

    engine, store = open_readonly(database_url), open_archive(archive_url)
    with read_session(engine) as s:  # imports, connection and mappers warmed up before the baseline
        next(export.iter_documents(s, batch=1), None)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    with read_session(engine) as s:
        if fmt == "warc":
            with open(os.devnull, "wb") as null:
                n = warc.write_warc(s, store, null).captures
        else:
            with open(os.devnull, "w", encoding="utf-8") as null:
                rows = export.iter_documents(s, files_text=fmt == "jsonl")
                n = (export.write_jsonl if fmt == "jsonl" else export.write_csv)(rows, null)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": n, "wall": wall, "cpu": cpu, "rss_start_mb": rss0 / 1024, "rss_peak_mb": rss1 / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--family", default="hanweb-jpage")
    ap.add_argument("--keep", type=Path, help="keep the crawled archives here (and reuse them)")
    ap.add_argument("--compare", type=Path, help="another checkout, measured in the same run")
    ap.add_argument("--one", nargs=3, metavar=("FORMAT", "DB", "ARCHIVE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    logger.remove()
    if args.one:
        print(json.dumps(export_once(*args.one)))
        return
    trees = [HERE] + ([args.compare.resolve()] if args.compare else [])
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        print(f"{args.family}; columns: " + " | ".join(map(str, trees)))
        for docs in args.docs:
            where = base / f"{args.family}-{docs}"
            where.mkdir(parents=True, exist_ok=True)
            db, archive = crawl(docs, args.family, where)
            for fmt in FORMATS:
                cells = []
                for tree in trees:
                    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", fmt, db, archive]
                    env = {**os.environ, "PYTHONPATH": str(tree)}
                    run = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=True)
                    r = json.loads(run.stdout.strip().splitlines()[-1])
                    cells.append(
                        f"{r['rows']} in {r['wall']:6.2f} s: {r['rows'] / r['wall']:7.0f}/s, "
                        f"{r['cpu'] / max(r['rows'], 1) * 1000:5.2f} ms CPU each, "
                        f"peak RSS {r['rss_peak_mb']:4.0f} MB ({r['rss_start_mb']:.0f} MB before)"
                    )
                print(f"{docs:>6} docs, {fmt:<6}" + " | ".join(cells))


if __name__ == "__main__":
    main()
