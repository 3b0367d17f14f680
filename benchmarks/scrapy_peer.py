"""Scrapy and xxgk side by side on the same simulated portal, in one run: documents/s, CPU per document.

Scrapy is the peer our users would otherwise reach for. It runs in a venv of its own (made on first use
under ~/.cache/xxgk-bench; Scrapy is never a project dependency) and fetches and saves every list page,
article and attached file of a simulated TRS portal (static index_N.html paging, politeness off), each
response written to a file named by its sha256. xxgk then crawls a fresh copy of the same portal
(`--full`: fetch, archive, parse, database, attachments). Each runs in a child process; CPU is the
child's own (user + system), the portal's excluded; the portal's own CPU (its child process) is printed
per request, and the documents/s that cores / (crawler + portal CPU per document) allows.

    .venv/bin/python benchmarks/scrapy_peer.py [--docs 3000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

VENV = Path.home() / ".cache" / "xxgk-bench" / "scrapy-venv"
FILES = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar", "txt", "et")

SPIDER = textwrap.dedent("""
    import hashlib, json, re, sys, scrapy
    from pathlib import Path
    from scrapy.crawler import CrawlerProcess

    START, OUT, CONC = json.loads(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    FILES = tuple("." + e for e in FILE_TYPES)
    ARTICLE = re.compile(r"/t\\d{8}_\\d+\\.s?html?$")
    PAGES = re.compile(r'createPageHTML\\((\\d+),\\s*\\d+,\\s*"index",\\s*"(\\w+)"|countPage\\s*=\\s*(\\d+)')

    def save(body):
        (OUT / hashlib.sha256(body).hexdigest()).write_bytes(body)

    class Peer(scrapy.Spider):
        name = "peer"
        start_urls = START
        custom_settings = {"CONCURRENT_REQUESTS": CONC, "CONCURRENT_REQUESTS_PER_DOMAIN": CONC,
                           "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "ERROR",
                           "TELNETCONSOLE_ENABLED": False, "RETRY_ENABLED": True}
        docs = files = 0

        def parse(self, response):                 # a list page; the first names how many (TRS paging)
            save(response.body)
            paging = PAGES.search(response.text)
            if paging and not re.search(r"index_\\d+\\.", response.url):
                count = int(paging.group(1) or paging.group(3))
                ext = paging.group(2) or response.url.rsplit(".", 1)[1]
                for i in range(1, count):
                    yield scrapy.Request(response.urljoin(f"index_{i}.{ext}"), callback=self.parse)
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if ARTICLE.search(url) and "/jd/" not in url:
                    yield scrapy.Request(url, callback=self.article)

        def article(self, response):
            save(response.body)
            Peer.docs += 1
            for href in response.css("a::attr(href)").getall():
                if href.lower().endswith(FILES):
                    yield scrapy.Request(response.urljoin(href), callback=self.file)

        def file(self, response):
            save(response.body)
            Peer.files += 1

    proc = CrawlerProcess()
    proc.crawl(Peer)
    proc.start()
    print(json.dumps({"docs": Peer.docs, "files": Peer.files}))
""").replace("FILE_TYPES", repr(FILES))


def scrapy_python() -> str:
    python = VENV / "bin" / "python"
    if not python.exists():
        print("making the Scrapy venv (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "scrapy>=2.11"], check=True)
    return str(python)


def serve(docs: int, conn) -> None:
    from simulator import PortalSimulator

    with PortalSimulator(seed=1, docs=docs, family="trs-static") as sim:
        conn.send(sim.column_urls)
        cpu0 = time.process_time()  # the portal's threads, serving one crawler
        conn.recv()
        conn.send((len(sim.requests), time.process_time() - cpu0))


def portal(docs: int):
    parent, child = mp.Pipe()
    proc = mp.Process(target=serve, args=(docs, child), daemon=True)
    proc.start()
    return proc, parent, parent.recv()


def child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str]) -> tuple[float, float, str]:
    cpu0, t0 = child_cpu(), time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, child_cpu() - cpu0, out


def run_scrapy(docs: int, conc: int, tmp: Path) -> dict:
    proc, pipe, columns = portal(docs)
    spider, out = tmp / "peer.py", tmp / "scrapy-out"
    spider.write_text(SPIDER)
    out.mkdir()
    wall, cpu, stdout = timed([scrapy_python(), str(spider), json.dumps(columns), str(out), str(conc)])
    served = stop(proc, pipe)
    got = json.loads(stdout.strip().splitlines()[-1])
    return {"docs": got["docs"], "files": got["files"], "wall": wall, "cpu": cpu, **served}


def stop(proc, pipe) -> dict:
    """Stop the portal; how many requests it served and its own CPU seconds doing so."""
    pipe.send("stop")
    requests, cpu = pipe.recv()
    proc.join(timeout=10)
    return {"requests": requests, "portal_cpu": cpu}


def run_xxgk(docs: int, conc: int, tmp: Path, parse_workers: int = 0) -> dict:
    proc, pipe, columns = portal(docs)
    urls = ", ".join(json.dumps(u) for u in columns)
    config = tmp / "xxgk.toml"
    config.write_text(
        '[settings]\ndata_dir = "data"\nlog_file = false\n'
        + (f"parse_workers = {parse_workers}\n" if parse_workers else "")
        + '\n[[sources]]\nname = "peer"\n'
        f'start_urls = [{urls}]\nfamily = "trs-static"\nrate = 0\nconcurrency = {conc}\n'
    )
    xxgk = str(Path(sys.executable).with_name("xxgk"))
    wall, cpu, stdout = timed([xxgk, "-q", "--config", str(config), "crawl", "peer", "--full", "--json"])
    served = stop(proc, pipe)
    run = json.loads(stdout)
    return {
        "docs": run["new"] + run["changed"] + run["unchanged"],
        "files": run["attachments"],
        "wall": wall,
        "cpu": cpu,
        **served,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--parse-workers", type=int, default=0, help="xxgk's settings.parse_workers")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s").mkdir()
        (Path(tmp) / "x").mkdir()
        rows["scrapy (fetch+save)"] = run_scrapy(args.docs, args.concurrency, Path(tmp) / "s")
        rows["xxgk (full pipeline)"] = run_xxgk(args.docs, args.concurrency, Path(tmp) / "x", args.parse_workers)
    print(
        f"{args.docs} simulated TRS documents, concurrency {args.concurrency}, politeness off, "
        f"xxgk parse_workers {args.parse_workers}"
    )
    cores = len(os.sched_getaffinity(0))
    print(
        f"{'':22} {'docs':>6} {'files':>6} {'wall s':>7} {'docs/s':>8} {'CPU ms/doc':>11} {'requests':>9} "
        f"{'portal ms/req':>14} {'portal ms/doc':>14} {'bound docs/s':>13}"
    )
    for name, r in rows.items():
        docs = max(r["docs"], 1)
        own, portal_ms = r["cpu"] / docs * 1000, r["portal_cpu"] / docs * 1000
        print(
            f"{name:22} {r['docs']:>6} {r['files']:>6} {r['wall']:>7.1f} {r['docs'] / r['wall']:>8.1f} "
            f"{own:>11.2f} {r['requests']:>9} {r['portal_cpu'] / max(r['requests'], 1) * 1000:>14.2f} "
            f"{portal_ms:>14.2f} {cores * 1000 / (own + portal_ms):>13.1f}"
        )
    print(f"bound: {cores} cores / (crawler + portal CPU per document), when nothing else runs")
    s, x = rows["scrapy (fetch+save)"], rows["xxgk (full pipeline)"]
    print(
        f"xxgk / scrapy docs/s: {(x['docs'] / x['wall']) / (s['docs'] / s['wall']):.2f}x   "
        f"CPU per document: {(x['cpu'] / max(x['docs'], 1)) / (s['cpu'] / max(s['docs'], 1)):.2f}x"
    )


if __name__ == "__main__":
    main()
