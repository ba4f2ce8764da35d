"""dashboard: login throttling, corrections, canned responses, queue indexes

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("login_failure",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("username", sa.String(length=80), nullable=False),
                    sa.Column("ip", sa.String(length=64), nullable=False),
                    sa.Column("at", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_login_failure_username_at", "login_failure", ["username", "at"])
    op.create_index("ix_login_failure_ip_at", "login_failure", ["ip", "at"])
    op.create_table("correction",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("ticket_id", sa.Integer(), nullable=False),
                    sa.Column("field", sa.String(length=20), nullable=False),
                    sa.Column("old_value", sa.String(length=80), nullable=True),
                    sa.Column("new_value", sa.String(length=80), nullable=True),
                    sa.Column("text", sa.Text(), nullable=False),
                    sa.Column("staff", sa.String(length=80), nullable=False),
                    sa.Column("at", sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_correction_ticket_id", "correction", ["ticket_id"])
    op.create_table("canned_response",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("title", sa.String(length=80), nullable=False),
                    sa.Column("body", sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("title"))
    op.create_index("ix_ticket_queue", "ticket", ["opened_at", "id"])
    op.create_index("ix_ticket_region_opened", "ticket", ["region", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_region_opened", "ticket")
    op.drop_index("ix_ticket_queue", "ticket")
    op.drop_table("canned_response")
    op.drop_index("ix_correction_ticket_id", "correction")
    op.drop_table("correction")
    op.drop_index("ix_login_failure_ip_at", "login_failure")
    op.drop_index("ix_login_failure_username_at", "login_failure")
    op.drop_table("login_failure")
