"""storage/tables.py (the Core tables the fast read paths use) is storage/models.py's schema, generated."""

from __future__ import annotations

from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage import tables
from storage.tables_gen import render


def test_tables_py_is_generated_from_the_models():
    assert tables.__file__ and open(tables.__file__, encoding="utf-8").read() == render(), (
        "storage/tables.py is stale: run `.venv/bin/python -m storage.tables_gen`"
    )


def test_every_model_column_is_in_the_core_tables():
    core = {t.name: [(c.name, c.primary_key, c.nullable) for c in t.columns] for t in tables.metadata.sorted_tables}
    orm = {t.name: [(c.name, c.primary_key, c.nullable) for c in t.columns] for t in SQLModel.metadata.sorted_tables}
    assert core == orm
