"""live queue: unread per staff member, emergencies pinned until taken, indexes of the queue's views

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PINNED = sa.text("emergency AND taken_at IS NULL")
AWAITING = sa.text("status IN ('registered', 'referred', 'in_progress', 'reopened')")


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("last_citizen_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("taken_at", sa.DateTime(), nullable=True))
    # What staff have not opened since the citizen wrote stays unread; every ticket someone has already
    # acted on counts as taken (only a still-registered emergency stays pinned).
    op.execute("UPDATE ticket SET last_citizen_at = CASE WHEN unread THEN updated_at ELSE opened_at END")
    op.execute("UPDATE ticket SET taken_at = updated_at WHERE NOT emergency OR status <> 'registered'")
    op.create_table("ticket_seen",
                    sa.Column("staff_id", sa.Integer(), nullable=False),
                    sa.Column("ticket_id", sa.Integer(), nullable=False),
                    sa.Column("seen_at", sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"]),
                    sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
                    sa.PrimaryKeyConstraint("staff_id", "ticket_id"))
    op.create_index("ix_ticket_updated", "ticket", ["updated_at"])
    op.create_index("ix_ticket_pinned", "ticket", ["opened_at"], postgresql_where=PINNED, sqlite_where=PINNED)
    op.create_index("ix_ticket_overdue", "ticket", ["expected_at", "id"], postgresql_where=AWAITING,
                    sqlite_where=AWAITING)


def downgrade() -> None:
    op.drop_index("ix_ticket_overdue", "ticket")
    op.drop_index("ix_ticket_pinned", "ticket")
    op.drop_index("ix_ticket_updated", "ticket")
    op.drop_table("ticket_seen")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("taken_at")
        batch.drop_column("last_citizen_at")
