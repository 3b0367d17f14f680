"""`xxgk copy-to`: an archive grown on the embedded default (SQLite + folder) moves to PostgreSQL + S3
(and back) whole: the same documents, versions, ledger, search answers and bytes, then crawls on."""

from __future__ import annotations

import json

import pytest
from archive_helpers import crawled_cli, store_of
from helpers import Cli

from simulator import PortalSimulator

SEED = "113308245972094984/2025-01529"


@pytest.fixture
def need_pg(request, pg_url):
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("moving to PostgreSQL needs it (--db sqlite chosen)")
    return pg_url


def moved(cli: Cli, tmp_path, name: str, **settings: str) -> Cli:
    """The same config with other parts under [settings]."""
    lines = "".join(f"\n{k} = {json.dumps(v)}" for k, v in settings.items())
    text = cli.config.read_text().replace('data_dir = "data"', f'data_dir = "{name}"{lines}', 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, "utf-8")
    return Cli(path)


def view(cli: Cli) -> dict:
    """What a user sees of an archive (ids and run timings included)."""
    return {
        "export": cli("export", "--format", "jsonl").stdout,
        "history": cli.jsonl("history", SEED),
        # the same hits (ranking is the dialect's own)
        "search": sorted(h["index_no"] or h["url"] for h in cli.jsonl("search", "法治政府", "--limit", "100")),
        "search2": sorted(h["index_no"] or h["url"] for h in cli.jsonl("search", "政府", "--limit", "100")),
        "runs": cli.jsonl("runs", "--limit", "100"),
        "raw": cli("show", SEED, "--raw").stdout_bytes,
    }


def test_embedded_archive_moves_to_postgresql_and_s3_and_back(tmp_path, need_pg, s3_url):
    with PortalSimulator(seed=7, docs=60) as portal:
        home = crawled_cli(tmp_path, portal, days=1)  # day 1 on SQLite + folder
        report = json.loads(home("copy-to", "--database", need_pg, "--archive", s3_url, "--json").stdout)
        tables = report["database"]["tables"]
        assert tables["documents"] == report["database"]["searchable"] == tables["document_versions"] > 0
        assert report["archive"]["blobs_copied"] == len(set(store_of(home).iter_hashes())) == tables["blobs"]
        fleet = moved(home, tmp_path, "fleet", database_url=need_pg, archive_url=s3_url)
        assert view(fleet) == view(home)
        assert json.loads(fleet("verify", "--json").stdout)["ok"]

        again = home("copy-to", "--database", need_pg, code=1)
        assert "already holds an archive" in again.output, "never copied over an archive"
        assert json.loads(home("copy-to", "--archive", s3_url, "--json").stdout)["archive"]["blobs_copied"] == 0

        portal.set_day(2)  # the moved archive crawls on: new ids, no clashes
        day2 = fleet.jsonl("crawl", "kaihua", "--full")[0]
        assert day2["status"] == "ok" and day2["new"] > 0 and day2["changed"] > 0 and day2["withdrawn"] > 0
        back = moved(
            fleet,
            tmp_path,
            "back",
            database_url=f"sqlite:///{tmp_path}/back.db",
            archive_url=f"file://{tmp_path}/back-archive",
        )
        fleet("copy-to", "--database", f"sqlite:///{tmp_path}/back.db", "--archive", f"file://{tmp_path}/back-archive")
        assert view(back) == view(fleet)
        assert json.loads(back("verify", "--json").stdout)["ok"]


def test_a_blob_the_source_cannot_give_back_is_named_and_the_rest_copied(tmp_path):
    with PortalSimulator(seed=7, docs=30) as portal:
        home = crawled_cli(tmp_path, portal, days=1)
    store = store_of(home)
    hashes = sorted(store.iter_hashes())
    store.path(hashes[0]).write_bytes(b"damaged")
    r = home("copy-to", "--archive", f"file://{tmp_path}/copy", "--json", code=1)
    report = json.loads(r.stdout)["archive"]
    assert report["blobs_copied"] == len(hashes) - 1 and len(report["problems"]) == 1
    assert hashes[0] in report["problems"][0] and "corrupt" in report["problems"][0]
    assert not list((tmp_path / "copy").rglob(f"{hashes[0]}.zst")), "a damaged blob is not spread"


def test_copy_to_needs_a_target(tmp_path):
    with PortalSimulator(seed=7, docs=10) as portal:
        home = crawled_cli(tmp_path, portal, days=1)
    assert "--database URL and/or --archive URL" in home("copy-to", code=2).output
    assert (
        "cannot open database"
        in home("copy-to", "--database", "postgresql+psycopg://nobody@127.0.0.1:1/x", code=1).output
    )


def test_copy_to_warns_when_a_daemon_is_still_running(tmp_path):
    from schedules.beats import write_beat
    from storage.db import open_database

    with PortalSimulator(seed=7, docs=10) as portal:
        home = crawled_cli(tmp_path, portal, days=1)
    engine = open_database(f"sqlite:///{tmp_path}/data/xxgk.db")
    write_beat(engine, "vm:1:daemon:abc")
    r = home("copy-to", "--archive", f"file://{tmp_path}/copy")
    assert "1 daemon/worker process(es) running (vm:1:daemon:abc)" in r.stderr
    write_beat(engine, "vm:1:daemon:abc", stopped=True)
    assert "warning" not in home("copy-to", "--archive", f"file://{tmp_path}/copy").stderr
