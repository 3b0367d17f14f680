"""Fleet chaos check: PostgreSQL restarts while an `xxgk worker` is crawling. Prints what the run
recorded and whether every document arrived once; the worker must outlive the restart and take the
next job. Restarts this machine's PostgreSQL cluster, so it is a script, not a test.

    .venv/bin/python benchmarks/db_restart.py [--docs 120] [--after 4]
        [--restart "pg_ctlcluster --skip-systemctl-redirect 15 main restart"]
"""
from __future__ import annotations

import argparse
import json
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
    return subprocess.run([XXGK, "--config", str(cfg), *args], capture_output=True, text=True, timeout=120)


def wait_for_runs(cfg: Path, n: int, timeout: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = xxgk(cfg, "runs", "--json")
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []
        if len(rows) >= n and all(r["status"] not in ("queued", "running") for r in rows):
            return rows
        time.sleep(1)
    raise SystemExit(f"the runs did not finish in {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=120)
    ap.add_argument("--after", type=float, default=4.0, help="seconds into the crawl to restart PostgreSQL")
    ap.add_argument("--restart", default="pg_ctlcluster --skip-systemctl-redirect "
                                         "$(ls /etc/postgresql | head -1) main restart")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
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
            cfg.write_text(f'[settings]\ndata_dir = "data"\ndatabase_url = "{url}"\nengine = "queue"\n'
                           f'lease_seconds = 5\nlog_file = false\n\n[[sources]]\nname = "k"\n'
                           f'start_urls = [{urls}]\nfamily = "hanweb-jpage"\nrate = 10\nconcurrency = 2\n')
            log = Path(tmp) / "worker.log"
            worker = subprocess.Popen([XXGK, "--config", str(cfg), "-v", "worker"], stdout=log.open("w"),
                                      stderr=subprocess.STDOUT)
            while "taking up to" not in log.read_text():
                time.sleep(0.2)
            xxgk(cfg, "trigger", "k")
            time.sleep(args.after)
            t0 = time.monotonic()
            subprocess.run(args.restart, shell=True, check=True)
            print(f"PostgreSQL restarted {args.after:g} s into the crawl (took {time.monotonic() - t0:.1f} s)")
            first = wait_for_runs(cfg, 1)[0]
            xxgk(cfg, "trigger", "k")                    # the worker takes the next job too
            second = wait_for_runs(cfg, 2)[0]
            docs = [json.loads(x) for x in xxgk(cfg, "ls", "--json").stdout.splitlines() if x.strip()]
            keys = [d["index_no"] or d["url"] for d in docs]
            alive = worker.poll() is None
            worker.terminate()
            worker.wait(30)
            want = len(portal.expected_documents())
            print(f"run during the restart: {first['status']}, {first['new']} new, {first['errors']} errors")
            print(f"next run: {second['status']}, {second['new']} new, {second['unchanged']} unchanged")
            print(f"documents: {len(set(keys))} of {want}, {len(keys) - len(set(keys))} duplicated; "
                  f"worker alive after the restart: {alive}")
            ok = alive and first["status"] == "ok" and len(set(keys)) == len(keys) == want
            print("OK" if ok else "FAILED")
            raise SystemExit(0 if ok else 1)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
