"""Everyday use of the command line (issue 11): dates, unknown sources, errors without tracebacks, tables at
80 columns in one time zone, `ls` limits and --changed-since, `files get`, CSV for Excel, --version and
completion, a cron that never fires, a read-only command on no archive, the daemon's own lines, `demo` twice."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

from archive_helpers import store_of
from helpers import XXGK, Cli, parse_ts, wait_for, write_config
from loguru import logger

from cli import daemon_cmd, inspect_cmd
from cli.context import setup_logging
from simulator import PortalSimulator

STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def test_dates_are_checked_and_until_closes_the_range(cli):
    cli("crawl", "kaihua")
    for verb in (("ls",), ("search", "开化"), ("export", "--format", "jsonl")):
        for opt in ("--since", "--until"):
            r = cli(*verb, opt, "2024-13-45", code=2)
            assert opt in r.output and "2024-13-45" in r.output
    dates = sorted(d["publish_date"] for d in cli.jsonl("ls"))
    cut = dates[len(dates) // 2]
    for rows in (
        cli.jsonl("ls", "--until", cut),
        [json.loads(x) for x in cli("export", "--format", "jsonl", "--until", cut).stdout.splitlines()],
    ):
        assert rows and len(rows) == sum(d <= cut for d in dates)
        assert all(r["publish_date"] <= cut for r in rows)
    window = cli.jsonl("ls", "--since", cut, "--until", cut)
    assert window and all(r["publish_date"] == cut for r in window)
    assert all(r["publish_date"] <= cut for r in cli.jsonl("search", "开化", "--until", cut))


def test_an_unknown_source_exits_2_on_every_verb(cli):
    cli("crawl", "kaihua")
    for verb in (
        ("ls", "--source", "nope"),
        ("search", "开化", "--source", "nope"),
        ("export", "--format", "jsonl", "--source", "nope"),
        ("runs", "nope"),
        ("reparse", "--source", "nope"),
        ("stats", "--source", "nope"),
    ):
        r = cli(*verb, code=2)
        assert "nope" in r.output and "kaihua" in r.output, verb
    assert cli.jsonl("ls", "--source", "kaihua")
    whole = json.loads(cli("stats", "--json").stdout)
    assert json.loads(cli("stats", "--source", "kaihua", "--json").stdout) | {"database_bytes": None} == whole | {
        "database_bytes": None
    }  # the only source: its part is the whole


def test_an_unexpected_error_is_one_line_naming_the_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cli = Cli(tmp_path / "none.toml")
    r = cli("demo", "--dir", str(blocker / "demo"), "--docs", "10", "--port", "0", code=1)
    assert "Traceback" not in r.output and str(blocker / "demo") in r.output
    assert len([line for line in r.stderr.splitlines() if line.startswith("error:")]) == 1
    assert (
        "Traceback" in cli("-vv", "demo", "--dir", str(blocker / "demo"), "--docs", "10", "--port", "0", code=1).output
    )


def test_logged_tracebacks_never_show_local_variables(capsys):
    setup_logging(2)
    try:
        secret = "s3cr3t-password"
        raise ValueError("boom " + secret[:0])
    except ValueError:
        logger.exception("failed")
    err = capsys.readouterr().err
    assert "boom" in err and "s3cr3t-password" not in err


def test_tables_fit_80_columns_in_one_time_zone(tmp_path, portal, db_url, monkeypatch):
    cli = Cli(write_config(tmp_path, portal, schedule="0 */6 * * *"))
    cli("crawl", "kaihua")
    cli("crawl", "kaihua", "--full")
    for module in (inspect_cmd, daemon_cmd):  # a terminal of 80 columns (COLUMNS=80 on a tty)
        monkeypatch.setattr(module.out, "width", 80)
    for verb, stamps in ((("runs",), 2), (("sources",), 2)):
        out = cli(*verb).stdout
        assert max(len(line) for line in out.splitlines() if not line.startswith("sources (")) <= 80, out
        assert len(STAMP.findall(out)) == stamps, out  # each timestamp whole on one line
        assert "times in Asia/Shanghai (UTC+08:00)" in out
    runs_out = cli("runs").stdout
    assert " full " in runs_out and " incr " in runs_out
    for row in cli.jsonl("runs"):
        assert row["started_at"].endswith("Z") and row["finished_at"].endswith("Z")
    src = cli.jsonl("sources")[0]
    assert src["next_run"].endswith("Z") and src["last_run"]["started_at"].endswith("Z")


def test_ls_has_a_default_limit_and_changed_since(tmp_path, portal, db_url):
    cli = Cli(write_config(tmp_path, portal))
    cli("crawl", "kaihua")
    day1_done = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    time.sleep((day1_done - datetime.now(UTC)).total_seconds() + 0.05)  # JSON times are to the second
    portal.set_day(2)
    cli("crawl", "kaihua", "--full")
    everything = cli.jsonl("ls")
    out = cli("ls").stdout
    assert f"50 documents; {len(everything) - 50} more (--limit 0 shows all)" in out
    assert f"{len(everything)} documents\n" in cli("ls", "--limit", "0").stdout
    want = {
        d["index_no"] or d["url"]
        for d in everything
        if any(parse_ts(d[k]) and parse_ts(d[k]) >= day1_done for k in ("first_seen", "changed_at", "withdrawn_at"))
    }
    assert 0 < len(want) < len(everything)
    since = day1_done.astimezone().isoformat()
    assert {d["index_no"] or d["url"] for d in cli.jsonl("ls", "--changed-since", since)} == want
    assert "--changed-since" in cli("ls", "--changed-since", "yesterday", code=2).output


def test_files_get_an_attachment_checked_by_its_sha256(tmp_path, portal, db_url):
    cli = Cli(write_config(tmp_path, portal))
    cli("crawl", "kaihua")
    doc = next(d for d in cli.jsonl("ls") if d["attachments"] and d["attachments"][0]["sha256"])
    att = doc["attachments"][0]
    for which in ("1", att["name"]):
        target = tmp_path / f"out-{which[:1]}.bin"
        cli("files", "get", doc["index_no"], which, "-o", str(target))
        assert hashlib.sha256(target.read_bytes()).hexdigest() == att["sha256"]
    assert (
        hashlib.sha256(
            cli.runner.invoke(
                __import__("cli.main", fromlist=["app"]).app,
                ["--config", str(cli.config), "files", "get", "--sha256", att["sha256"], "-o", "-"],
            ).stdout_bytes
        ).hexdigest()
        == att["sha256"]
    )
    assert "no attachment '99'" in cli("files", "get", doc["index_no"], "99", "-o", str(tmp_path / "x"), code=1).output
    store_of(cli).path(att["sha256"]).write_bytes(b"damaged")
    damaged = tmp_path / "damaged.bin"
    cli("files", "get", "--sha256", att["sha256"], "-o", str(damaged), code=1)
    assert not damaged.exists() and not list(tmp_path.glob("damaged.bin*"))


def test_csv_for_excel_starts_with_a_bom(cli, tmp_path):
    cli("crawl", "kaihua")
    cli("export", "--format", "csv", "--bom", "-o", str(tmp_path / "x.csv"))
    data = (tmp_path / "x.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfindex_no,") and data.count(b"\xef\xbb\xbf") == 1
    cli("export", "--format", "csv", "-o", str(tmp_path / "y.csv"))
    assert (tmp_path / "y.csv").read_bytes().startswith(b"index_no,")
    assert "--bom" in cli("export", "--format", "jsonl", "--bom", code=2).output


def test_version_and_shell_completion(tmp_path, monkeypatch):
    cli = Cli(tmp_path / "none.toml")
    assert re.match(r"xxgk \d+\.\d+", cli("--version").stdout)
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")  # name the shell, not this process's
    assert "_xxgk_completion" in cli("--show-completion", "bash").stdout
    assert "compdef _xxgk_completion xxgk" in cli("--show-completion", "zsh").stdout
    monkeypatch.setenv("_XXGK_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "xxgk fil")
    monkeypatch.setenv("COMP_CWORD", "1")
    assert cli().stdout.split() == ["files"]  # what the shell asks at <TAB>


def test_a_cron_that_never_fires_is_refused(tmp_path, portal):
    cli = Cli(write_config(tmp_path, portal, schedule="0 0 30 2 *"))
    r = cli("sources", code=2)
    assert str(cli.config) in r.output and "sources[0].schedule" in r.output and "never fire" in r.output


def test_a_read_only_command_on_no_archive_creates_nothing(tmp_path, portal, monkeypatch):
    """The embedded default only: an absent SQLite file is what "no archive yet" means."""
    monkeypatch.chdir(tmp_path)
    cli = Cli(write_config(tmp_path, portal))
    for verb in (("ls",), ("search", "开化"), ("stats",), ("runs",), ("show", "x"), ("verify",)):
        assert "no archive yet" in cli(*verb, code=1).output, verb
    assert "kaihua" in cli("sources").stdout
    assert not (tmp_path / "data").exists()


def test_sources_detect_prints_no_markup(portal, cli):
    out = cli("sources", "detect", portal.column_urls[0]).stdout
    assert "hanweb-jpage" in out and "[dim]" not in out and "[/]" not in out


def test_copy_to_names_the_config_and_refuses_to_suggest_a_damaged_copy(tmp_path):
    from archive_helpers import crawled_cli

    with PortalSimulator(seed=7, docs=20) as portal:
        home = crawled_cli(tmp_path, portal, days=1)
    out = home("copy-to", "--archive", f"file://{tmp_path}/copy").stdout
    assert f"in [settings] of {home.config.resolve()}" in out
    store = store_of(home)
    store.path(sorted(store.iter_hashes())[0]).write_bytes(b"damaged")
    r = home("copy-to", "--archive", f"file://{tmp_path}/copy2", code=1)
    assert "the copy is incomplete" in r.output and "next:" not in r.output


def test_the_daemon_says_what_it_does_at_default_verbosity(tmp_path, portal, db_url):
    cfg = write_config(tmp_path, portal, schedule="every 2s")
    log = tmp_path / "daemon.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([XXGK, "--config", str(cfg), "daemon"], stdout=fh, stderr=subprocess.STDOUT)
        try:
            text = wait_for(
                lambda: (t := log.read_text("utf-8")) and re.search(r"kaihua: run \d+", t) and t,
                timeout=60,
                why=lambda: log.read_text("utf-8"),
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert re.search(r"running 1 scheduled sources \(of 1\); next: kaihua at \d{4}-", text), text
    assert str(tmp_path / "data" / "logs" / "xxgk.log") in text
    assert re.search(r"kaihua: run \d+ \((incremental|full), schedule\) (ok|partial): \d+ new", text), text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_twice_leaves_the_same_archive(tmp_path, db_url, monkeypatch):
    if db_url.startswith("postgresql"):
        monkeypatch.setenv("XXGK_DATABASE_URL", db_url)
    demo_dir = tmp_path / "demo"
    cli = Cli(demo_dir / "xxgk.toml")
    args = ("demo", "--dir", str(demo_dir), "--docs", "30")
    cli(*args, "--port", str(_free_port()))
    first = {d["index_no"] or d["url"]: (d["versions"], d["attachments"]) for d in cli.jsonl("ls")}
    cli(*args)
    again = {d["index_no"] or d["url"]: (d["versions"], d["attachments"]) for d in cli.jsonl("ls")}
    assert again == first and all(k and "/" in k and not k.startswith("http") for k in first)
    last = cli.jsonl("runs")[0]
    assert last["status"] == "ok" and last["new"] == last["changed"] == last["withdrawn"] == last["errors"] == 0
    assert "port" in cli(*args, "--port", "1", code=2).output  # the archive's URLs carry its port
    assert "--docs 30" in cli("demo", "--dir", str(demo_dir), "--docs", "40", code=2).output
    cli("demo", "--dir", str(demo_dir))  # its recorded size, not the default
    assert cli.jsonl("runs")[0]["new"] == 0 and len(cli.jsonl("ls")) == len(first)
    port = int(re.search(r":(\d+)/", (demo_dir / "xxgk.toml").read_text()).group(1))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        assert str(port) in cli(*args, code=1).output
