"""Read-only views of tickets for the CLI, the API and the dashboard."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from .models import Citizen, InboundMessage, OutboundMessage, Ticket, TicketEvent


def ticket_row(ticket: Ticket, phone: str) -> dict:
    return {
        "code": ticket.tracking_code, "status": ticket.status, "intent": ticket.intent,
        "category": ticket.category, "neighbourhood": ticket.neighbourhood, "region": ticket.region,
        "emergency": ticket.emergency, "phone": phone, "opened_at": ticket.opened_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }


def list_tickets(sessions: sessionmaker, status: str | None = None, limit: int = 50) -> list[dict]:
    query = select(Ticket, Citizen.phone).join(Citizen).order_by(Ticket.opened_at.desc(), Ticket.id.desc())
    if status:
        query = query.where(Ticket.status == status)
    with sessions() as session:
        return [ticket_row(t, phone) for t, phone in session.execute(query.limit(limit))]


def ticket_detail(sessions: sessionmaker, code: str) -> dict | None:
    with sessions() as session:
        found = session.execute(select(Ticket, Citizen.phone).join(Citizen)
                                .where(Ticket.tracking_code == code)).first()
        if found is None:
            return None
        ticket, phone = found
        detail = ticket_row(ticket, phone)
        detail["description"] = ticket.description
        detail["events"] = [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "note": e.note}
            for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                     .order_by(TicketEvent.id))]
        detail["inbound"] = [
            {"at": m.received_at.isoformat(), "provider": m.provider, "text": m.text}
            for m in session.scalars(select(InboundMessage).where(InboundMessage.ticket_id == ticket.id)
                                     .order_by(InboundMessage.id))]
        detail["outbound"] = [
            {"at": m.created_at.isoformat(), "text": m.text, "status": m.status, "segments": m.segments,
             "kind": m.kind}
            for m in session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)
                                     .order_by(OutboundMessage.id))]
        return detail


def corrected_examples(sessions: sessionmaker) -> list[dict]:
    """Tickets whose category or place staff corrected, as labelled rows in the corpus format that
    `sms-gateway evaluate` reads: the citizen's first text with the corrected labels."""
    from .models import Correction

    corrected = select(Correction.ticket_id).distinct()
    with sessions() as session:
        tickets = session.scalars(select(Ticket).where(Ticket.id.in_(corrected)).order_by(Ticket.id)).all()
        return [{"id": f"c{t.id}", "text": t.description.split("\n")[0], "intent": t.intent,
                 "category": t.category, "neighbourhood": t.neighbourhood, "tracking_code": None}
                for t in tickets]
