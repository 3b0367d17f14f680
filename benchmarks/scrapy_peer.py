"""Scrapy and xxgk side by side on the same simulated portal, in one run: documents/s, CPU per document.

Scrapy is the peer our users would otherwise reach for. It runs in a venv of its own (made on first use
under ~/.cache/xxgk-bench; Scrapy is never a project dependency) and fetches and saves every list page,
article and attached file of a simulated TRS portal (static index_N.html paging, politeness off), each
response written to a file named by its sha256. xxgk then crawls a fresh copy of the same portal
(`--full`) twice: the pipeline as issue 13 defines it (fetch, archive, parse, database, attachments
fetched and archived; `extract_files = false`), then the same plus the text of the attached files
(issue 17, the default config). Each runs in a child process; CPU is the child's own (user + system,
its worker processes included), the portal's excluded; the portal's own CPU (its child process) is
printed per request, and the documents/s that cores / (crawler + portal CPU per document) allows.
Each xxgk row carries its ratio to Scrapy (docs/s, and CPU per document).

xxgk runs from a byte-compiled copy of each tree's packages (made in the benchmark's temporary folder), as
an installed package is: with PYTHONDONTWRITEBYTECODE set, every xxgk process (and each extraction worker)
would otherwise compile the project's modules from source at every start, which Scrapy's venv never does.

`--compare CHECKOUT` (e.g. ../main) crawls with CHECKOUT's code too (its packages first on PYTHONPATH),
alternately with this tree's, `--rounds` times (Scrapy once a round), and prints the medians side by side
with the ratio this tree / CHECKOUT.

    .venv/bin/python benchmarks/scrapy_peer.py [--docs 3000] [--concurrency 8] [--compare CHECKOUT --rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import statistics
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


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, float, str]:
    cpu0, t0 = child_cpu(), time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True, text=True).stdout
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


def compiled(tree: Path, dest: Path) -> Path:
    """A copy of `tree`'s packages in `dest`, byte-compiled (as an installed package is): what is timed."""
    for package in sorted(tree.iterdir()):
        if (package / "__init__.py").exists():
            shutil.copytree(package, dest / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(dest)], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return dest


def run_xxgk(docs: int, conc: int, tmp: Path, tree: Path, extract: bool, parse_workers: int = 0) -> dict:
    proc, pipe, columns = portal(docs)
    urls = ", ".join(json.dumps(u) for u in columns)
    tmp.mkdir(parents=True)
    config = tmp / "xxgk.toml"
    config.write_text(
        '[settings]\ndata_dir = "data"\nlog_file = false\n'
        + ("" if extract else "extract_files = false\n")
        + (f"parse_workers = {parse_workers}\n" if parse_workers else "")
        + '\n[[sources]]\nname = "peer"\n'
        f'start_urls = [{urls}]\nfamily = "trs-static"\nrate = 0\nconcurrency = {conc}\n'
    )
    xxgk = str(Path(sys.executable).with_name("xxgk"))  # the console script, on `tree`'s (compiled copy's) code
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [xxgk, "-q", "--config", str(config), "crawl", "peer", "--full", "--json"]
    wall, cpu, stdout = timed(cmd, env, tree)
    served = stop(proc, pipe)
    run = json.loads(stdout)
    return {
        "docs": run["new"] + run["changed"] + run["unchanged"],
        "files": run["attachments"],
        "wall": wall,
        "cpu": cpu,
        **served,
    }


FIGURES = ("docs", "files", "wall", "cpu", "requests", "portal_cpu")


def median_row(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in FIGURES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--parse-workers", type=int, default=0, help="xxgk's settings.parse_workers")
    ap.add_argument("--compare", type=Path, help="another checkout, crawled alternately with this one")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each row (the medians are printed)")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    here = Path(__file__).resolve().parents[1]
    trees = [here] + ([args.compare.resolve()] if args.compare else [])
    label = {here: here.name} | ({trees[1]: trees[1].name} if args.compare else {})
    if args.compare and trees[1].name == here.name:
        label[trees[1]] = f"{trees[1].name} (other)"
    kinds = {"pipeline": False, "+ file text": True}  # extract_files
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        code = {tree: compiled(tree, Path(tmp) / f"code-{i}") for i, tree in enumerate(trees)}
        for n in range(args.rounds):
            rounds = Path(tmp) / f"r{n}"
            (rounds / "s").mkdir(parents=True)
            runs.setdefault("scrapy (fetch+save)", []).append(run_scrapy(args.docs, args.concurrency, rounds / "s"))
            for kind, extract in kinds.items():
                for i, tree in enumerate(trees):  # alternate, so both trees see the same noise
                    name = f"xxgk {kind}" + (f" [{label[tree]}]" if args.compare else "")
                    out = rounds / f"x-{kind[0]}-{i}"
                    workers = args.parse_workers if tree == here else 0
                    runs.setdefault(name, []).append(
                        run_xxgk(args.docs, args.concurrency, out, code[tree], extract, workers)
                    )
    rows = {name: median_row(r) for name, r in runs.items()}
    print(
        f"{args.docs} simulated TRS documents, concurrency {args.concurrency}, politeness off, "
        f"xxgk parse_workers {args.parse_workers}"
        + (f", median of {args.rounds} rounds" if args.rounds > 1 else "")
        + "; pipeline: fetch + archive + parse + database, attachments fetched (extract_files = false); "
        "+ file text: the same and the text of the attached files (the default)"
    )
    cores = len(os.sched_getaffinity(0))
    width = max(len(n) for n in rows) + 1
    print(
        f"{'':{width}} {'docs':>6} {'files':>6} {'wall s':>7} {'docs/s':>8} {'CPU ms/doc':>11} {'requests':>9} "
        f"{'portal ms/req':>14} {'portal ms/doc':>14} {'bound docs/s':>13} {'docs/s vs scrapy':>17} {'CPU vs scrapy':>14}"
    )
    s = rows["scrapy (fetch+save)"]
    s_rate, s_cpu = s["docs"] / s["wall"], s["cpu"] / max(s["docs"], 1)
    for name, r in rows.items():
        docs = max(r["docs"], 1)
        own, portal_ms = r["cpu"] / docs * 1000, r["portal_cpu"] / docs * 1000
        vs = "" if r is s else f" {r['docs'] / r['wall'] / s_rate:>16.2f}x {r['cpu'] / docs / s_cpu:>13.2f}x"
        print(
            f"{name:{width}} {r['docs']:>6.0f} {r['files']:>6.0f} {r['wall']:>7.1f} {r['docs'] / r['wall']:>8.1f} "
            f"{own:>11.2f} {r['requests']:>9.0f} {r['portal_cpu'] / max(r['requests'], 1) * 1000:>14.2f} "
            f"{portal_ms:>14.2f} {cores * 1000 / (own + portal_ms):>13.1f}{vs}"
        )
    print(f"bound: {cores} cores / (crawler + portal CPU per document), when nothing else runs")
    if args.compare:
        print(f"{label[here]} / {label[trees[1]]}:")
        for kind in kinds:
            a, b = (rows[f"xxgk {kind} [{label[t]}]"] for t in trees)
            print(
                f"  xxgk {kind:<12} docs/s {(a['docs'] / a['wall']) / (b['docs'] / b['wall']):.2f}x   "
                f"CPU per document {(a['cpu'] / max(a['docs'], 1)) / (b['cpu'] / max(b['docs'], 1)):.2f}x"
            )


if __name__ == "__main__":
    main()
