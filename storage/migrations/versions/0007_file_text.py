"""the text inside archived files (issue 17)

file_texts: one row per (file sha256, extractor version) with status, pages, error and the text;
search_files: the newest text of each file, normalised, with the dialect's index over it (FTS5
trigram + bigram on SQLite, pg_trgm GIN on PostgreSQL), like search_text.

Revision ID: 0007_file_text
Revises: 0006_outbox
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage import search

revision = "0007_file_text"
down_revision = "0006_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("extractor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("extractor_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("library", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("extracted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["blobs.sha256"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256", "extractor_version"),
    )
    with op.batch_alter_table("file_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_texts_sha256"), ["sha256"], unique=False)
    op.create_table(
        "search_files",
        sa.Column("file_text_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_text_id"],
            ["file_texts.id"],
        ),
        sa.PrimaryKeyConstraint("file_text_id"),
    )
    with op.batch_alter_table("search_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_files_sha256"), ["sha256"], unique=True)
    search.create_file_index(op.get_bind())


def downgrade() -> None:
    search.drop_file_index(op.get_bind())
    with op.batch_alter_table("search_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_files_sha256"))
    op.drop_table("search_files")
    with op.batch_alter_table("file_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_texts_sha256"))
    op.drop_table("file_texts")
