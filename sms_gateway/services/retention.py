"""Data retention: citizens' numbers are anonymised once all their tickets closed long ago.

Tickets keep region, category, neighbourhood, statuses and dates, so every report stays the same; what
goes is the number (replaced by a keyed hash, so one citizen's old tickets still group together), the
raw provider payloads, and the number on our outbound rows."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import sessionmaker

from ..adapters.models import Citizen, Contact, InboundMessage, Ticket
from ..domain.phones import ANONYMISED
from . import citizens, intake, outbox


def anonymise_closed(sessions: sessionmaker, months: int, now: datetime, key: str) -> int:
    """Anonymise every citizen whose tickets all closed more than `months` ago and who has written
    nothing since; returns how many. `key` keys the hash: settings.retention_secret, never a default."""
    cutoff = now - timedelta(days=round(months * 30.44))
    still_needed = or_(
        exists().where(Ticket.citizen_id == Citizen.id, or_(Ticket.closed_at.is_(None), Ticket.closed_at >= cutoff)),
        exists().where(InboundMessage.citizen_id == Citizen.id, InboundMessage.received_at >= cutoff))
    already = exists().where(Contact.citizen_id == Citizen.id, Contact.address.startswith(ANONYMISED))
    done = 0
    with sessions.begin() as session:
        found = session.scalars(select(Citizen.id).where(
            ~already, ~still_needed, exists().where(Ticket.citizen_id == Citizen.id))
            .with_for_update(skip_locked=True)).all()
        for citizen_id in found:
            address = citizens.sms_address(session, citizen_id) or str(citizen_id)
            token = ANONYMISED + hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()[:14]
            citizens.anonymise(session, citizen_id, token)
            outbox.anonymise(session, citizen_id, token)
            intake.anonymise(session, citizen_id, token)
            done += 1
    return done
