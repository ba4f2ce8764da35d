"""the desk: tickets referred to executive units (with the unit's SLA), assigned to colleagues; unit staff
accounts; the weekly audit sample

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("department", sa.String(length=40), nullable=True))
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("unit", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("referred_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("unit_due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ticket_assignee_id_staff_user", "staff_user", ["assignee_id"], ["id"])
    op.create_index("ix_ticket_unit_opened", "ticket", ["unit", "opened_at"])
    op.create_index("ix_ticket_unit_closed", "ticket", ["unit", "closed_at"])
    op.create_index("ix_ticket_assignee_opened", "ticket", ["assignee_id", "opened_at"])
    op.create_table("audit_sample",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("ticket_id", sa.Integer(), nullable=False),
                    sa.Column("unit", sa.String(length=60), nullable=False),
                    sa.Column("week", sa.String(length=10), nullable=False),
                    sa.Column("sampled_at", sa.DateTime(), nullable=False),
                    sa.Column("review", sa.String(length=12), nullable=False),
                    sa.Column("reviewer", sa.String(length=80), nullable=True),
                    sa.Column("reviewed_at", sa.DateTime(), nullable=True),
                    sa.Column("note", sa.Text(), nullable=False),
                    sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("week", "ticket_id", name="uq_audit_sample_week_ticket"))
    op.create_index("ix_audit_sample_ticket_id", "audit_sample", ["ticket_id"])
    op.create_index("ix_audit_sample_unit_week", "audit_sample", ["unit", "week"])
    op.create_index("ix_audit_sample_review", "audit_sample", ["review", "sampled_at"])


def downgrade() -> None:
    op.drop_table("audit_sample")
    for name in ("ix_ticket_assignee_opened", "ix_ticket_unit_closed", "ix_ticket_unit_opened"):
        op.drop_index(name, "ticket")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_constraint("fk_ticket_assignee_id_staff_user", type_="foreignkey")
        for name in ("assignee_id", "unit_due_at", "referred_at", "unit"):
            batch.drop_column(name)
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("department")
