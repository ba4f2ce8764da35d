"""api keys of Open311 client applications, with their per-minute request count

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("api_key",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("name", sa.String(length=80), nullable=False),
                    sa.Column("key_hash", sa.String(length=64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("revoked_at", sa.DateTime(), nullable=True),
                    sa.Column("last_used_at", sa.DateTime(), nullable=True),
                    sa.Column("window_start", sa.DateTime(), nullable=True),
                    sa.Column("window_count", sa.Integer(), nullable=False, server_default="0"),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("name"),
                    sa.UniqueConstraint("key_hash"))


def downgrade() -> None:
    op.drop_table("api_key")
