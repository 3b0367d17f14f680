"""run ledger, leases, triggers, daemon heartbeat

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemons",
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("holder"),
    )
    op.create_table(
        "trigger_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("taken_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trigger_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trigger_requests_source_name"), ["source_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_trigger_requests_taken_at"), ["taken_at"], unique=False)

    op.create_table(
        "leases",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("acquired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
        ),
        sa.PrimaryKeyConstraint("source_id"),
    )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_for", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("health", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("blocked", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("no_metadata", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("layout_problems", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_crawl_runs_scheduled_for"), ["scheduled_for"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_runs_scheduled_for"))
        batch_op.drop_column("layout_problems")
        batch_op.drop_column("no_metadata")
        batch_op.drop_column("blocked")
        batch_op.drop_column("health")
        batch_op.drop_column("holder")
        batch_op.drop_column("reason")
        batch_op.drop_column("scheduled_for")

    op.drop_table("leases")
    with op.batch_alter_table("trigger_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trigger_requests_taken_at"))
        batch_op.drop_index(batch_op.f("ix_trigger_requests_source_name"))

    op.drop_table("trigger_requests")
    op.drop_table("daemons")
