"""staff security: login failures counted per (username, address); a session version per staff member;
their queue searches counted

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The old rows (one per failure, counted per name and per address) are only throttling state.
    op.drop_index("ix_login_failure_ip_at", "login_failure")
    op.drop_index("ix_login_failure_username_at", "login_failure")
    op.drop_table("login_failure")
    op.create_table("login_failure",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("username", sa.String(length=80), nullable=False),
                    sa.Column("ip", sa.String(length=64), nullable=False),
                    sa.Column("failures", sa.Integer(), nullable=False),
                    sa.Column("last_at", sa.DateTime(), nullable=False),
                    sa.Column("locked_until", sa.DateTime(), nullable=True),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("username", "ip", name="uq_login_failure_username_ip"))
    op.create_index("ix_login_failure_last_at", "login_failure", ["last_at"])
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("searches", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("searches_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        for name in ("searches_since", "searches", "session_version"):
            batch.drop_column(name)
    op.drop_index("ix_login_failure_last_at", "login_failure")
    op.drop_table("login_failure")
    op.create_table("login_failure",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("username", sa.String(length=80), nullable=False),
                    sa.Column("ip", sa.String(length=64), nullable=False),
                    sa.Column("at", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_login_failure_username_at", "login_failure", ["username", "at"])
    op.create_index("ix_login_failure_ip_at", "login_failure", ["ip", "at"])
