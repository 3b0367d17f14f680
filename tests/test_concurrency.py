"""SQLite under concurrent use: a daemon, two foreground crawls of other sources and readers at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from simulator import PortalSimulator

XXGK = str(Path(sys.executable).with_name("xxgk"))


def test_daemon_crawls_and_readers_at_once_never_lock(tmp_path):
    with ExitStack() as stack:
        sims = [stack.enter_context(PortalSimulator(seed=s, docs=60)) for s in (1, 2, 3)]
        lines = ["[settings]", 'data_dir = "data"', "lease_seconds = 5", "backoff = 0.05", ""]
        for name, sim, extra in zip("abc", sims, ['schedule = "every 1s"', "", ""]):
            urls = ", ".join(json.dumps(u) for u in sim.column_urls)
            lines += [
                "[[sources]]",
                f'name = "{name}"',
                f"start_urls = [{urls}]",
                'family = "hanweb-jpage"',
                "rate = 0",
                "concurrency = 4",
                extra,
                "",
            ]
        cfg = tmp_path / "xxgk.toml"
        cfg.write_text("\n".join(lines))
        base = [XXGK, "--config", str(cfg)]
        log = open(tmp_path / "daemon.log", "wb")
        daemon = subprocess.Popen([*base, "-v", "daemon"], stdout=log, stderr=subprocess.STDOUT)
        crawls = [
            subprocess.Popen([*base, "crawl", n, "--full", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for n in "bc"
        ]
        readers = []
        db = tmp_path / "data" / "xxgk.db"
        while not db.exists() and any(p.poll() is None for p in crawls):  # readers start once there is an archive
            time.sleep(0.05)
        while any(p.poll() is None for p in crawls):
            for args in (
                ["ls", "--json", "--limit", "5"],
                ["runs", "--json"],
                ["search", "政府", "--json"],
                ["search", "法治政府", "--json"],
                ["reparse", "--source", "a"],
            ):
                readers.append(subprocess.run([*base, *args], capture_output=True, text=True, timeout=120))
        crawl_out = [(p.wait(), p.stdout.read().decode(), p.stderr.read().decode()) for p in crawls]
        time.sleep(1.5)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        log.close()
    everything = "\n".join(
        [o + e for _, o, e in crawl_out]
        + [r.stdout + r.stderr for r in readers]
        + [(tmp_path / "daemon.log").read_text("utf-8", "replace")]
    )
    assert "database is locked" not in everything
    assert [c for c, _, _ in crawl_out] == [0, 0], crawl_out
    # (a reparse of a source the daemon is crawling right then says so and exits 3; nothing else may fail)
    assert readers and all(r.returncode in (0, 3) for r in readers), [r.stderr for r in readers if r.returncode]
    assert all(r.returncode == 0 for r in readers if r.args[3] != "reparse")
    listing = subprocess.run([*base, "ls", "--json"], capture_output=True, text=True).stdout
    have = {k for row in map(json.loads, listing.splitlines()) for k in [row["index_no"], *row["urls"]] if k}
    for (_, out, _), sim in zip(crawl_out, sims[1:]):
        summary = json.loads(out.splitlines()[0])
        assert summary["status"] == "ok" and summary["errors"] == 0, (summary, [e for _, _, e in crawl_out])
        # (the seed document is in every simulated portal: one document, several sources' URLs)
        assert all((e["index_no"] or e["urls"][0]) in have for e in sim.expected_documents())
    runs = [
        json.loads(x)
        for x in subprocess.run([*base, "runs", "a", "--json"], capture_output=True, text=True).stdout.splitlines()
    ]
    assert any(r["status"] == "ok" for r in runs), "the daemon's scheduled source ran meanwhile"
