"""A crawled simulator archive with a hostile title, served by a real `xxgk serve` process."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path

from archive_helpers import crawled_cli
from helpers import Proc, path_regex

from simulator import PortalSimulator
from simulator.wire_faults import HOSTILE_TITLE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(tmp: Path, database_url: str | None = None, *args: str):
    """(base URL, the CLI on the archive, the hostile document's 索引号) while `xxgk serve` runs."""
    with PortalSimulator(seed=7, docs=120) as sim:
        hostile = sim.expected_documents()[5]
        sim.inject(path_regex(hostile["urls"][0]), "hostile-title")
        cli = crawled_cli(tmp, sim, database_url=database_url)
    port = free_port()
    proc = Proc(
        cli.config, tmp / "serve.log", "serve", "--port", str(port), *args, ready="serving the archive on"
    ).start()
    try:
        yield f"http://127.0.0.1:{port}", cli, hostile["index_no"]
    finally:
        proc.stop()


def hostile_title_of(title: str) -> bool:
    return title.startswith(HOSTILE_TITLE)
