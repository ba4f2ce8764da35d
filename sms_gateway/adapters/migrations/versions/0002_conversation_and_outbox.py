"""conversation, follow-ups and outbox

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("job_run",
                    sa.Column("name", sa.String(length=40), nullable=False),
                    sa.Column("last_run_at", sa.DateTime(), nullable=False),
                    sa.Column("last_error", sa.Text(), nullable=True),
                    sa.PrimaryKeyConstraint("name"))
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("expected_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("asked", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("asked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("incomplete", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("next_reminder_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("overdue_notified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("verdict", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("verdict_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("supervisor_flag", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("linked_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ticket_linked_to", "ticket", ["linked_to_id"], ["id"])
        batch.create_index("ix_ticket_linked_to_id", ["linked_to_id"])
        batch.create_index("ix_ticket_next_reminder_at", ["next_reminder_at"])
        batch.create_index("ix_ticket_duplicate_lookup", ["category", "neighbourhood", "opened_at"])
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("automated", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("automated")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_duplicate_lookup")
        batch.drop_index("ix_ticket_next_reminder_at")
        batch.drop_index("ix_ticket_linked_to_id")
        batch.drop_constraint("fk_ticket_linked_to", type_="foreignkey")
        for column in ("linked_to_id", "supervisor_flag", "verdict_at", "verdict", "overdue_notified",
                       "next_reminder_at", "incomplete", "asked_at", "asked", "closed_at", "expected_at"):
            batch.drop_column(column)
    op.drop_table("job_run")
