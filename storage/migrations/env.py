"""Alembic environment: runs on the connection handed over by storage.db (no ini file needed)."""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
# Made by hand in the migrations, per dialect (storage/search.py): not for autogenerate to drop.
UNMODELLED = (
    "search_trigram",
    "search_bigram",
    "ix_search_trgm_",
    "search_file_trigram",
    "search_file_bigram",
    "ix_search_files_trgm",
)


def include_name(name, type_, parent_names) -> bool:
    return not (name or "").startswith(UNMODELLED)


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        connection = create_engine(context.config.get_main_option("sqlalchemy.url")).connect()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
