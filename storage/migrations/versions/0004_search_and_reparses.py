"""search index, document re-parses

search_text (both databases) + the dialect's index over it (FTS5 virtual tables on SQLite, pg_trgm
GIN indexes on PostgreSQL), filled from every document's current version; document_reparses keeps
the previous parse of a version re-parsed by a newer parser.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage import search

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_reparses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("parser_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("previous_parser_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("previous_content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("previous_record", sa.JSON(), nullable=True),
        sa.Column("previous_body_text", sa.Text(), nullable=True),
        sa.Column("reparsed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document_reparses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_reparses_version_id"), ["version_id"], unique=False)

    op.create_table(
        "search_text",
        sa.Column("document_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("document_id"),
    )
    conn = op.get_bind()
    search.create_index(conn)
    search.rebuild(conn)


def downgrade() -> None:
    search.drop_index(op.get_bind())
    op.drop_table("search_text")
    with op.batch_alter_table("document_reparses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_reparses_version_id"))
    op.drop_table("document_reparses")
