"""The one read model of a ticket: its facts, every message and event in time order, its linked reports.
The dashboard's ticket page and `sms-gateway tickets show` both read it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from ..adapters.models import Contact, InboundMessage, OutboundMessage, StaffUser, Ticket, TicketEvent
from ..domain.staff import Viewer
from ..domain.tickets import RETURNABLE, STAFF_ORDER, TRANSITIONS, UNIT_STATUSES
from ..domain.values import Action
from .context import Context
from .queue import row_of
from .staff import viewer_of
from .tickets import ticket_for

_ORDER = {"inbound": 0, "event": 1, "outbound": 2}


def ticket_view(ctx: Context, viewer: Viewer, code: str, now: datetime, reveal: bool = False) -> dict[str, Any]:
    with ctx.sessions() as session:
        t = ticket_for(session, viewer, code)
        contact = session.execute(select(Contact.channel, Contact.address).where(Contact.id == t.contact_id)).first()
        channel, address = (contact.channel, contact.address) if contact else (None, None)
        items: list[dict[str, Any]] = [
            {"at": m.received_at, "kind": "inbound", "text": m.text, "channel": m.channel, "state": m.state}
            for m in session.scalars(select(InboundMessage).where(InboundMessage.ticket_id == t.id))]
        items += [{"at": m.created_at, "kind": "outbound", "text": m.text, "status": m.status, "what": m.kind,
                   "segments": m.segments, "due_at": m.due_at, "error": m.last_error, "channel": m.channel}
                  for m in session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == t.id))]
        events = [{"at": e.at, "kind": "event", "actor": e.actor, "action": e.action, "text": e.note}
                  for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                           .order_by(TicketEvent.id))]
        # Internal notes are shown apart from the thread of what the citizen wrote and was sent.
        notes = [e for e in events if e["action"] == Action.STAFF_NOTE]
        items += [e for e in events if e["action"] != Action.STAFF_NOTE]
        items.sort(key=lambda i: (i["at"], _ORDER[i["kind"]]))
        linked = session.execute(select(Ticket.tracking_code, Ticket.status).where(or_(
            Ticket.linked_to_id == t.id, Ticket.id == t.linked_to_id))).all()
        view = row_of(t, channel, address, viewer, now, reveal)
        view.update(description=t.description, verdict=t.verdict, asked=t.asked, closed_at=t.closed_at,
                    revealed=reveal or viewer.sees_full_phone(), linked_codes=[(c, s) for c, s in linked],
                    primary=t.linked_to_id is None,
                    allowed=[s for s in STAFF_ORDER if s in TRANSITIONS[t.status]
                             and (not viewer.is_unit or s in UNIT_STATUSES)], items=items, notes=notes,
                    unit_label=ctx.city.unit_label(t.unit) if t.unit else None,
                    suggested_unit=(ctx.city.unit_for(t.category, t.region) or None),
                    returnable=t.unit is not None and t.status in RETURNABLE,
                    assignee=session.scalar(select(StaffUser.username).where(StaffUser.id == t.assignee_id))
                    if t.assignee_id else None,
                    colleagues=[u.username for u in session.scalars(select(StaffUser).where(
                        StaffUser.active.is_(True)).order_by(StaffUser.username))
                        if viewer_of(u).sees_ticket(t.region, t.unit)])
        return view
