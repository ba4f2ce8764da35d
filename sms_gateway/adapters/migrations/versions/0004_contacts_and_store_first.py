"""contacts instead of a phone on the citizen; inbound stored raw first; outbound to a contact

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("contact",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
                    sa.Column("channel", sa.String(length=20), nullable=False),
                    sa.Column("address", sa.String(length=64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("channel", "address", name="uq_contact_channel_address"))
    op.create_index("ix_contact_citizen_id", "contact", ["citizen_id"])
    op.execute("INSERT INTO contact (citizen_id, channel, address, created_at) "
               "SELECT id, 'sms', phone, created_at FROM citizen")

    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=False, server_default="sms"))
        batch.add_column(sa.Column("sender", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("state", sa.String(length=12), nullable=False, server_default="processed"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("processed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id",
                                                                            name="fk_inbound_contact"), nullable=True))
        batch.alter_column("citizen_id", existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE inbound_message SET processed_at = received_at, "
               "sender = (SELECT phone FROM citizen WHERE citizen.id = inbound_message.citizen_id), "
               "contact_id = (SELECT contact.id FROM contact WHERE contact.citizen_id = inbound_message.citizen_id)")
    op.create_index("ix_inbound_state", "inbound_message", ["state", "received_at"])

    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=False, server_default="sms"))
        batch.add_column(sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id",
                                                                            name="fk_ticket_contact"), nullable=True))
    op.execute("UPDATE ticket SET contact_id = "
               "(SELECT contact.id FROM contact WHERE contact.citizen_id = ticket.citizen_id)")

    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=False, server_default="sms"))
        batch.add_column(sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id",
                                                                            name="fk_outbound_contact"), nullable=True))
        batch.alter_column("to_phone", new_column_name="to_address", existing_type=sa.String(length=20),
                           type_=sa.String(length=64), existing_nullable=False)
    op.execute("UPDATE outbound_message SET contact_id = "
               "(SELECT contact.id FROM contact WHERE contact.citizen_id = outbound_message.citizen_id)")
    op.create_index("ix_outbound_message_contact_id", "outbound_message", ["contact_id"])

    with op.batch_alter_table("citizen") as batch:
        batch.drop_column("phone")


def downgrade() -> None:
    with op.batch_alter_table("citizen") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
    op.execute("UPDATE citizen SET phone = (SELECT address FROM contact WHERE contact.citizen_id = citizen.id "
               "AND contact.channel = 'sms' ORDER BY contact.id LIMIT 1)")
    op.drop_index("ix_outbound_message_contact_id", "outbound_message")
    with op.batch_alter_table("outbound_message") as batch:
        batch.alter_column("to_address", new_column_name="to_phone", existing_type=sa.String(length=64),
                           type_=sa.String(length=20))
        batch.drop_column("contact_id")
        batch.drop_column("channel")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("contact_id")
        batch.drop_column("channel")
    op.drop_index("ix_inbound_state", "inbound_message")
    with op.batch_alter_table("inbound_message") as batch:
        for name in ("contact_id", "processed_at", "last_error", "attempts", "state", "sender", "channel"):
            batch.drop_column(name)
    op.drop_index("ix_contact_citizen_id", "contact")
    op.drop_table("contact")
