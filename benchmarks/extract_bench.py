"""File text extraction: files/s and MB/s per format, and peak memory on a 5 MB and a 50 MB PDF.

Real files are made first (tests/file_samples.py: fpdf2 with a CJK font, python-docx, openpyxl, OFD,
GBK text, zips), then each set is read by `scraper.extract.extract` in a child process of its own,
which reports its RSS before reading (imports + the file bytes in memory) and its peak RSS after.
Memory is flat when the 50 MB PDF (ten times the pages) peaks as far above its baseline as the 5 MB
one once one copy of the file is taken off (`-file`: pypdf holds a copy of the bytes while it reads). The PDFs carry an incompressible image per page to reach their size, as scans-with-text do.

    .venv/bin/python benchmarks/extract_bench.py [--files 20] [--big-mb 50] [--dir PATH (reuse the files)]

For scale: a polite crawl fetches ~1 request/s per source, a few sources at once; see the files/s column.
Last, the same simulator portal (every attachment a real PDF of its own) is crawled twice (no rate
limit unless --crawl-rate), with `extract_files = false` and `true`: the crawl's wall time side by side, and how long after
it the last file was read (the stage drains before `xxgk crawl` returns).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logging.getLogger("fpdf").setLevel(logging.ERROR)  # the CJK font has no digits: fine for timing
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
LINE = "关于印发二〇二五年法治政府建设工作要点的通知，各乡镇人民政府、县政府各部门：现将工作要点印发给你们，请认真贯彻落实。"


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM; unlike ru_maxrss, not
    inherited from the parent that started it)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def big_pdf(pages: int) -> bytes:
    """`pages` pages of Chinese text, each with a ~97 KB incompressible image."""
    import file_samples as fs
    from fpdf import FPDF
    from PIL import Image

    doc = FPDF()
    doc.add_font("cjk", fname=fs.need_cjk_font())
    doc.set_font("cjk", size=11)
    for i in range(pages):
        doc.add_page()
        doc.multi_cell(0, 6, f"第{i + 1}页 " + LINE * 6)
        doc.image(Image.frombytes("RGB", (180, 180), os.urandom(180 * 180 * 3)), x=10, y=150, w=60)
    return bytes(doc.output())


def make_files(folder: Path, n: int, big_mb: int) -> None:
    import file_samples as fs

    sets = {
        "pdf": lambda i: fs.pdf([f"第{i}号文件 " + LINE * 8] * 5),
        "docx": lambda i: fs.docx([f"第{i}号文件"] + [LINE] * 60, [["项目", "金额"]] + [["道路改造", "一百万元"]] * 40),
        "xlsx": lambda i: fs.xlsx(
            {"预算表": [["科目", "金额", "说明"]] + [["教育支出", j * 1.5, LINE[:20]] for j in range(400)]}
        ),
        "ofd": lambda i: fs.ofd([[LINE] * 30 for _ in range(5)]),
        "txt": lambda i: (LINE * 300).encode("gb18030"),
        "zip": lambda i: fs.zip_of({"a.txt": (LINE * 50).encode(), "b.docx": fs.docx([LINE] * 30)}),
    }
    for kind, make in sets.items():
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (folder / kind / f"{i}.{kind}").write_bytes(make(i))
    per_page = len(big_pdf(2)) / 2
    for label, mb in (("pdf-small", big_mb / 10), ("pdf-big", big_mb)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / "0.pdf").write_bytes(big_pdf(max(2, int(mb * 1e6 / per_page))))


def child(folder: Path) -> None:
    """Read every file of `folder`; print one JSON line (runs in its own process)."""
    from scraper.extract import extract

    paths = sorted(folder.iterdir())
    datas = [(p.name, p.read_bytes()) for p in paths]
    extract(*datas[0][::-1]) if len(datas) > 1 else extract(b"warm-up", "x.txt")  # imports, not timed
    base = rss_mb()
    started = time.perf_counter()
    statuses, pages, chars = {}, 0, 0
    for name, data in datas:
        got = extract(data, name)
        statuses[got.status] = statuses.get(got.status, 0) + 1
        pages += len(got.pages)
        chars += sum(map(len, got.pages))
    seconds = time.perf_counter() - started
    peak = rss_mb("VmHWM")
    print(
        json.dumps(
            {
                "files": len(datas),
                "bytes": sum(len(d) for _, d in datas),
                "seconds": seconds,
                "pages": pages,
                "chars": chars,
                "statuses": statuses,
                "base_mb": base,
                "peak_mb": peak,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--big-mb", type=int, default=50)
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--crawl-docs", type=int, default=400)
    ap.add_argument("--crawl-rate", type=float, default=0, help="requests/s of the side-by-side crawl (0: unlimited)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="extract-bench-"))
    if not (folder / "pdf-big").exists():
        started = time.perf_counter()
        make_files(folder, args.files, args.big_mb)
        print(f"made the files in {folder} in {time.perf_counter() - started:.0f}s")
    print(
        f"{'set':<10} {'files':>5} {'MB':>7} {'pages':>6} {'files/s':>8} {'MB/s':>7} {'base RSS':>9} "
        f"{'peak RSS':>9} {'peak-base':>9} {'-file':>6}  statuses"
    )
    for kind in ("pdf", "docx", "xlsx", "ofd", "txt", "zip", "pdf-small", "pdf-big"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(folder / kind)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        mb = r["bytes"] / 1e6
        print(
            f"{kind:<10} {r['files']:>5} {mb:>7.1f} {r['pages']:>6} {r['files'] / r['seconds']:>8.1f} "
            f"{mb / r['seconds']:>7.1f} {r['base_mb']:>7.0f}MB {r['peak_mb']:>7.0f}MB {r['peak_mb'] - r['base_mb']:>7.0f}MB"
            f" {r['peak_mb'] - r['base_mb'] - mb / max(r['files'], 1):>4.0f}MB"
            f"  {r['statuses']}"
        )
    crawl_side_by_side(args.crawl_docs, args.crawl_rate)


def crawl_side_by_side(docs: int, rate: float = 0) -> None:
    import file_samples as fs

    from simulator import PortalSimulator
    from storage.db import open_database

    with PortalSimulator(seed=3, docs=docs) as sim:
        names = sorted({a.filename for d in sim.corpus.docs(1).values() for a in d.attachments})
        for i, name in enumerate(names):
            sim.serve_file(
                name,
                fs.pdf(
                    [
                        f"第{'一二三四五'[j]}页 " + LINE * 6 + "编号" + "零一二三四五六七八九"[i % 10] * (i // 10 + 1)
                        for j in range(5)
                    ]
                ),
            )
        print(
            f"\ncrawl of {docs} documents, {len(names)} attachments (5-page PDFs), "
            f"rate {f'{rate:g} requests/s' if rate else 'unlimited'}:"
        )
        for extract_files in ("false", "true"):
            root = Path(tempfile.mkdtemp(prefix="extract-crawl-"))
            urls = ", ".join(f'"{u}"' for u in sim.column_urls)
            (root / "xxgk.toml").write_text(
                f'[settings]\ndata_dir = "data"\nextract_files = {extract_files}\n'
                f'[[sources]]\nname = "kaihua"\nstart_urls = [{urls}]\n'
                f'family = "hanweb-jpage"\nrate = {rate}\nconcurrency = 4\n',
                "utf-8",
            )
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cli.main", "--config", str(root / "xxgk.toml"), "-q", "crawl", "kaihua"],
                cwd=ROOT,
                check=True,
            )
            wall = time.perf_counter() - started
            engine = open_database(f"sqlite:///{root}/data/xxgk.db")
            with engine.connect() as conn:
                run = conn.exec_driver_sql("SELECT started_at, finished_at FROM crawl_runs").one()
                read = conn.exec_driver_sql("SELECT count(*), max(extracted_at) FROM file_texts").one()
            crawl = (_ts(run[1]) - _ts(run[0])).total_seconds()
            after = (
                f", last file read {(_ts(read[1]) - _ts(run[1])).total_seconds():+.1f}s after the crawl ended"
                if read[0]
                else ""
            )
            print(
                f"  extract_files = {extract_files:<5}: crawl {crawl:5.1f}s, command {wall:5.1f}s, {read[0]} files read{after}"
            )


def _ts(value):
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


if __name__ == "__main__":
    main()
