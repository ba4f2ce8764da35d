"""a unit's overdue view: its tickets still awaiting the city by the unit's own due time (referral + SLA)

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

AWAITING = sa.text("status IN ('registered', 'referred', 'in_progress', 'reopened')")


def upgrade() -> None:
    op.create_index("ix_ticket_unit_due", "ticket", ["unit", "unit_due_at", "id", "status"],
                    postgresql_where=AWAITING, sqlite_where=AWAITING)


def downgrade() -> None:
    op.drop_index("ix_ticket_unit_due", "ticket")
