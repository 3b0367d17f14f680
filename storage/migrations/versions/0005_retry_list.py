"""the retry list; the database outages a daemon or worker rode out

retry_list: documents that failed (fetch or store), tried first by the source's next run, given up
after a set number of tries with the reason kept. daemons.database: the last database outage the
process rode out (health).

Revision ID: 0005_retry_list
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_retry_list"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retry_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("list_title", sa.Text(), nullable=True),
        sa.Column("list_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("list_meta", sa.JSON(), nullable=True),
        sa.Column("recheck", sa.Boolean(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("first_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("given_up_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "url"),
    )
    with op.batch_alter_table("retry_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retry_list_source_id"), ["source_id"], unique=False)
    with op.batch_alter_table("daemons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("database", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daemons", schema=None) as batch_op:
        batch_op.drop_column("database")
    with op.batch_alter_table("retry_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retry_list_source_id"))
    op.drop_table("retry_list")
