"""`xxgk serve` on a 100,000-document archive: page and API latency p50/p95.

The archive is search_bench.py's (built the same way, or reused with --dir). Each route is timed two
ways: server time (the app alone, in process, through an ASGI client: what the target is about) and
over real HTTP to a `uvicorn` server (what a browser waits, on this shared machine).

    .venv/bin/python benchmarks/web_bench.py [--docs 100000] [--dir PATH] [--runs 30]

Target: p50 <= 50 ms server time for the document, search and list pages.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from loguru import logger

sys.path.insert(0, str(Path(__file__).parent))
import search_bench  # noqa: E402 - the shared archive builder


def routes(engine) -> list[tuple[str, list[str]]]:
    """(label, URLs) for each route: several documents and queries, so caches do not flatter."""
    from sqlmodel import select

    from storage.db import read_session
    from storage.models import Document

    with read_session(engine) as s:
        ids = list(s.exec(select(Document.index_no).order_by(Document.id)))
    picks = random.Random(3).sample(ids, 10)
    qs = search_bench.TWO[:4] + search_bench.THREE[:3] + search_bench.SIX[:3]
    return [
        ("page  /                         sources", ["/"]),
        (
            "page  /sources/bench            list",
            ["/sources/bench", "/sources/bench?year=2020", "/sources/bench?publisher=县"],
        ),
        ("page  /documents/{index_no}     document", [f"/documents/{i}" for i in picks]),
        ("page  /search?q=                search", [f"/search?q={q}" for q in qs]),
        ("page  /documents/{i}/raw        raw", [f"/documents/{i}/raw" for i in picks]),
        (
            "api   /api/v1/documents         list",
            ["/api/v1/documents?limit=50", "/api/v1/documents?since=2020-01-01&limit=50"],
        ),
        ("api   /api/v1/documents/{i}     document", [f"/api/v1/documents/{i}" for i in picks]),
        ("api   /api/v1/search            search", [f"/api/v1/search?q={q}" for q in qs]),
        ("api   /api/v1/sources", ["/api/v1/sources"]),
        ("api   /api/v1/runs", ["/api/v1/runs"]),
    ]


async def _time_asgi(app, urls: list[str], runs: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
        for u in urls:
            assert (await c.get(u)).status_code == 200, u
        for i in range(runs):
            u = urls[i % len(urls)]
            t0 = time.perf_counter()
            r = await c.get(u)
            out.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, u
    return out


def _time_http(base: str, urls: list[str], runs: int) -> list[float]:
    out = []
    with httpx.Client(base_url=base) as c:
        for i in range(runs):
            t0 = time.perf_counter()
            c.get(urls[i % len(urls)]).raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def _p(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, help="Build here (reused when it already holds an archive).")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    logger.remove()
    root = args.dir or Path(tempfile.mkdtemp(prefix="xxgk-web-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "xxgk.toml").write_text(
        '[settings]\ndata_dir = "data"\nlog_file = false\n\n[[sources]]\nname = "bench"\n'
        'start_urls = ["http://bench.example/col/col1/index.html"]\n',
        "utf-8",
    )
    if not (root / "data" / "xxgk.db").exists():
        print(f"building {args.docs:,} documents in {root}")
        print(f"built in {search_bench.build(root, args.docs):.0f} s")

    import uvicorn

    from scraper.config import load_config
    from storage.archive import open_archive
    from storage.db import open_readonly
    from web.app import Archive, create_app

    cfg = load_config(str(root / "xxgk.toml"))
    app = create_app(Archive(cfg, open_readonly(cfg.database_url), open_archive(cfg.archive_url)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    print(f"{'route':42} {'server p50':>10} {'p95':>8}   {'HTTP p50':>8} {'p95':>8}  (ms, {args.runs} requests each)")
    for label, urls in routes(app.state.archive.engine):
        sp50, sp95 = _p(asyncio.run(_time_asgi(app, urls, args.runs)))
        hp50, hp95 = _p(_time_http(base, urls, args.runs))
        print(f"{label:42} {sp50:10.1f} {sp95:8.1f}   {hp50:8.1f} {hp95:8.1f}")
    server.should_exit = True
    if not args.dir:
        print(f"(archive left in {root}; delete it when done)")


if __name__ == "__main__":
    main()
