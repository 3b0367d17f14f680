"""Test helpers: a config pointing at a simulator, and the real CLI in-process."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from typer.testing import CliRunner

from cli.main import app


def path_regex(url: str) -> str:
    """A fault-injection pattern matching exactly the path of `url`."""
    return re.escape(urlsplit(url).path) + "$"


def write_config(tmp_path: Path, sim, **source) -> Path:
    opts = {"rate": 0, "concurrency": 4, "family": "hanweb-jpage", **source}
    lines = ['[settings]', 'data_dir = "data"', 'retries = 2', 'timeout = 5', 'backoff = 0.05', '',
             '[[sources]]', 'name = "kaihua"',
             "start_urls = [" + ", ".join(json.dumps(u) for u in sim.column_urls) + "]"]
    for key, value in opts.items():
        if value is not None:
            lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path / "xxgk.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


class Cli:
    def __init__(self, config: Path):
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0):
        result = self.runner.invoke(app, ["--config", str(self.config), *args], catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
        return result

    def jsonl(self, *args: str, code: int | None = 0) -> list[dict]:
        out = self(*args, "--json", code=code).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


