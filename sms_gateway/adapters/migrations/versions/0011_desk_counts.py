"""desk counts: a unit's and a colleague's tickets counted per status from an index (the status chips of
a unit account's queue and of «کارهای من»)

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_unit_status", "ticket", ["unit", "status", "opened_at"])
    op.create_index("ix_ticket_assignee_status", "ticket", ["assignee_id", "status", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_assignee_status", "ticket")
    op.drop_index("ix_ticket_unit_status", "ticket")
