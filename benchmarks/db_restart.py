"""Fleet chaos check: PostgreSQL restarts while an `xxgk worker` is crawling. Prints what the run
recorded and whether every document arrived once; the worker must outlive the restart and take the
next job. Restarts this machine's PostgreSQL cluster, so it is a script, not a test.

    .venv/bin/python benchmarks/db_restart.py [--docs 120] [--after 4] [--repeat N]
        [--restart "pg_ctlcluster --skip-systemctl-redirect 15 main restart"]

--repeat N runs N trials, each restarting at a random offset in [0.5, 2 × --after] seconds, and
prints N/N OK when every trial kept every document once with the run ending ok.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy

ROOT = Path(__file__).resolve().parents[1]
XXGK = str(Path(sys.executable).with_name("xxgk"))
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def xxgk(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([XXGK, "--config", str(cfg), *args], capture_output=True, text=True, timeout=300)


def wait_for_runs(cfg: Path, n: int, timeout: float = 240) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = xxgk(cfg, "runs", "--json")
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []
        if len(rows) >= n and all(r["status"] not in ("queued", "running") for r in rows):
            return rows
        time.sleep(1)
    raise SystemExit(f"the runs did not finish in {timeout:.0f} s")


def trial(args, after: float) -> bool:
    from simulator import PortalSimulator

    schema = f"restart_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(ADMIN, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{ADMIN}?options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory() as tmp, PortalSimulator(seed=3, docs=args.docs) as portal:
            cfg = Path(tmp) / "xxgk.toml"
            urls = ", ".join(json.dumps(u) for u in portal.column_urls)
            cfg.write_text(
                f'[settings]\ndata_dir = "data"\ndatabase_url = "{url}"\nengine = "queue"\n'
                f'lease_seconds = 30\nlog_file = false\n\n[[sources]]\nname = "k"\n'
                f'start_urls = [{urls}]\nfamily = "hanweb-jpage"\nrate = 10\nconcurrency = 2\n'
            )
            log = Path(tmp) / "worker.log"
            worker = subprocess.Popen(
                [XXGK, "--config", str(cfg), "-v", "worker"], stdout=log.open("w"), stderr=subprocess.STDOUT
            )
            while "taking up to" not in log.read_text():
                time.sleep(0.2)
            xxgk(cfg, "trigger", "k")
            time.sleep(after)
            t0 = time.monotonic()
            subprocess.run(args.restart, shell=True, check=True)
            took = time.monotonic() - t0
            first = wait_for_runs(cfg, 1)[0]
            xxgk(cfg, "trigger", "k")  # the worker takes the next job too
            second = wait_for_runs(cfg, 2)[0]
            docs = [json.loads(x) for x in xxgk(cfg, "ls", "--json").stdout.splitlines() if x.strip()]
            keys = [d["index_no"] or d["url"] for d in docs]
            verify = xxgk(cfg, "verify").returncode == 0
            alive = worker.poll() is None
            worker.terminate()
            worker.wait(30)
            want = len(portal.expected_documents())
            ok = (
                alive
                and verify
                and first["status"] == "ok"
                and second["status"] == "ok"
                and len(set(keys)) == len(keys) == want
            )
            print(
                f"restart {after:4.1f} s into the crawl (down {took:.1f} s): run {first['status']}, "
                f"{first['new']} new, {first['errors']} errors; next run {second['status']}, {second['new']} new; "
                f"documents {len(set(keys))}/{want}, {len(keys) - len(set(keys))} duplicated; verify "
                f"{'clean' if verify else 'FAULTS'}; worker alive {alive}: {'OK' if ok else 'FAILED'}",
                flush=True,
            )
            return ok
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=120)
    ap.add_argument("--after", type=float, default=4.0, help="seconds into the crawl to restart PostgreSQL")
    ap.add_argument("--repeat", type=int, default=1, help="trials, each at a random offset in [0.5, 2 × after]")
    ap.add_argument(
        "--restart", default="pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main restart"
    )
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    offsets = (
        [args.after]
        if args.repeat == 1
        else [round(random.uniform(0.5, 2 * args.after), 1) for _ in range(args.repeat)]
    )
    passed = sum(trial(args, after) for after in offsets)
    print(f"{passed}/{len(offsets)} OK")
    raise SystemExit(0 if passed == len(offsets) else 1)


if __name__ == "__main__":
    main()
