"""Watches: day 1 and day 2 of the simulator crawled, each matching document delivered exactly once to a
real webhook receiver and a real SMTP server; failing receivers and a daemon killed mid-delivery."""

from __future__ import annotations

import json
import signal
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from archive_helpers import engine_of
from helpers import Cli, Proc, wait_for, write_config
from notify_helpers import Mailbox, Webhook, documents_named
from sqlalchemy import select, update

from schedules.notify import CLAIM_SECONDS, NOTIFY_SECONDS, deliver
from scraper.config import ConfigError, load_config, parse_config
from storage.models import Delivery, utcnow
from storage.search import normalise
from storage.stamps import as_utc

TERM = "环境"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def hook():
    w = Webhook().start()
    yield w
    w.stop()


@pytest.fixture
def mailbox():
    m = Mailbox().start()
    yield m
    m.stop()


def watches_toml(*watches: dict) -> str:
    out = []
    for w in watches:
        out.append("\n[[watches]]")
        out += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in w.items()]
    return "\n".join(out) + "\n"


def setup(tmp_path, portal, *watches: dict, **settings) -> Cli:
    cfg = write_config(tmp_path, portal, settings={"notify_backoff": 0.2, "notify_backoff_max": 1.0, **settings})
    cfg.write_text(cfg.read_text() + watches_toml(*watches), "utf-8")
    return Cli(cfg)


def day2_truth(portal) -> dict[str, set[str]]:
    """索引号 of the documents day 2 adds, changes and withdraws, and those of them that mention TERM."""
    docs, gone = portal.corpus.docs(2), portal.corpus.deleted(2)
    truth = {
        "new": [d for d in docs.values() if d.added_on_day == 2],
        "changed": [d for d in docs.values() if d.edited_on_day == 2],
        "withdrawn": gone,
    }
    out = {}
    for kind, group in truth.items():
        expected = [portal.site.expected(d, portal.base_url) for d in group]
        out[kind] = {e["index_no"] for e in expected}
        out[f"{kind}:{TERM}"] = {
            e["index_no"] for e in expected if TERM in normalise(f"{e['title']}\n{e['body_text']}")
        }
    return out


def day1_mentioning(portal) -> int:
    return sum(TERM in normalise(f"{e['title']}\n{e['body_text']}") for e in portal.expected_documents(1))


def named(messages: list[str]) -> list[tuple[str, str]]:
    return [pair for body in messages for pair in documents_named(body)]


# -- config ---------------------------------------------------------------------------------------
BASE = '[[sources]]\nname = "kaihua"\nstart_urls = ["http://127.0.0.1:1/col"]\n'


@pytest.mark.parametrize(
    "watch, key, words",
    [
        ({"sources": ["nowhere"]}, "watches[0].sources", "unknown source 'nowhere'"),
        ({"events": ["new", "vanished"]}, "watches[0].events", "unknown event 'vanished'"),
        ({"notify": ["carrier-pigeon://coop"]}, "watches[0].notify", "Apprise cannot parse 'carrier-pigeon://coop'"),
        ({"digest": "sometimes"}, "watches[0].digest", "neither a 5-field cron"),
        ({"query": "法"}, "watches[0].query", "at least 2 characters"),
        ({"name": "Bad Name"}, "watches[0].name", "must be a slug"),
        ({"colour": "red"}, "watches[0].colour", "unknown key"),
    ],
)
def test_bad_watches_are_refused_naming_the_key(watch, key, words):
    w = {"name": "w", "notify": ["json://127.0.0.1:9/hook"], **watch}
    with pytest.raises(ConfigError) as err:
        parse_config(BASE + watches_toml(w), "x.toml", Path("."), None)
    assert f"x.toml: {key}: " in str(err.value) and words in str(err.value)


def test_a_password_in_a_refused_url_is_not_shown():
    w = {"name": "w", "notify": ["nosuch://user:s3cret@host/x"]}
    with pytest.raises(ConfigError) as err:
        parse_config(BASE + watches_toml(w), "x.toml", Path("."), None)
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


def test_duplicate_watch_names_are_refused():
    w = {"name": "w", "notify": ["json://127.0.0.1:9/hook"]}
    with pytest.raises(ConfigError, match=r"watches\[1\].name: duplicate watch name 'w'"):
        parse_config(BASE + watches_toml(w, w), "x.toml", Path("."), None)


# -- day 1 and day 2, exactly once ----------------------------------------------------------------
def test_day1_and_day2_each_change_delivered_exactly_once(tmp_path, portal, db_url, hook, mailbox):
    cli = setup(
        tmp_path,
        portal,
        {"name": "everything", "notify": [hook.url, mailbox.url]},
        {
            "name": "environment",
            "query": TERM,
            "events": ["new", "changed", "withdrawn"],
            "sources": ["kaihua"],
            "notify": [hook.url],
        },
    )
    truth = day2_truth(portal)

    portal.set_day(1)
    out = cli("crawl", "kaihua")
    assert "notifications: 3 sent" in out.output
    first = {r["json"]["title"]: r["json"]["message"] for r in hook.accepted()}
    assert len(first) == 2 and len(hook.requests) == 2  # one summary per watch, not 120 messages
    every = next(body for title, body in first.items() if title.startswith("xxgk everything:"))
    assert f"first archive: {len(portal.expected_documents(1))} documents" in every and not documents_named(every)
    env = next(body for title, body in first.items() if title.startswith("xxgk environment:"))
    assert f"first archive: {day1_mentioning(portal)} documents" in env

    portal.set_day(2)
    cli("crawl", "kaihua", "--full")
    cli("crawl", "kaihua", "--full")  # nothing new: nothing sent again
    msgs = hook.accepted()
    assert len(msgs) == 4 and len({m["key"] for m in msgs}) == 4
    day2 = {m["json"]["title"].split(":")[0]: m["json"]["message"] for m in msgs[2:]}
    for watch, suffix in (("xxgk everything", ""), ("xxgk environment", f":{TERM}")):
        got = named([day2[watch]])
        assert len(got) == len(set(got)), "a document named twice"
        for kind in ("new", "changed", "withdrawn"):
            assert {i for k, i in got if k == kind} == truth[kind + suffix], (watch, kind)
    assert truth["new:环境"] or truth["changed:环境"]  # the query watch is not trivially empty
    everything = day2["xxgk everything"]
    assert "发布机构" in everything and "发布日期" in everything and portal.base_url in everything
    assert "fields: title:" in everything and "body: +" in everything and "files: replaced" in everything

    # the same messages by email, each with its delivery's key as a stable Message-ID
    assert len(mailbox.messages) == 2
    keys = [m["key"] for m in msgs if m["json"]["title"].startswith("xxgk everything")]
    ledger = cli.jsonl("events", "--watch", "everything")
    mail_keys = {d["key"] for e in ledger for d in e["deliveries"]} - set(keys)
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(f"<{k}@xxgk-archive>" for k in mail_keys)
    assert named([Mailbox.text(mailbox.messages[1])]) == named([everything])

    # the ledger: every event, each delivered (webhook and email) once
    assert len(ledger) == len(portal.expected_documents(1)) + sum(
        len(truth[k]) for k in ("new", "changed", "withdrawn")
    )
    assert all(len(e["deliveries"]) == 2 and {d["status"] for d in e["deliveries"]} == {"delivered"} for e in ledger)
    assert {e["kind"] for e in ledger} == {"new", "changed", "withdrawn"}
    assert sum(e["first_archive"] for e in ledger) == len(portal.expected_documents(1))
    env_ledger = cli.jsonl("events", "--watch", "environment")
    assert {e["index_no"] for e in env_ledger if not e["first_archive"]} == (
        truth[f"new:{TERM}"] | truth[f"changed:{TERM}"] | truth[f"withdrawn:{TERM}"]
    )
    rows = {r["name"]: r for r in cli.jsonl("watches")}
    assert rows["everything"]["delivered"] == 4 and rows["everything"]["pending"] == 0
    assert rows["environment"]["delivered"] == 2 and rows["environment"]["last_delivery"]

    # Atom feeds, parsed back: one entry per event, stable ids
    feed = ET.fromstring(cli("export", "--format", "atom", "--source", "kaihua").stdout_bytes)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == min(len(ledger), 200)
    assert len({e.find(f"{ATOM}id").text for e in entries}) == len(entries)
    withdrawn = [e for e in entries if e.find(f"{ATOM}category").get("term") == "withdrawn"]
    assert {e.find(f"{ATOM}title").text.split()[1] for e in withdrawn} == truth["withdrawn"]
    watch_feed = ET.fromstring(cli("export", "--format", "atom", "--watch", "environment").stdout_bytes)
    assert len(watch_feed.findall(f"{ATOM}entry")) == len(env_ledger)
    assert "unknown watch 'nope'" in cli("export", "--format", "atom", "--watch", "nope", code=2).output
    assert "one of --source NAME or --watch NAME" in cli("export", "--format", "atom", code=2).output


def test_a_failing_receiver_delays_but_never_loses_or_doubles(tmp_path, portal, db_url, hook):
    url = hook.url + "?rto=1"  # a hanging receiver times out after 1 s
    cli = setup(tmp_path, portal, {"name": "all", "notify": [url]})
    hook.modes = ["500", "500", "hang"]
    hook.hang_seconds = 2.5
    portal.set_day(1)
    out = cli("crawl", "kaihua")
    assert "1 not delivered" in out.output
    row = cli.jsonl("watches")[0]
    assert row["pending"] == 1 and row["failing"] == 1 and "500" in row["last_error"]
    cfg, engine = load_config(cli.config), engine_of(cli)
    wait_for(lambda: deliver(cfg, engine, "test").failed, why=lambda: hook.requests)  # the second 500
    wait_for(lambda: deliver(cfg, engine, "test").failed, why=lambda: hook.requests)  # the hang: a timeout
    hook.stop()  # refused
    wait_for(lambda: deliver(cfg, engine, "test").failed, why=lambda: hook.requests)
    assert "Connection" in cli.jsonl("watches")[0]["last_error"]
    hook.start()
    wait_for(lambda: deliver(cfg, engine, "test").sent, why=lambda: hook.requests)
    assert [r["mode"] for r in hook.requests] == ["500", "500", "hang", "ok"]
    assert len({r["key"] for r in hook.requests}) == 1  # the same message every time
    assert len({json.dumps(r["json"]) for r in hook.requests}) == 1
    for _ in range(3):
        assert deliver(cfg, engine, "test").sent == 0  # delivered: never sent again
    ledger = cli.jsonl("events")
    assert all(
        e["deliveries"][0]["status"] == "delivered" and e["deliveries"][0]["tries"] == 5 for e in ledger
    )  # 500, 500, timeout, refused, ok

    portal.set_day(2)
    hook.modes = ["500"]
    cli("crawl", "kaihua", "--full")
    wait_for(lambda: deliver(cfg, engine, "test").sent, why=lambda: hook.requests)
    accepted = hook.accepted()
    assert len(accepted) == 2 and len({r["key"] for r in accepted}) == 2
    truth = day2_truth(portal)
    got = named([accepted[1]["json"]["message"]])
    assert sorted(got) == sorted({(k, i) for k in ("new", "changed", "withdrawn") for i in truth[k]})


def claim_of(cli) -> tuple[str, datetime]:
    """Who holds the pending delivery, and until when."""
    engine = engine_of(cli)
    with engine.connect() as conn:
        [(holder, until)] = conn.execute(
            select(Delivery.claimed_by, Delivery.claimed_until).where(Delivery.status == "pending")
        ).all()
    engine.dispose()
    return holder, as_utc(until)


def lapse_claim(cli, holder: str) -> None:
    """`holder`'s claim made to have lapsed now (if it still has it): its CLAIM_SECONDS are not waited out."""
    engine = engine_of(cli)
    with engine.begin() as conn:
        conn.execute(
            update(Delivery)
            .where(Delivery.status == "pending", Delivery.claimed_by == holder)
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    engine.dispose()


class Daemon(Proc):
    def __init__(self, config: Path, log: Path):
        super().__init__(config, log, "daemon", ready="scheduled sources")


def test_daemon_killed_during_delivery_delivers_once_after_restart(tmp_path, portal, db_url, hook):
    cli = setup(tmp_path, portal, {"name": "all", "notify": [hook.url]})
    hook.stop()  # the crawl's own delivery fails: refused
    portal.set_day(1)
    assert "1 not delivered" in cli("crawl", "kaihua").output
    hook.start()
    hook.modes, hook.hang_seconds = ["hang"], 3.0
    daemon = Daemon(cli.config, tmp_path / "daemon.log").start()
    wait_for(lambda: hook.requests, timeout=30)  # the daemon is sending it now …
    sent_at = utcnow()
    daemon.stop(signal.SIGKILL)  # … and dies before it can record anything
    killed = hook.requests[0]
    time.sleep(hook.hang_seconds)
    assert cli.jsonl("watches")[0]["pending"] == 1
    dead, until = claim_of(cli)  # claimed for CLAIM_SECONDS just before it was sent
    assert sent_at + timedelta(seconds=CLAIM_SECONDS - 10) < until <= sent_at + timedelta(seconds=CLAIM_SECONDS)
    daemon = Daemon(cli.config, tmp_path / "daemon.log").start()
    try:
        time.sleep(2 * NOTIFY_SECONDS + 0.5)  # passes of the new daemon: the dead sender's claim holds
        assert len(hook.requests) == 1 or utcnow() > until, "sent again while the killed sender's claim held"
        lapse_claim(cli, dead)
        wait_for(lambda: hook.accepted(), timeout=30, why=lambda: daemon.output()[-2000:])
        time.sleep(2 * NOTIFY_SECONDS + 0.5)  # more passes of the daemon: nothing more is sent
    finally:
        assert daemon.stop() == 0
    assert len(hook.requests) == 2 and hook.requests[1]["key"] == killed["key"]
    assert hook.requests[1]["json"] == killed["json"]
    row = cli.jsonl("watches")[0]
    assert row["delivered"] == 1 and row["pending"] == 0


def test_watches_test_sends_a_sample_now(tmp_path, portal, db_url, hook, mailbox):
    cli = setup(
        tmp_path,
        portal,
        {"name": "all", "notify": [hook.url, mailbox.url]},
        {"name": "dead", "notify": ["json://127.0.0.1:9/nothing-listens"]},
    )
    out = cli("watches", "test", "all")
    assert out.output.count("sent to") == 2
    assert len(hook.accepted()) == 1 and "test message" in hook.accepted()[0]["json"]["title"]
    assert len(mailbox.messages) == 1 and "test message" in Mailbox.subject(mailbox.messages[0])
    assert "not sent" in cli("watches", "test", "dead", code=1).output
    assert "unknown watch 'nope'" in cli("watches", "test", "nope", code=2).output
    rows = cli.jsonl("watches")
    assert [r["name"] for r in rows] == ["all", "dead"] and rows[0]["last_delivery"] is None


def test_health_changes_are_events(tmp_path, portal, db_url, hook):
    cli = setup(tmp_path, portal, {"name": "ops", "events": ["health"], "notify": [hook.url]})
    portal.set_day(1)
    cli("crawl", "kaihua")
    assert hook.requests == []  # UNKNOWN -> OK is not news
    portal.inject(r"^/art/", "challenge")
    cli("crawl", "kaihua", "--full", code=None)
    [msg] = hook.accepted()
    assert "[health] kaihua: OK → BLOCKED" in msg["json"]["message"]
    [event] = cli.jsonl("events", "--watch", "ops")
    assert event["kind"] == "health" and event["health"]["to"] == "BLOCKED"


@pytest.fixture
def small_portal():
    from simulator import PortalSimulator

    with PortalSimulator(seed=3, docs=30) as sim:
        yield sim


@pytest.mark.e2e
def test_feeds_are_served_by_the_web_interface(tmp_path, small_portal, db_url, hook):
    import httpx
    from web_helpers import free_port

    cli = setup(tmp_path, small_portal, {"name": "all", "notify": [hook.url]})
    small_portal.set_day(1)
    cli("crawl", "kaihua")
    small_portal.set_day(2)
    cli("crawl", "kaihua", "--full")
    port = free_port()
    serve = Proc(
        cli.config, tmp_path / "serve.log", "serve", "--port", str(port), ready="serving the archive on"
    ).start()
    try:
        base = f"http://127.0.0.1:{port}"
        src = httpx.get(f"{base}/feeds/sources/kaihua.atom", timeout=30)
        watch = httpx.get(f"{base}/feeds/watches/all.atom", timeout=30)
        missing = [
            httpx.get(f"{base}/feeds/{p}", timeout=30).status_code for p in ("sources/nope.atom", "watches/nope.atom")
        ]
    finally:
        serve.stop()
    assert src.headers["content-type"].startswith("application/atom+xml") and missing == [404, 404]
    ledger = cli.jsonl("events")
    for feed in (ET.fromstring(src.content), ET.fromstring(watch.content)):
        ids = [e.find(f"{ATOM}id").text for e in feed.findall(f"{ATOM}entry")]
        assert ids == [f"urn:xxgk:event:{e['event_id']}" for e in ledger]  # newest first, each once
    assert ET.fromstring(src.content).find(f"{ATOM}link").get("href") == f"{base}/feeds/sources/kaihua.atom"


def test_a_queue_worker_delivers_after_its_crawl(tmp_path, portal, pg_url, hook, request):
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("the queue engine needs PostgreSQL (--db sqlite chosen)")
    cli = setup(
        tmp_path,
        portal,
        {"name": "all", "notify": [hook.url]},
        database_url=pg_url,
        engine="queue",
        lease_seconds=3,
        grace_seconds=3,
    )
    portal.set_day(1)
    cli("trigger", "kaihua")
    w = Proc(cli.config, tmp_path / "w1.log", "worker", ready="taking up to").start()
    try:
        [msg] = wait_for(hook.accepted, timeout=60, why=lambda: w.output()[-2000:])
    finally:
        assert w.stop() == 0
    assert f"first archive: {len(portal.expected_documents(1))} documents" in msg["json"]["message"]
    assert cli.jsonl("watches")[0]["delivered"] == 1


def test_a_digest_watch_sends_one_message_per_slot(tmp_path, portal, db_url, hook):
    from storage.db import session
    from storage.models import WatchState

    cli = setup(tmp_path, portal, {"name": "daily", "digest": "0 8 * * *", "notify": [hook.url]})
    portal.set_day(1)
    cli("crawl", "kaihua")
    assert hook.requests == []  # not due before the next 08:00
    row = cli.jsonl("watches")[0]
    assert row["events_waiting"] == len(portal.expected_documents(1)) and row["pending"] == 0
    with session(engine_of(cli)) as s:  # a day passes
        s.execute(update(WatchState).values(created_at=utcnow() - timedelta(days=1, hours=1)))
        s.commit()
    portal.set_day(2)
    cli("crawl", "kaihua", "--full")
    [msg] = hook.accepted()
    truth = day2_truth(portal)
    body = msg["json"]["message"]
    assert "digest" in msg["json"]["title"] and f"first archive: {len(portal.expected_documents(1))} documents" in body
    assert sorted(named([body])) == sorted({(k, i) for k in ("new", "changed", "withdrawn") for i in truth[k]})
    cli("crawl", "kaihua")  # the slot is used: nothing more until the next
    assert len(hook.requests) == 1 and cli.jsonl("watches")[0]["events_waiting"] == 0
