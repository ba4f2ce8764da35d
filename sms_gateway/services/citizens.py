"""The one writer of citizens and their contacts: who wrote, found or created in the same transaction
as their message, with their row locked so one citizen's messages take turns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters.models import Citizen, Contact
from ..domain.values import Channel


@dataclass(frozen=True)
class Identity:
    citizen_id: int
    contact_id: int
    opted_out: bool
    is_new: bool


def identify(session: Session, channel: str, address: str, now: datetime) -> Identity:
    """The citizen behind (channel, address), created with the contact on first contact."""
    for _attempt in range(3):
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


def set_opted_out(session: Session, citizen_id: int, opted_out: bool) -> None:
    session.execute(update(Citizen).where(Citizen.id == citizen_id).values(opted_out=opted_out))


def sms_address(session: Session, citizen_id: int) -> str | None:
    """The citizen's phone number, for staff and for SMS follow-ups of requests from other channels."""
    return session.scalar(select(Contact.address).where(Contact.citizen_id == citizen_id,
                                                        Contact.channel == Channel.SMS).order_by(Contact.id).limit(1))


def contact_address(session: Session, contact_id: int) -> tuple[str, str] | None:
    row = session.execute(select(Contact.channel, Contact.address).where(Contact.id == contact_id)).first()
    return (row.channel, row.address) if row else None


def anonymise(session: Session, citizen_id: int, token: str) -> None:
    """Retention: the citizen's addresses become a keyed hash (their tickets still group together)."""
    for n, contact in enumerate(session.scalars(select(Contact).where(Contact.citizen_id == citizen_id))):
        contact.address = token if n == 0 else f"{token}:{n}"
