"""Answers to status queries: what the citizen's request is, where, who has it, in what state, and by when."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters.models import Ticket
from ..adapters.texts import jalali_date
from ..domain.tickets import CITIZEN_LABELS, CITIZEN_SHORT_LABELS, CLOSED, OPEN
from ..domain.values import Kind, Status
from .context import Context

LISTED = 3  # a citizen with several open requests is told the newest three codes


def status(ctx: Context, session: Session, citizen_id: int, code: str | None, not_ours: bool = False) -> str:
    """The citizen's own request by its code; with no code, their open requests. An unknown code and another
    citizen's read the same; a number that cannot be one of our codes (wrong length or check digit: a
    phone-line code, a typo) is told apart."""
    t = ctx.texts
    if not code:
        return _open_requests(ctx, session, citizen_id)
    if not_ours:
        return t.render(Kind.STATUS_NOT_OURS, code=code)
    ticket = session.scalar(select(Ticket).where(Ticket.tracking_code == code, Ticket.citizen_id == citizen_id))
    if ticket is None:
        return t.render(Kind.STATUS_UNKNOWN, code=code)
    return describe(ctx, ticket)


def describe(ctx: Context, ticket: Ticket) -> str:
    """«درخواست …، آب‌گرفتگی در فین: در حال انجام؛ فنی و عمرانی منطقه ۴؛ موعد ۳ آذر ۱۴۰۵.»"""
    place = ctx.city.place(ticket.neighbourhood)
    referred = ticket.status in (Status.REFERRED, Status.IN_PROGRESS)
    closed = ticket.status in CLOSED and ticket.closed_at is not None
    when = ticket.closed_at if closed else ticket.expected_at if ticket.status in OPEN else None
    return ctx.texts.render(
        Kind.STATUS, code=ticket.tracking_code,
        category=ctx.city.category_label(ticket.category, short=True) if ticket.category else "درخواست شما",
        place=place.short_name if place else "", state=CITIZEN_LABELS[ticket.status],
        unit=ctx.city.unit_name(ticket.category, ticket.region) if referred else "",
        date=jalali_date(when, ctx.policy.timezone) if when else "", date_word="در" if closed else "موعد")


def _open_requests(ctx: Context, session: Session, citizen_id: int) -> str:
    found = session.scalars(select(Ticket).where(Ticket.citizen_id == citizen_id, Ticket.status.in_(sorted(OPEN)))
                            .order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(LISTED)).all()
    if not found:
        return ctx.texts.render(Kind.STATUS_NO_CODE)
    if len(found) == 1:
        return describe(ctx, found[0])
    return ctx.texts.render(Kind.STATUS_LIST, open=[(t.tracking_code, CITIZEN_SHORT_LABELS[t.status]) for t in found])
