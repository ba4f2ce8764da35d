"""Staff corrections as labelled examples: the data `evaluate` scores and `train` learns from."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..adapters.models import Correction, Ticket


def corrected_examples(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Tickets whose category or place staff corrected, in the corpus format: the citizen's first text
    with the corrected labels."""
    corrected = select(Correction.ticket_id).distinct()
    with sessions() as session:
        found = session.scalars(select(Ticket).where(Ticket.id.in_(corrected)).order_by(Ticket.id)).all()
        return [{"id": f"c{t.id}", "text": t.description.split("\n")[0], "intent": t.intent,
                 "category": t.category, "neighbourhood": t.neighbourhood, "tracking_code": None}
                for t in found]
