"""The one writer of citizens and their contacts: who wrote, found or created in the same transaction
as their message, with their row locked so one citizen's messages take turns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters.db import CleanString, UTCDateTime
from ..adapters.models import Citizen, Contact
from ..domain.values import Channel


@dataclass(frozen=True)
class Identity:
    citizen_id: int
    contact_id: int
    opted_out: bool
    is_new: bool


# PostgreSQL: the contact locked (a no-op UPDATE, as in _lock_contact) with its citizen's opt-out, or the
# citizen and the contact created, in one statement: one round trip for every message. An empty `contact_id`
# with a `citizen_id` is a citizen made for nothing (a concurrent first message of the number won the
# contact): the caller deletes it and looks again.
_IDENTIFY_PG = text("""
WITH found AS (
    UPDATE contact SET address = contact.address FROM citizen
    WHERE contact.channel = :channel AND contact.address = :address AND citizen.id = contact.citizen_id
    RETURNING contact.id AS contact_id, contact.citizen_id AS citizen_id, citizen.opted_out AS opted_out),
new_citizen AS (
    INSERT INTO citizen (opted_out, created_at) SELECT false, :now WHERE NOT EXISTS (SELECT 1 FROM found)
    RETURNING id),
new_contact AS (
    INSERT INTO contact (citizen_id, channel, address, created_at) SELECT id, :channel, :address, :now
    FROM new_citizen ON CONFLICT (channel, address) DO NOTHING RETURNING id, citizen_id)
SELECT contact_id, citizen_id, opted_out, false AS is_new FROM found
UNION ALL SELECT id, citizen_id, false, true FROM new_contact
UNION ALL SELECT NULL, id, false, true FROM new_citizen WHERE NOT EXISTS (SELECT 1 FROM new_contact)
""").bindparams(bindparam("channel", type_=CleanString(20)), bindparam("address", type_=CleanString(64)),
                bindparam("now", type_=UTCDateTime()))


def identify(session: Session, channel: str, address: str, now: datetime) -> Identity:
    """The citizen behind (channel, address), created with the contact on first contact."""
    postgres = session.get_bind().dialect.name == "postgresql"
    for _attempt in range(3):
        if postgres:
            row = session.execute(_IDENTIFY_PG, {"channel": channel, "address": address, "now": now}).one()
            if row.contact_id is not None:
                return Identity(row.citizen_id, row.contact_id, bool(row.opted_out), row.is_new)
            session.execute(delete(Citizen).where(Citizen.id == row.citizen_id))
            continue
        found = _lock_contact(session, channel, address)
        if found is not None:
            return found
        citizen_id = session.execute(insert(Citizen).values(opted_out=False, created_at=now)
                                     .returning(Citizen.id)).scalar_one()
        contact_id = session.execute(_insert_ignoring_conflict(session).values(
            citizen_id=citizen_id, channel=channel, address=address, created_at=now)
            .returning(Contact.id)).scalar()
        if contact_id is not None:
            return Identity(citizen_id, contact_id, False, True)
        # Another message of this new number won the insert: ours was for nothing, theirs is now visible.
        session.execute(delete(Citizen).where(Citizen.id == citizen_id))
    raise RuntimeError(f"could not find or create the contact {channel}:{address}")


def _lock_contact(session: Session, channel: str, address: str) -> Identity | None:
    # A no-op UPDATE rather than a SELECT: it locks the row (and takes SQLite's write lock), so one
    # citizen's concurrent messages wait for each other (the daily limit, a question waiting).
    row = session.execute(update(Contact).where(Contact.channel == channel, Contact.address == address)
                          .values(address=Contact.address).returning(Contact.id, Contact.citizen_id)).first()
    if row is None:
        return None
    opted_out = session.scalar(select(Citizen.opted_out).where(Citizen.id == row.citizen_id))
    return Identity(row.citizen_id, row.id, bool(opted_out), False)


def _insert_ignoring_conflict(session: Session):
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert(Contact) if dialect == "postgresql" else sqlite.insert(Contact))
    return statement.on_conflict_do_nothing(index_elements=["channel", "address"])


@dataclass(frozen=True)
class Linked:
    citizen_id: int            # the citizen the messenger contact and the number now both belong to
    moved_from: int | None     # the citizen the messenger contact was moved away from, if it was


def link_phone(session: Session, contact_id: int, phone: str, now: datetime) -> Linked:
    """A messenger user shared their own number (+98…): their contact joins the citizen of that SMS
    number, or, when the number is new, the number is added to their citizen. The caller moves what
    came through the contact (tickets, messages) with it, each through its own writer."""
    own = session.execute(select(Contact.citizen_id).where(Contact.id == contact_id)).scalar_one()
    for _attempt in range(3):
        sms = _lock_contact(session, Channel.SMS, phone)
        if sms is None:
            added = session.execute(_insert_ignoring_conflict(session).values(
                citizen_id=own, channel=Channel.SMS, address=phone, created_at=now).returning(Contact.id)).scalar()
            if added is None:
                continue  # the number's first SMS arrived at the same moment: join its citizen instead
            return Linked(own, None)
        if sms.citizen_id == own:
            return Linked(own, None)
        session.execute(update(Contact).where(Contact.id == contact_id).values(citizen_id=sms.citizen_id))
        # One person, one opt-out: a «لغو» sent on either channel is never undone by linking them.
        if not sms.opted_out and session.scalar(select(Citizen.opted_out).where(Citizen.id == own)):
            set_opted_out(session, sms.citizen_id, True)
        return Linked(sms.citizen_id, own)
    raise RuntimeError(f"could not link contact {contact_id} to its number")


def set_opted_out(session: Session, citizen_id: int, opted_out: bool) -> None:
    session.execute(update(Citizen).where(Citizen.id == citizen_id).values(opted_out=opted_out))


def sms_address(session: Session, citizen_id: int) -> str | None:
    """The citizen's phone number, for staff and for SMS follow-ups of requests from other channels."""
    found = sms_contact(session, citizen_id)
    return found[1] if found else None


def sms_contact(session: Session, citizen_id: int) -> tuple[int, str] | None:
    """(contact id, number) of the citizen's first SMS contact."""
    row = session.execute(select(Contact.id, Contact.address).where(
        Contact.citizen_id == citizen_id, Contact.channel == Channel.SMS).order_by(Contact.id).limit(1)).first()
    return (row.id, row.address) if row else None


def contact_address(session: Session, contact_id: int) -> tuple[str, str] | None:
    row = session.execute(select(Contact.channel, Contact.address).where(Contact.id == contact_id)).first()
    return (row.channel, row.address) if row else None


def anonymise(session: Session, citizen_id: int, token: str) -> None:
    """Retention: the citizen's addresses become a keyed hash (their tickets still group together)."""
    for n, contact in enumerate(session.scalars(select(Contact).where(Contact.citizen_id == citizen_id))):
        contact.address = token if n == 0 else f"{token}:{n}"
