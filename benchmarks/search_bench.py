"""Build a 100,000-document archive, then time search and exports.

Documents are synthesised with the simulator's text generator and written through storage exactly as
a crawl writes them (blob -> capture row -> apply_parse -> search index), in batches of 500. Then it
prints search p50/p95 for 2-, 3- and 6-character queries (what `xxgk search` does: match, rank, load
the top 20, snippets), and runs `xxgk export` (jsonl, warc) in child processes on a tenth of the
archive and on all of it: throughput and each child's peak RSS (flat memory: the two should match).

    .venv/bin/python benchmarks/search_bench.py [--docs 100000] [--dir PATH (keep / reuse the archive)]

Blob fsyncs are skipped while building (they would dominate the build and are not what is measured).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

TWO = ["政府", "法治", "开化", "乡镇", "工作", "农田", "审计", "防汛", "医共", "王喆"]
THREE = ["开化县", "政府采", "高标准", "县财政", "防汛防", "医共体", "双随机", "碳达峰", "耕地保", "林山乡"]
SIX = [
    "法治政府建设",
    "农村人居环境",
    "高标准农田建",
    "行政复议体制",
    "预算绩效管理",
    "县域医共体建",
    "钱江源国家公",
    "城镇燃气安全",
    "家庭医生签约",
    "国土空间规划",
]
PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>'
    '<div class="nav">{nav}</div><table class="xxgk_table"><tr><td>索引号：</td><td>{index_no}</td>'
    "<td>发布单位：</td><td>{publisher}</td></tr><tr><td>公开日期：</td><td>{date}</td><td>文号：</td>"
    '<td></td></tr></table><h1>{title}</h1><div id="zoom">{body}</div><div class="footer">{nav}</div>'
    "</body></html>"
)
NAV = "".join(f'<a href="/col/col{1229402000 + i}/index.html">栏目{i}</a>' for i in range(60))


def build(root: Path, n: int) -> float:
    import storage.archive as archive
    from simulator import text
    from simulator.site import ORGANS
    from storage.archive import LocalBlobStore
    from storage.captures import archive_response
    from storage.db import open_database, session
    from storage.documents import Parsed, apply_parse
    from storage.models import Source

    archive.os.fsync = lambda fd: None  # build speed only: see the module docstring
    engine = open_database(f"sqlite:///{root}/data/xxgk.db")
    store = LocalBlobStore(root / "data" / "archive")
    with session(engine) as s:
        s.add(Source(name="bench", family="hanweb-jpage"))
        s.commit()
    rng = random.Random(1)
    started = time.perf_counter()
    for start in range(0, n, 500):
        with session(engine) as s:
            for i in range(start, min(n, start + 500)):
                organ = rng.choice(ORGANS)
                topic = rng.choice(organ.topics)
                date = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 4017))
                title, genre = text.make_title(rng, topic, organ.full, date.year)
                blocks = text.make_body(rng, topic, organ.full, date.year)
                if rng.random() < 0.05:
                    blocks.append(("p", text.contact_line(rng, gbk_only=rng.random() < 0.5)))
                body = "\n".join(b[1] if b[0] != "table" else "\n".join(" ".join(r) for r in b[1]) for b in blocks)
                index_no = f"{organ.uscc}/{date.year}-{i:05d}"
                url = f"http://bench.example/art/{date.year}/{date.month}/{date.day}/art_1_{i}.html"
                html = PAGE.format(
                    title=title,
                    nav=NAV,
                    index_no=index_no,
                    publisher=organ.short,
                    date=date,
                    body="".join(f"<p>{line}</p>" for line in body.splitlines()),
                )
                fetched = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 1_000_000))
                cap = archive_response(
                    s,
                    store,
                    url=url,
                    status=200,
                    body=html.encode("utf-8"),
                    headers=[("content-type", "text/html; charset=utf-8")],
                    request_headers=[("host", "bench.example"), ("user-agent", "xxgk-bench")],
                    fetched_at=fetched,
                    source_id=1,
                    kind="article",
                )
                record = {
                    "index_no": index_no,
                    "title": title,
                    "publisher": organ.short,
                    "publish_date": date.isoformat(),
                    "topic": topic,
                    "genre": genre,
                    "fields": {"索引号": index_no, "发布单位": organ.short, "公开日期": date.isoformat()},
                    "attachments": [],
                }
                apply_parse(
                    s,
                    source_id=1,
                    url=url,
                    capture_id=cap.id,
                    seen_at=fetched,
                    parsed=Parsed(record=record, body_text=body, content_hash=f"{i}", parser_version="1"),
                )
            s.commit()
        if (start // 500) % 20 == 0:
            print(f"  built {min(n, start + 500):>7,} documents, {time.perf_counter() - started:6.0f} s", flush=True)
    return time.perf_counter() - started


def time_searches(root: Path) -> None:
    from storage import search
    from storage.db import open_database, read_session
    from storage.search_hits import search_documents

    engine = open_database(f"sqlite:///{root}/data/xxgk.db")
    with read_session(engine) as s:
        for label, queries in (("2 chars", TWO), ("3 chars", THREE), ("6 chars", SIX)):
            times, matches = [], []
            for q in queries:
                matches.append(search.count(s.connection(), q))
                for _ in range(5):
                    t0 = time.perf_counter()
                    search_documents(s, q, limit=20)
                    times.append((time.perf_counter() - t0) * 1000)
            qs = statistics.quantiles(times, n=20)
            print(
                f"search {label}: p50 {statistics.median(times):7.1f} ms   p95 {qs[18]:7.1f} ms   "
                f"(matches per query {min(matches):,}..{max(matches):,})"
            )


def run_export(root: Path, *args: str) -> tuple[float, float, int]:
    """(seconds, peak RSS MB of the child, bytes written) for `xxgk export ARGS -o FILE`."""
    target = root / ("out.warc.gz" if "warc" in args else "out.jsonl")
    cmd = [
        sys.executable,
        "-m",
        "cli.main",
        "-q",
        "--config",
        str(root / "xxgk.toml"),
        "export",
        *args,
        "-o",
        str(target),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"export failed: {' '.join(args)}: {proc.stderr.read().decode()}")
    size = target.stat().st_size
    target.unlink()
    return seconds, usage.ru_maxrss / 1024, size


def exports(root: Path, n: int) -> None:
    from storage.db import open_database, read_session
    from storage.queries import DocFilter, count_documents
    from storage.warc import count_captures

    engine = open_database(f"sqlite:///{root}/data/xxgk.db")
    with read_session(engine) as s:
        docs_tenth = count_documents(s, DocFilter(since="2024-11-26"))
        caps_tenth = count_captures(s, since="2025-10-24")
    for fmt, since, tenth, unit in (
        ("jsonl", "2024-11-26", docs_tenth, "documents"),
        ("warc", "2025-10-24", caps_tenth, "captures"),
    ):
        for label, args, count in (("a tenth", ("--since", since), tenth), ("all", (), n)):
            secs, rss, size = run_export(root, "--format", fmt, *args)
            print(
                f"export {fmt:5} {label:8}: {count:>7,} {unit} in {secs:6.1f} s = {count / secs:7.0f}/s, "
                f"{size / secs / 1e6:5.1f} MB/s written, peak RSS {rss:5.0f} MB"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, help="Build here (reused when it already holds an archive).")
    args = ap.parse_args()
    logger.remove()
    root = args.dir or Path(tempfile.mkdtemp(prefix="xxgk-search-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "xxgk.toml").write_text(
        '[settings]\ndata_dir = "data"\nlog_file = false\n\n[[sources]]\nname = "bench"\n'
        'start_urls = ["http://bench.example/col/col1/index.html"]\n',
        "utf-8",
    )
    if not (root / "data" / "xxgk.db").exists():
        print(f"building {args.docs:,} documents in {root}")
        secs = build(root, args.docs)
        print(f"built in {secs:.0f} s ({args.docs / secs:.0f} documents/s, search index included)")
    db = root / "data" / "xxgk.db"
    blobs = sum(p.stat().st_size for p in (root / "data" / "archive").rglob("*.zst"))
    print(f"database {db.stat().st_size / 1e6:,.0f} MB, archive {blobs / 1e6:,.0f} MB")
    time_searches(root)
    exports(root, args.docs)
    if not args.dir:
        print(f"(archive left in {root}; delete it when done)")


if __name__ == "__main__":
    main()
