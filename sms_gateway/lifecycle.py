"""Use cases on a ticket's life: status changes and the messages they cause, written in one transaction.

Every automated message is an outbox row (outbound_message with automated=True and a due time); the
scheduler sends it. Nothing here knows Flask or a provider.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from . import domain
from .driver import DriverStatement
from .messages import SmsTemplates, jalali_date
from .models import Citizen, OutboundMessage, Ticket, TicketEvent
from .segments import count_segments
from .understanding.citydata import CityData

MAX_AUTOMATED_CHARS = 134  # two UCS-2 segments


@dataclass
class FollowUps:
    """What writing a follow-up needs: texts, rules, city data and the provider that sends them."""

    templates: SmsTemplates
    policy: domain.Policy
    city: CityData
    outbound_provider: str
    clock: Callable[[], datetime]

    def sla_hours(self, category: str | None) -> int:
        found = self.city.category(category) or self.city.category("other")
        return found.sla_hours if found else 72

    def expected_at(self, opened_at: datetime, category: str | None) -> datetime:
        """When a ticket of this category opened at `opened_at` should be done."""
        return opened_at + timedelta(hours=self.sla_hours(category))

    def category_label(self, category: str | None) -> str:
        found = self.city.category(category)
        return found.label if found else "سایر"


class TicketNotFound(LookupError):
    pass


def record_event(session: Session, ticket: Ticket, actor: str, action: str, note: str, now: datetime) -> None:
    record_events(session, [(ticket, actor, action, note)], now)


def record_events(session: Session, events: list[tuple[Ticket, str, str, str]], now: datetime) -> None:
    """(ticket, actor, action, note) events in one statement. A plain INSERT by id: the ticket's event
    collection is never loaded, a ticket may be a row of (id, …), and the intake hot path pays no
    unit-of-work cost."""
    _INSERT_EVENTS.many(session, [dict(ticket_id=ticket.id, actor=actor[:80], action=action, note=note, at=now)
                                  for ticket, actor, action, note in events])


_INSERT_EVENTS = DriverStatement(insert(TicketEvent.__table__))


def expected_completion(ticket: Ticket, fu: FollowUps) -> datetime:
    return fu.expected_at(ticket.opened_at, ticket.category)


def change_status(session: Session, ticket: Ticket, new: str, actor: str, note: str, fu: FollowUps,
                  now: datetime, notify: bool = True) -> None:
    """Move a ticket (and the reports linked to it) to `new`; raises domain.IllegalTransition."""
    domain.check_transition(ticket.status, new, note)
    _apply_status(session, ticket, new, actor, note, fu, now, notify)
    if ticket.linked_to_id is None:
        for linked in session.scalars(select(Ticket).where(Ticket.linked_to_id == ticket.id)):
            if new in domain.TRANSITIONS.get(linked.status, ()):
                _apply_status(session, linked, new, actor, f"همراه درخواست {ticket.tracking_code}. {note}".strip(),
                              fu, now, notify)


def _apply_status(session: Session, ticket: Ticket, new: str, actor: str, note: str, fu: FollowUps,
                  now: datetime, notify: bool) -> None:
    old = ticket.status
    ticket.status, ticket.updated_at = new, now
    record_event(session, ticket, actor, "status", f"{old} → {new}" + (f": {note}" if note else ""), now)
    if new in domain.CLOSED:
        ticket.closed_at, ticket.next_reminder_at = now, None
        ticket.verdict, ticket.verdict_at = "asked", None
    elif old in domain.CLOSED:
        ticket.closed_at = None
        ticket.next_reminder_at = now + timedelta(days=fu.policy.reminder_days)
    if new != domain.NEEDS_INFO:
        ticket.asked = None
    if ticket.expected_at is None:
        ticket.expected_at = expected_completion(ticket, fu)
    if notify:
        queue_automated(session, ticket, new, status_text(ticket, new, note, fu), fu, now)


def status_text(ticket: Ticket, status: str, note: str, fu: FollowUps) -> str:
    t, code, p = fu.templates, ticket.tracking_code, fu.policy
    if status == domain.REFERRED:
        return t.render("referred", code=code, category_label=fu.category_label(ticket.category),
                        expected=jalali_date(ticket.expected_at, p.timezone))
    if status == domain.DONE:
        return t.render("done", code=code, accept=p.verdict_accept, object=p.verdict_object)
    if status == domain.NOT_DOABLE:
        return fit_two_segments(lambda reason: t.render("not_doable", code=code, reason=reason,
                                                        accept=p.verdict_accept, object=p.verdict_object), note)
    if status == domain.REOPENED:
        return t.render("reopened", code=code)
    return t.render("status_changed", code=code, status_label=domain.STATUS_LABELS[status])


def fit_two_segments(render: Callable[[str], str], value: str) -> str:
    """Render with `value` shortened (ending «…») until the text fits two UCS-2 segments."""
    value = " ".join(value.split())
    text = render(value)
    while len(text) > MAX_AUTOMATED_CHARS and value:
        overflow = len(text) - MAX_AUTOMATED_CHARS
        value = value[: max(len(value) - overflow - 1, 0)].rstrip() + "…" if len(value) > overflow + 1 else ""
        text = render(value)
    return text


def queue_automated(session: Session, ticket: Ticket, kind: str, text: str, fu: FollowUps,
                    now: datetime) -> OutboundMessage:
    """An outbox row for the ticket's citizen, due now or when the quiet hours end; an opted-out
    citizen's row is written as suppressed so staff can see it was not sent."""
    citizen = session.get(Citizen, ticket.citizen_id)
    message = OutboundMessage(
        citizen_id=ticket.citizen_id, to_phone=citizen.phone, text=text, segments=count_segments(text),
        kind=kind, provider=fu.outbound_provider, status="suppressed" if citizen.opted_out else "queued",
        automated=True, attempts=0, ticket_id=ticket.id, created_at=now, due_at=fu.policy.next_send_time(now))
    session.add(message)
    return message


def set_status_by_code(sessions: sessionmaker, code: str, new: str, actor: str, note: str,
                       fu: FollowUps) -> Ticket:
    """The one entry point for staff and scripts to change a status."""
    with sessions.begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.tracking_code == code).with_for_update())
        if ticket is None:
            raise TicketNotFound(f"no ticket with tracking code {code}")
        change_status(session, ticket, new, actor, note, fu, fu.clock())
        session.flush()
        session.expunge(ticket)
        return ticket


def record_verdict(session: Session, ticket: Ticket, verdict: str, fu: FollowUps, now: datetime) -> None:
    """The citizen's answer to the outcome: accepted, or objected (reopens, flags a supervisor)."""
    ticket.verdict, ticket.verdict_at = verdict, now
    record_event(session, ticket, "citizen", "verdict", verdict, now)
    if verdict == "objected":
        ticket.supervisor_flag = True
        change_status(session, ticket, domain.REOPENED, "citizen", "اعتراض شهروند به نتیجه", fu, now, notify=False)


# --- Scheduled work that writes outbox rows ---------------------------------------------------------

def expire_questions(session: Session, fu: FollowUps, now: datetime) -> int:
    """No answer within clarify_hours: the ticket goes on to staff, flagged incomplete."""
    cutoff = now - timedelta(hours=fu.policy.clarify_hours)
    count = 0
    for ticket in session.scalars(select(Ticket).where(Ticket.status == domain.NEEDS_INFO,
                                                       Ticket.asked_at <= cutoff).with_for_update(skip_locked=True)):
        ticket.incomplete = True
        change_status(session, ticket, domain.REGISTERED, "system", "بی‌پاسخ ماند؛ ناقص به کارشناس رسید", fu, now,
                      notify=False)
        count += 1
    return count


def queue_reminders(session: Session, fu: FollowUps, now: datetime) -> int:
    count = 0
    for ticket in session.scalars(select(Ticket).where(
            Ticket.next_reminder_at <= now, Ticket.status.in_(domain.AWAITING_CITY))
            .with_for_update(skip_locked=True)):
        text = fu.templates.render("reminder", code=ticket.tracking_code,
                                   opened=jalali_date(ticket.opened_at, fu.policy.timezone),
                                   status_label=domain.STATUS_LABELS[ticket.status])
        queue_automated(session, ticket, "reminder", text, fu, now)
        step = timedelta(days=fu.policy.reminder_days)
        while ticket.next_reminder_at <= now:
            ticket.next_reminder_at += step
        count += 1
    return count


def queue_overdue_notices(session: Session, fu: FollowUps, now: datetime) -> int:
    count = 0
    for ticket in session.scalars(select(Ticket).where(
            Ticket.expected_at <= now, Ticket.overdue_notified.is_(False),
            Ticket.status.in_(domain.AWAITING_CITY)).with_for_update(skip_locked=True)):
        text = fu.templates.render("overdue", code=ticket.tracking_code,
                                   expected=jalali_date(ticket.expected_at, fu.policy.timezone))
        queue_automated(session, ticket, "overdue", text, fu, now)
        ticket.overdue_notified = True
        count += 1
    return count
