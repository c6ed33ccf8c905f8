"""rollovers, test clocks, reversals and plan prices

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rollover", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source_grant_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reversed_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price", sa.Text(), nullable=True))
    # only ADD COLUMN on entries: SQLite keeps the table (and its append-only triggers)
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("entries", "note")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("price")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("reversed_at")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("clock_at")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("source_grant_id")
        batch_op.drop_column("rollover")
