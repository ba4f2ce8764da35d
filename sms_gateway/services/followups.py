"""Scheduled work that writes follow-ups: questions nobody answered, reminders, overdue notices. Each is
a plain function of `now`, safe to run twice and from two processes at once (SKIP LOCKED)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters.models import Ticket
from ..adapters.texts import jalali_date
from ..domain.tickets import AWAITING_CITY, CITIZEN_LABELS
from ..domain.values import Kind
from . import lifecycle
from .context import Context


def write_due(ctx: Context, now: datetime) -> dict[str, int]:
    """Every follow-up due at `now`, in one transaction."""
    with ctx.sessions.begin() as session:
        return {"expired": lifecycle.expire_questions(ctx, session, now),
                "reminders": queue_reminders(ctx, session, now),
                "overdue": queue_overdue_notices(ctx, session, now)}


def queue_reminders(ctx: Context, session: Session, now: datetime) -> int:
    count = 0
    for ticket in session.scalars(select(Ticket).where(Ticket.next_reminder_at <= now,
                                                       Ticket.status.in_(sorted(AWAITING_CITY)))
                                  .with_for_update(skip_locked=True)):
        text = ctx.texts.render(Kind.REMINDER, code=ticket.tracking_code,
                                opened=jalali_date(ticket.opened_at, ctx.policy.timezone),
                                status_label=CITIZEN_LABELS[ticket.status])
        ctx.outbox.queue_automated(session, ticket, Kind.REMINDER, text, now)
        step = timedelta(days=ctx.policy.reminder_days)
        while ticket.next_reminder_at is not None and ticket.next_reminder_at <= now:
            ticket.next_reminder_at += step
        count += 1
    return count


def queue_overdue_notices(ctx: Context, session: Session, now: datetime) -> int:
    count = 0
    for ticket in session.scalars(select(Ticket).where(
            Ticket.expected_at <= now, Ticket.overdue_notified.is_(False),
            Ticket.status.in_(sorted(AWAITING_CITY))).with_for_update(skip_locked=True)):
        text = ctx.texts.render(Kind.OVERDUE, code=ticket.tracking_code,
                                expected=jalali_date(ticket.expected_at or now, ctx.policy.timezone))
        ctx.outbox.queue_automated(session, ticket, Kind.OVERDUE, text, now)
        ticket.overdue_notified = True
        count += 1
    return count
