"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sms_gateway.adapters.db import make_engine
from sms_gateway.adapters.models import Base


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def _fresh_database(database_url, tmp_path):
    """An empty database of the same kind: a new SQLite file, or a new PostgreSQL schema."""
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import _postgres_url

    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/old.sqlite3", lambda: None
    schema = f"sgmig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_postgres_url("public"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return _postgres_url(schema), drop


def test_the_contacts_migration_carries_existing_citizens_messages_and_tickets_over(database_url, tmp_path):
    """A database of the shape before contacts (revision 0003), with a citizen, a message, a ticket and a
    reply, comes out of `upgrade` with the number as an SMS contact every row points at."""
    from datetime import datetime

    from sqlalchemy import select, text

    from sms_gateway.adapters.migrate import upgrade
    from sms_gateway.adapters.models import Contact, InboundMessage, OutboundMessage, Ticket

    url, drop = _fresh_database(database_url, tmp_path)
    engine = make_engine(url)
    try:
        upgrade(engine, "0003")
        at = datetime(2026, 11, 20, 10, 0)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO citizen (id, phone, opted_out, created_at) VALUES "
                              "(7, '+989121234567', false, :at)"), {"at": at})
            conn.execute(text(
                "INSERT INTO ticket (id, tracking_code, citizen_id, status, intent, category, neighbourhood, region, "
                "description, emergency, opened_at, updated_at, incomplete, overdue_notified, supervisor_flag) VALUES "
                "(3, '12345674', 7, 'registered', 'report', 'asphalt', 'فین', 4, 'چاله', false, :at, :at, false, "
                "false, false)"), {"at": at})
            conn.execute(text(
                "INSERT INTO inbound_message (id, provider, provider_message_id, citizen_id, to_number, text, "
                "raw_payload, received_at, truncated, intent, ticket_id, reply_text) VALUES "
                "(5, 'kavenegar', 'm-1', 7, '', 'چاله', '{}', :at, false, 'report', 3, 'ثبت شد')"), {"at": at})
            conn.execute(text(
                "INSERT INTO outbound_message (id, citizen_id, to_phone, text, segments, kind, provider, status, "
                "automated, attempts, ticket_id, inbound_id, created_at, due_at) VALUES "
                "(9, 7, '+989121234567', 'ثبت شد', 1, 'ack', 'kavenegar', 'sent', false, 1, 3, 5, :at, :at)"),
                {"at": at})
        upgrade(engine)
        with engine.connect() as conn:
            contact = conn.execute(select(Contact)).one()
            assert (contact.citizen_id, contact.channel, contact.address) == (7, "sms", "+989121234567")
            ticket = conn.execute(select(Ticket.contact_id, Ticket.channel, Ticket.unread)).one()
            assert tuple(ticket) == (contact.id, "sms", False)
            inbound = conn.execute(select(InboundMessage.sender, InboundMessage.contact_id, InboundMessage.state)).one()
            assert tuple(inbound) == ("+989121234567", contact.id, "processed")
            outbound = conn.execute(select(OutboundMessage.to_address, OutboundMessage.contact_id,
                                           OutboundMessage.channel)).one()
            assert tuple(outbound) == ("+989121234567", contact.id, "sms")
    finally:
        engine.dispose()
        drop()
