"""Starting `xxgk` loads no database, queue, cloud or web machinery: each verb imports what it uses when it
runs (benchmarks/cli_start.py shows the times)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "procrastinate",
    "boto3",
    "botocore",
    "fastapi",
    "prometheus_client",
    "apscheduler",
    "httpx",
    "psycopg",
)


def test_starting_the_cli_loads_no_heavy_machinery():
    probe = f"import json, sys; from cli.main import app; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    )
    assert loaded == [], f"`xxgk --help` imports {loaded}: import them inside the commands that use them"
