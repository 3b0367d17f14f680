"""The shape of the code: data flows cli -> schedules -> scraper -> storage, never back up."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["cli", "schedules", "scraper", "storage"]
FORBIDDEN = {
    "storage": {"scraper", "schedules", "cli", "simulator"},
    "scraper": {"schedules", "cli", "simulator"},
    "schedules": {"cli", "simulator"},
    "simulator": {"scraper", "storage", "schedules", "cli"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    bad = []
    for path in (ROOT / package).rglob("*.py"):
        hit = imports(path) & FORBIDDEN[package]
        if hit:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(hit)}")
    assert not bad, "\n".join(bad)


def test_docker_compose_is_valid():
    tool = shutil.which("check-jsonschema") or str(Path(ROOT, ".venv/bin/check-jsonschema"))
    run = subprocess.run(
        [tool, "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
