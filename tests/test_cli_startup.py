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


# What `show` and `ls` must never load: the ORM and its models, migrations, the crawler's HTTP stack and
# portal adapters, progress bars (their read path is SQLAlchemy Core over storage/tables.py).
READ_PATH_NEVER = (
    "sqlmodel",
    "sqlalchemy.orm",
    "alembic",
    "storage.models",
    "storage.documents",
    "httpx",
    "scraper.portals",
    "scraper.fetch",
    "procrastinate",
    "boto3",
    "fastapi",
    "rich.progress",
)


def loaded_by(config, *args: str) -> tuple[str, list[str]]:
    """(stdout, the READ_PATH_NEVER modules loaded) of `xxgk --config CONFIG ARGS` run as the console script does."""
    probe = (
        "import json, sys\n"
        f"sys.argv = ['xxgk', '--config', {str(config)!r}, *{list(args)!r}]\n"
        "from cli.main import run\n"
        "try:\n    run()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"sys.stderr.write(json.dumps([m for m in {READ_PATH_NEVER!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_show_and_ls_read_through_core_alone(cli):
    cli("crawl", "kaihua")
    first = cli.jsonl("ls", "--limit", "1")[0]
    for args in (("ls",), ("ls", "--json"), ("show", first["index_no"]), ("show", first["index_no"], "--json")):
        out, loaded = loaded_by(cli.config, *args)
        assert loaded == [], f"`xxgk {' '.join(args)}` imports {loaded}"
        if args[-1] == "--json":  # the same bytes as in-process (the CLI tests' way)
            assert out == cli(*args).stdout


def test_ls_json_in_batches_is_show_json_without_the_body(cli, monkeypatch):
    from cli import inspect_cmd

    cli("crawl", "kaihua")
    monkeypatch.setattr(inspect_cmd, "LS_JSON_BATCH", 7)  # several batches, the last one short
    rows = cli.jsonl("ls")
    assert len(rows) > 7 and len(rows) % 7
    for row in rows:
        shown = json.loads(cli("show", row["index_no"] or row["url"], "--json").stdout)
        assert row == {k: v for k, v in shown.items() if k != "body_text"}
