"""Data retention: citizens' numbers are anonymised once all their tickets closed long ago.

Tickets keep region, category, neighbourhood, statuses and dates, so every report stays the same; what
goes is the number (replaced by a keyed hash, so one citizen's old tickets still group together), the
raw provider payloads, and the number on our outbound rows."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import sessionmaker

from .models import Citizen, InboundMessage, OutboundMessage, Ticket
from .phone import ANONYMISED


def anonymise_closed(sessions: sessionmaker, months: int, now: datetime, secret: str) -> int:
    """Anonymise every citizen whose tickets all closed more than `months` ago and who has written
    nothing since; returns how many."""
    cutoff = now - timedelta(days=round(months * 30.44))
    still_needed = or_(
        exists().where(Ticket.citizen_id == Citizen.id, or_(Ticket.closed_at.is_(None), Ticket.closed_at >= cutoff)),
        exists().where(InboundMessage.citizen_id == Citizen.id, InboundMessage.received_at >= cutoff))
    done = 0
    with sessions.begin() as session:
        citizens = session.scalars(select(Citizen).where(
            ~Citizen.phone.startswith(ANONYMISED), ~still_needed,
            exists().where(Ticket.citizen_id == Citizen.id)).with_for_update(skip_locked=True)).all()
        for citizen in citizens:
            token = ANONYMISED + hmac.new(secret.encode(), citizen.phone.encode(), hashlib.sha256).hexdigest()[:14]
            citizen.phone = token
            session.execute(update(OutboundMessage).where(OutboundMessage.citizen_id == citizen.id)
                            .values(to_phone=token))
            session.execute(update(InboundMessage).where(InboundMessage.citizen_id == citizen.id)
                            .values(raw_payload={}))
            done += 1
    return done
