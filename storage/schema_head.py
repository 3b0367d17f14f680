"""The newest migration's revision id, read from the migration files (no SQLAlchemy or alembic loaded)."""

from __future__ import annotations

import os
import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")


def head_revision() -> str:
    """The newest migration's revision id (migrations are linear; their file names sort in order)."""
    folder = MIGRATIONS / "versions"  # os.listdir: a glob pattern compiles a regex on each start (~10 ms)
    newest = folder / max(n for n in os.listdir(folder) if n[:1].isdigit() and n.endswith(".py"))
    found = re.search(r"^revision = ['\"]([^'\"]+)['\"]", newest.read_text("utf-8"), re.M)
    if found is None:
        raise RuntimeError(f"no `revision = ...` line in {newest}")
    return found.group(1)
