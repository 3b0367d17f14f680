"""Fleet chaos: three `xxgk worker`s crawl 10 simulated portals through the queue while, every 1-3 s,
one worker at random is killed with SIGKILL and a fresh one started in its place. At the end every
document must be there exactly once, every source crawled to the end, and `xxgk verify` clean.

    .venv/bin/python benchmarks/fleet_chaos.py [--portals 10] [--docs 60] [--kills 12] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy

ROOT = Path(__file__).resolve().parents[1]
XXGK = str(Path(sys.executable).with_name("xxgk"))
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def xxgk(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([XXGK, "--config", str(cfg), *args], capture_output=True, text=True, timeout=300)


def jsonl(cfg: Path, *args: str) -> list[dict]:
    return [json.loads(x) for x in xxgk(cfg, *args, "--json").stdout.splitlines() if x.strip()]


def start_worker(cfg: Path, logs: Path, n: int) -> subprocess.Popen:
    log = logs / f"worker{n}.log"
    proc = subprocess.Popen(
        [XXGK, "--config", str(cfg), "-v", "worker"], stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    while "taking up to" not in log.read_text("utf-8", "replace"):
        time.sleep(0.1)
    return proc


def settled(cfg: Path, names: list[str]) -> bool:
    runs = jsonl(cfg, "runs", "--limit", "100000")
    if any(r["status"] in ("queued", "running") for r in runs):
        return False
    return all(any(r["source"] == n and r["status"] == "ok" for r in runs) for n in names)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--portals", type=int, default=10)
    ap.add_argument("--docs", type=int, default=60)
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from simulator import PortalSimulator

    rng = random.Random(args.seed)
    schema = f"chaos_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{ADMIN}?options=-csearch_path%3D{schema}"
    workers: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
            portals = [stack.enter_context(PortalSimulator(seed=i, docs=args.docs)) for i in range(args.portals)]
            names = [f"p{i}" for i in range(args.portals)]
            text = (
                f'[settings]\ndata_dir = "data"\ndatabase_url = "{url}"\nengine = "queue"\n'
                "lease_seconds = 3\ngrace_seconds = 3\nlog_file = false\n\n"
            )
            for name, sim in zip(names, portals):
                urls = ", ".join(json.dumps(u) for u in sim.column_urls)
                text += (
                    f'[[sources]]\nname = "{name}"\nstart_urls = [{urls}]\nfamily = "hanweb-jpage"\n'
                    "rate = 15\nconcurrency = 2\n\n"
                )
            cfg = Path(tmp) / "xxgk.toml"
            cfg.write_text(text)
            started = 0
            for _ in range(3):
                workers.append(start_worker(cfg, Path(tmp), started))
                started += 1
            t0 = time.monotonic()
            for name in names:
                xxgk(cfg, "trigger", name)
            for _ in range(args.kills):
                time.sleep(rng.uniform(1, 3))
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start_worker(cfg, Path(tmp), started)
                started += 1
            deadline = time.monotonic() + 600
            while not settled(cfg, names) and time.monotonic() < deadline:
                time.sleep(1)
            seconds = time.monotonic() - t0
            docs = jsonl(cfg, "ls")
            keys = [d["index_no"] or d["url"] for d in docs]
            want = set()
            for sim in portals:
                want |= {e["index_no"] or sorted(e["urls"])[0] for e in sim.expected_documents()}
            runs = jsonl(cfg, "runs", "--limit", "100000")
            verify = json.loads(xxgk(cfg, "verify", "--json").stdout)
            lost, extra, dup = len(want - set(keys)), len(set(keys) - want), len(keys) - len(set(keys))
            by_status: dict[str, int] = {}
            for r in runs:
                by_status[r["status"]] = by_status.get(r["status"], 0) + 1
            print(
                f"{args.portals} portals x {args.docs} documents, 3 workers, {args.kills} SIGKILLs "
                f"(seed {args.seed}), settled in {seconds:.1f} s"
            )
            print(f"runs by status: {json.dumps(by_status, sort_keys=True)}")
            print(f"documents: {len(set(keys))} of {len(want)}; lost {lost}, duplicated {dup}, unexpected {extra}")
            print(f"verify: {'ok' if verify['ok'] else verify['faults'][:5]} ({verify['blobs_checked']} blobs)")
            ok = settled(cfg, names) and not (lost or dup or extra) and verify["ok"]
            print("OK" if ok else "FAILED")
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(30)
            workers.clear()
            raise SystemExit(0 if ok else 1)
    finally:
        for w in workers:
            w.kill()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
