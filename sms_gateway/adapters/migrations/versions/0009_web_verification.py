"""the citizen web page: reports waiting for their one-time SMS code, and its rate limits

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("web_verification",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("token", sa.String(length=40), nullable=False),
                    sa.Column("phone", sa.String(length=64), nullable=False),
                    sa.Column("code_hash", sa.String(length=64), nullable=False),
                    sa.Column("text", sa.Text(), nullable=False),
                    sa.Column("place", sa.String(length=200), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("expires_at", sa.DateTime(), nullable=False),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("confirmed_at", sa.DateTime(), nullable=True),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("token"))
    op.create_index("ix_web_verification_expires", "web_verification", ["expires_at"])
    op.create_table("web_rate_limit",
                    sa.Column("key", sa.String(length=64), nullable=False),
                    sa.Column("window_start", sa.DateTime(), nullable=False),
                    sa.Column("count", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("key"))


def downgrade() -> None:
    op.drop_table("web_rate_limit")
    op.drop_index("ix_web_verification_expires", "web_verification")
    op.drop_table("web_verification")
