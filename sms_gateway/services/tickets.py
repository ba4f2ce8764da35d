"""What staff do to a ticket, one entry per action, shared by the dashboard and the command line. Each
takes the viewer and checks they may see the ticket: one out of their reach reads as not found."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters.models import Ticket
from ..domain.staff import Viewer
from ..domain.text import to_latin_digits
from ..domain.tickets import IllegalTransition
from ..domain.values import Action, Kind
from . import citizens, lifecycle
from .context import Context

MAX_REPLY_CHARS = 670  # ten UCS-2 segments: a long answer is fine, a pasted essay is not


class TicketNotFound(LookupError):
    """Unknown, or out of the viewer's reach: the same either way."""


class Refused(ValueError):
    """A staff action that cannot be done, with the reason in Persian for the page."""


def clean_text(text: str) -> str:
    """What staff typed, as it can be stored and sent: no NUL or other control characters, spaces collapsed."""
    return " ".join("".join(ch for ch in text if ch >= " " or ch in "\n\t").split())


def ticket_for(session: Session, viewer: Viewer, code: str, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.tracking_code == to_latin_digits(code.strip())[:12])
    ticket = session.scalar(query.with_for_update() if lock else query)
    if ticket is None or not viewer.sees_region(ticket.region):
        raise TicketNotFound(code)
    return ticket


def change_status(ctx: Context, viewer: Viewer, code: str, status: str, note: str, now: datetime) -> Ticket:
    """The one way staff and scripts change a status; raises Refused with the reason."""
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code, lock=True)
        try:
            lifecycle.change_status(ctx, session, ticket, status.strip(), viewer.username, clean_text(note), now,
                                    reach=lambda linked: viewer.sees_region(linked.region))
        except IllegalTransition as exc:
            raise Refused(f"تغییر وضعیت ممکن نیست: {exc}") from None
        session.flush()
        session.expunge(ticket)
        return ticket


def reply(ctx: Context, viewer: Viewer, code: str, body: str, now: datetime) -> int:
    """Queue a staff answer to the citizen (the caller sends it once committed); the outbound id."""
    body = clean_text(body)
    if not body:
        raise Refused("متن پاسخ خالی است")
    if len(body) > MAX_REPLY_CHARS:
        raise Refused(f"متن پاسخ بیش از {MAX_REPLY_CHARS} نویسه است")
    with ctx.sessions.begin() as session:
        t = ticket_for(session, viewer, code)
        contact = citizens.contact_address(session, t.contact_id) if t.contact_id else None
        if contact is None:
            raise Refused("برای این شهروند راه تماسی ثبت نیست")
        channel, address = contact
        outbound_id = ctx.outbox.queue_reply(session, citizen_id=t.citizen_id, contact_id=t.contact_id or 0,
                                             channel=channel, address=address, text=body, kind=Kind.STAFF_REPLY,
                                             now=now, ticket_id=t.id)
        t.updated_at = now
        lifecycle.record_event(session, t.id, viewer.username, Action.REPLY, body[:200], now)
        return outbound_id


def correct(ctx: Context, viewer: Viewer, code: str, category: str, neighbourhood: str, now: datetime) -> list[str]:
    """Fix the category or place the classifier read; each change is kept as a Correction."""
    if category and ctx.city.category(category) is None:
        raise Refused("دسته ناشناخته است")
    place = ctx.city.place(neighbourhood.strip()) if neighbourhood.strip() else None
    if neighbourhood.strip() and place is None:
        raise Refused("محله ناشناخته است")
    with ctx.sessions.begin() as session:
        t = ticket_for(session, viewer, code, lock=True)
        return lifecycle.correct(ctx, session, t, viewer.username, category or None,
                                 place.name if place else None, place.region if place else None, now)


def mark_read(ctx: Context, viewer: Viewer, code: str) -> None:
    """A staff member opened the ticket: what the citizen wrote has been seen."""
    with ctx.sessions.begin() as session:
        lifecycle.mark_read(session, ticket_for(session, viewer, code))


def reveal_phone(ctx: Context, viewer: Viewer, code: str, now: datetime) -> None:
    """Write the reveal of the citizen's full number to the ticket's log (the view then shows it)."""
    with ctx.sessions.begin() as session:
        t = ticket_for(session, viewer, code)
        lifecycle.record_event(session, t.id, viewer.username, Action.PHONE_REVEALED, "", now)
