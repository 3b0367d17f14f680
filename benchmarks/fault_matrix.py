"""The fault matrix: every injectable fault, at a set rate, against a simulated portal; then all at
once at 25 %. Prints: fault, injected, recovered, documents lost, duplicated, wrong.
Also kills a crawl with SIGKILL at 20 random points and checks nothing is lost or duplicated.

    .venv/bin/python benchmarks/fault_matrix.py [--docs 2000] [--rate 0.10] [--mixed 0.25] [--kills 20]

The portal runs in a child process (driven over a pipe); the crawler runs here, in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

from storage.contract import CONTRACT_FIELDS

ART, LIST, PROXY = r"^/art/", r"^/(col|module/web)/", r"dataproxy"
FAULTS = [  # (name, where, params)
    ("status", ART, {"code": 500}),
    ("status", LIST, {"code": 503}),
    ("status", ART, {"code": 429, "retry_after": 1}),
    ("reset", ART, {}),
    ("truncate", ART, {}),
    ("truncate", LIST, {}),
    ("delay", ART, {"seconds": 3}),
    ("drip", ART, {"chunk": 2048, "seconds": 0.01}),
    ("challenge", ART, {}),
    ("cookie-wall", ART, {}),
    ("wall", ART, {}),
    ("captcha", ART, {}),
    ("redirect-loop", ART, {}),
    ("redirect-offsite", ART, {}),
    ("gzip-bomb", ART, {"size": 64 << 20}),
    ("endless", ART, {}),
    ("wrong-type", ART, {}),
    ("binary", ART, {}),
    ("malformed-html", ART, {}),
    ("malformed-xml", PROXY, {}),
    ("xml-entities", PROXY, {}),
    ("shift", PROXY, {"rate": 1.0}),
    ("duplicate", PROXY, {"rate": 1.0}),
    ("bad-bytes", ART, {}),
]
CONTRACT = (*CONTRACT_FIELDS, "fields", "body_text")


def portal(docs: int, conn) -> None:
    """The child: a simulator driven by (command, args) messages."""
    from simulator import PortalSimulator

    with PortalSimulator(seed=11, docs=docs) as sim:
        conn.send((sim.column_urls, sim.expected_documents()))
        while True:
            cmd, args = conn.recv()
            if cmd == "stop":
                return
            if cmd == "inject":
                sim.clear_faults()
                sim.reset_requests()
                for where, fault, rate, params in args:
                    sim.inject(where, fault, rate, **params)
                conn.send(None)
            elif cmd == "log":
                conn.send([(r.path + "?" + r.query, r.faults, r.status) for r in sim.requests])


def recovered(log, bad_paths: set[str], lost: int) -> tuple[int, int]:
    """(fault events, events the crawl got past: the document behind them archived exactly; for a
    list page, nothing lost)."""
    events = [target.split("?")[0] for target, faults, _status in log if faults]
    good = sum(1 for path in events if (path not in bad_paths if path.startswith("/art/") else not lost))
    return len(events), good


def check(cfg_dir: Path, expected: list[dict]) -> tuple[int, int, int, set[str]]:
    """(lost, duplicated, wrong, paths of the lost and wrong) documents against the portal's truth."""
    from sqlmodel import select

    from storage.db import open_database, read_session
    from storage.models import Document
    from storage.queries import document_json, source_names

    engine = open_database(f"sqlite:///{cfg_dir}/data/xxgk.db")
    with read_session(engine) as s:
        names = source_names(s)
        docs = [document_json(s, d, sources=names) for d in s.exec(select(Document))]
    by_key: dict[str, list[dict]] = {}
    for d in docs:
        for key in [d["index_no"], *d["urls"]]:
            if key:
                by_key.setdefault(key, []).append(d)
    lost = dup = wrong = 0
    bad: set[str] = set()
    for e in expected:
        found = by_key.get(e["index_no"] or e["urls"][0], [])
        paths = {"/" + u.split("/", 3)[3] for u in e["urls"]}
        if not found:
            lost += 1
            bad |= paths
            continue
        dup += len({id(d) for d in found}) > 1
        d = found[0]
        if any(d[k] != e[k] for k in CONTRACT) or sorted(d["urls"]) != sorted(e["urls"]):
            wrong += 1
            bad |= paths
    dup += max(0, len(docs) - len(expected) - lost)
    return lost, dup, wrong, bad


def crawl(columns: list[str], tmp: Path) -> dict:
    from schedules.runner import SourceRun, new_holder
    from scraper.config import parse_config
    from storage.archive import open_archive
    from storage.db import open_database

    urls = ", ".join(f'"{u}"' for u in columns)
    cfg = parse_config(
        f"[settings]\ntimeout = 1.5\nretries = 3\nbackoff = 0.1\nmax_body_bytes = 5000000\n\n"
        f'[[sources]]\nname = "m"\nstart_urls = [{urls}]\nfamily = "hanweb-jpage"\nrate = 0\nconcurrency = 8\n',
        "matrix.toml",
        tmp,
        None,
    )
    engine, store = open_database(cfg.database_url), open_archive(cfg.archive_url)
    run = SourceRun(cfg, cfg.sources[0], engine, store, holder=new_holder("matrix"))
    return asyncio.run(run.run()).as_dict()


def row(conn, columns, expected, label, rules) -> tuple:
    conn.send(("inject", rules))
    conn.recv()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        summary = crawl(columns, Path(tmp))
        conn.send(("log", None))
        log = conn.recv()
        lost, dup, wrong, bad = check(Path(tmp), expected)
        events, good = recovered(log, bad, lost)
    return label, events, good, lost, dup, wrong, summary["status"], time.monotonic() - t0


def kill_loop(columns: list[str], expected: list[dict], kills: int) -> tuple[int, int, int, int]:
    """SIGKILL a foreground crawl at `kills` random moments, then crawl to the end; (kills, lost, dup, wrong)."""
    xxgk = str(Path(sys.executable).with_name("xxgk"))
    rnd = random.Random(20)
    with tempfile.TemporaryDirectory() as tmp:
        urls = ", ".join(f'"{u}"' for u in columns)
        cfg = Path(tmp, "xxgk.toml")
        cfg.write_text(
            f'[settings]\ndata_dir = "data"\nlease_seconds = 1\nbackoff = 0.1\n\n[[sources]]\n'
            f'name = "m"\nstart_urls = [{urls}]\nfamily = "hanweb-jpage"\nrate = 0\nconcurrency = 4\n'
        )
        for _ in range(kills):
            proc = subprocess.Popen([xxgk, "--config", str(cfg), "-q", "crawl", "m", "--wait", "--full"])
            time.sleep(rnd.uniform(1.5, 6.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        done = subprocess.run([xxgk, "--config", str(cfg), "-q", "crawl", "m", "--wait"])
        assert done.returncode == 0
        return (kills, *check(Path(tmp), expected)[:3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=0.10, help="rate of each single-fault row")
    ap.add_argument("--mixed", type=float, default=0.25, help="total fault rate of the mixed row")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--only", default="", help="comma-separated fault names (default: all)")
    args = ap.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    parent, child = mp.Pipe()
    proc = mp.Process(target=portal, args=(args.docs, child), daemon=True)
    proc.start()
    columns, expected = parent.recv()
    chosen = [f for f in FAULTS if not args.only or f[0] in args.only.split(",")]
    print(f"portal: {len(expected)} documents; single faults at {args.rate:.0%}, mixed at {args.mixed:.0%}\n")
    print(f"{'fault':<28}{'injected':>9}{'recovered':>10}{'lost':>6}{'dup':>5}{'wrong':>6}  status   seconds")
    rows = []
    for name, where, params in chosen:
        params = dict(params)
        rate = params.pop("rate", args.rate)
        label = f"{name} {params.get('code', '')} {'lists' if where != ART else ''}".strip()
        rows.append(row(parent, columns, expected, label, [(where, name, rate, params)]))
        print("{:<28}{:>9}{:>10}{:>6}{:>5}{:>6}  {:<8}{:>7.1f}".format(*rows[-1]), flush=True)
    share = 1 - (1 - args.mixed) ** (1 / len(chosen))
    mixed = [(w, n, share, {k: v for k, v in p.items() if k != "rate"}) for n, w, p in chosen]
    rows.append(row(parent, columns, expected, f"MIXED ({args.mixed:.0%} of requests)", mixed))
    print("{:<28}{:>9}{:>10}{:>6}{:>5}{:>6}  {:<8}{:>7.1f}".format(*rows[-1]), flush=True)
    if args.kills:
        kills, lost, dup, wrong = kill_loop(columns, expected, args.kills)
        print(f"{'kill -9 x' + str(kills):<28}{kills:>9}{kills:>10}{lost:>6}{dup:>5}{wrong:>6}")
    parent.send(("stop", None))
    proc.join(timeout=10)
    total_lost = sum(r[3] for r in rows)
    print(
        f"\ntargets: mixed row 100% archived and exact (lost 0, dup 0, wrong 0): "
        f"{'MET' if rows[-1][3:6] == (0, 0, 0) else 'NOT MET'}; all rows lost: {total_lost}"
    )


if __name__ == "__main__":
    main()
