"""Reparse and export throughput: crawl a simulated portal once, then time `reparse` (every version
parsed again from its archived capture, recorded) and `export --format jsonl` (streamed to a null
sink) over the same archive, and print versions/s.
    .venv/bin/python benchmarks/reparse_bench.py [--docs 2000] [--family hanweb-jpage]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from loguru import logger


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--family", default="hanweb-jpage")
    args = ap.parse_args()
    logger.remove()

    from scraper.config import parse_config
    from scraper.crawl import crawl_source
    from scraper.reparse import reparse_archive, source_ids
    from simulator import PortalSimulator
    from storage import export
    from storage.archive import open_archive
    from storage.db import open_database, read_session

    with tempfile.TemporaryDirectory() as tmp, PortalSimulator(seed=1, docs=args.docs, family=args.family) as sim:
        urls = ", ".join(f'"{u}"' for u in sim.column_urls)
        cfg = parse_config(
            f'[[sources]]\nname = "bench"\nstart_urls = [{urls}]\nfamily = "{args.family}"\n'
            "rate = 0\nconcurrency = 8\n",
            "bench.toml",
            Path(tmp),
            None,
        )
        engine, store = open_database(cfg.database_url), open_archive(cfg.archive_url)
        crawled = asyncio.run(crawl_source(cfg, cfg.sources[0], engine, store, full=True))

        cpu0, t0 = time.process_time(), time.perf_counter()
        sm = reparse_archive(engine, store, source_ids(engine, None))
        reparse_wall, reparse_cpu = time.perf_counter() - t0, time.process_time() - cpu0

        cpu0, t0 = time.process_time(), time.perf_counter()
        with read_session(engine) as s, open(os.devnull, "w", encoding="utf-8") as null:
            exported = export.write_jsonl(export.iter_documents(s), null)
        export_wall, export_cpu = time.perf_counter() - t0, time.process_time() - cpu0

    print(f"archive               {crawled.new} documents crawled ({args.family})")
    print(
        f"reparse               {sm.versions} versions in {reparse_wall:.1f} s: "
        f"{sm.versions / reparse_wall:.0f} versions/s, {reparse_cpu / max(sm.versions, 1) * 1000:.2f} ms CPU each"
    )
    print(
        f"export jsonl          {exported} documents in {export_wall:.2f} s: "
        f"{exported / export_wall:.0f} documents/s, {export_cpu / max(exported, 1) * 1000:.2f} ms CPU each"
    )


if __name__ == "__main__":
    main()
