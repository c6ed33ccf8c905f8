"""balance_id unique per customer (Autumn), not per organisation and environment; a grant's
floor is 0, negative or NULL (CHECK ck_grants_floor)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# a floor is 0 or -(allowed overage); NULL: no floor (DESIGN.md "Floors")
_FLOOR_CHECK = "floor IS NULL OR floor <= 0"


def upgrade() -> None:
    # one batch: SQLite recreates the table once (env.py turns foreign keys off meanwhile)
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_constraint("uq_grants_org_env_external_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_grants_org_env_customer_internal_id_external_id",
            ["org", "env", "customer_internal_id", "external_id"],
        )
        batch_op.create_check_constraint("ck_grants_floor", _FLOOR_CHECK)


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_constraint("ck_grants_floor", type_="check")
        batch_op.drop_constraint(
            "uq_grants_org_env_customer_internal_id_external_id", type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_grants_org_env_external_id", ["org", "env", "external_id"]
        )
