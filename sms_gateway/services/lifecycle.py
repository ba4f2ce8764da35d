"""The one writer of tickets and their events: opening, completing, status changes (and the linked
reports that follow them), verdicts and corrections, each with the follow-up SMS it causes."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Insert, Integer, bindparam, insert, or_, select, union_all, update
from sqlalchemy.orm import Session

from ..adapters.db import table
from ..adapters.models import Correction, Ticket, TicketEvent
from ..adapters.texts import jalali_date
from ..domain.codes import new_tracking_code
from ..domain.decide import TicketFacts
from ..domain.text import UCS2_PART, persian_digits, ucs2_units
from ..domain.tickets import (
    CITIZEN_LABELS,
    CLOSED,
    RETURNABLE,
    TRANSITIONS,
    IllegalTransition,
    check_transition,
    is_incomplete,
)
from ..domain.understanding import Understanding
from ..domain.values import ACTOR_CITIZEN, ACTOR_SYSTEM, Action, Kind, Status, Verdict
from .context import Context

MAX_AUTOMATED_CHARS = 2 * UCS2_PART  # two UCS-2 segments
Reach = Callable[[Ticket], bool]


@dataclass(frozen=True)
class Opened:
    id: int
    code: str
    status: str


def record_events(session: Session, events: Iterable[tuple[int, str, str, str]], now: datetime) -> None:
    """(ticket id, actor, action, note) events in one statement."""
    rows = [dict(ticket_id=ticket_id, actor=actor[:80], action=action, note=note, at=now)
            for ticket_id, actor, action, note in events]
    if rows:  # on the table, not the ORM entity: no unit-of-work bookkeeping for rows nobody reads back
        session.execute(insert(table(TicketEvent)), rows[0] if len(rows) == 1 else rows)


def record_event(session: Session, ticket_id: int, actor: str, action: str, note: str, now: datetime) -> None:
    record_events(session, [(ticket_id, actor, action, note)], now)


def expected_at(ctx: Context, opened_at: datetime, category: str | None, emergency: bool = False) -> datetime:
    """When a ticket of this category opened at `opened_at` should be done; an emergency in hours."""
    hours = ctx.policy.emergency_sla_hours if emergency else ctx.city.sla_hours(category)
    return opened_at + timedelta(hours=hours)


_NEW_TICKET = insert(table(Ticket)).returning(Ticket.id)  # built once, given its values per ticket


def open_ticket(ctx: Context, session: Session, *, citizen_id: int, contact_id: int, channel: str,
                u: Understanding, text: str, now: datetime, ask: str | None = None,
                link_to: TicketFacts | None = None) -> Opened:
    """A new ticket: an emergency goes straight to staff; a report lacking its place or problem waits for
    the citizen's answer; one like an open ticket nearby is linked to it and shares its status. A plain
    INSERT rather than the unit of work: this is the hot path of a storm of reports."""
    emergency = u.intent == "emergency"
    status = link_to.status if link_to else Status.NEEDS_INFO if ask else Status.REGISTERED
    code = new_tracking_code()
    values = dict(
        tracking_code=code, citizen_id=citizen_id, contact_id=contact_id, channel=channel, status=status,
        intent=u.intent, category=u.category, neighbourhood=u.neighbourhood, region=u.region, description=text,
        emergency=emergency, opened_at=now, updated_at=now, expected_at=expected_at(ctx, now, u.category, emergency),
        asked=ask, asked_at=now if ask else None, incomplete=False, overdue_notified=False, supervisor_flag=False,
        next_reminder_at=now + timedelta(days=ctx.policy.reminder_days), unread=True, last_citizen_at=now,
        linked_to_id=link_to.id if link_to else None)
    events: list[tuple[int | None, str, str, str]] = [(None, ACTOR_CITIZEN, Action.OPENED, "")]  # None: this one
    if ask:
        events.append((None, ACTOR_SYSTEM, Action.ASKED, ask))
    if link_to is not None:
        events += [(None, ACTOR_SYSTEM, Action.LINKED, link_to.code), (link_to.id, ACTOR_SYSTEM, Action.LINKED, code)]
    if session.get_bind().dialect.name == "postgresql":  # the ticket and its events in one round trip
        binds = {f"t_{k}": v for k, v in values.items()} | {"e_at": now}
        for n, (other, actor, action, note) in enumerate(events):
            binds |= {f"e_ticket_{n}": other, f"e_actor_{n}": actor, f"e_action_{n}": action, f"e_note_{n}": note}
        written = session.execute(_ticket_with_events(tuple(other is None for other, *_ in events)), binds)
        ticket_id = next(row.ticket_id for row in written if row.action == Action.OPENED)
    else:
        ticket_id = session.execute(_NEW_TICKET, values).scalar_one()
        record_events(session, [(ticket_id if other is None else other, actor, action, note)
                                 for other, actor, action, note in events], now)
    return Opened(ticket_id, code, status)


_TICKET_COLUMNS = ("tracking_code", "citizen_id", "contact_id", "channel", "status", "intent", "category",
                   "neighbourhood", "region", "description", "emergency", "opened_at", "updated_at", "expected_at",
                   "asked", "asked_at", "incomplete", "overdue_notified", "supervisor_flag", "next_reminder_at",
                   "unread", "last_citizen_at", "linked_to_id")


@functools.cache
def _ticket_with_events(own: tuple[bool, ...]) -> Insert:
    """PostgreSQL: INSERT the ticket in a CTE and its events (`own`: whether each is the new ticket's,
    else another's, the linked primary) from it; returns the events' (ticket_id, action). One statement
    per shape, built once."""
    tickets, events = table(Ticket), table(TicketEvent)
    new = insert(tickets).values({c: bindparam(f"t_{c}", type_=tickets.c[c].type) for c in _TICKET_COLUMNS}) \
        .returning(tickets.c.id).cte("new_ticket")
    rows = [select(new.c.id if mine else bindparam(f"e_ticket_{n}", type_=Integer()),
                   bindparam(f"e_actor_{n}", type_=events.c.actor.type),
                   bindparam(f"e_action_{n}", type_=events.c.action.type),
                   bindparam(f"e_note_{n}", type_=events.c.note.type),
                   bindparam("e_at", type_=events.c.at.type)).select_from(new)
            for n, mine in enumerate(own)]
    return insert(events).from_select(["ticket_id", "actor", "action", "note", "at"], union_all(*rows)) \
        .returning(events.c.ticket_id, events.c.action).add_cte(new)


def refer(ctx: Context, session: Session, ticket: Ticket, unit: str, label: str, actor: str, note: str,
          now: datetime, reach: Reach | None = None) -> None:
    """Refer a ticket (and the reports linked to it, within reach) to an executive unit: the unit's SLA
    clock starts now. The ticket becomes «referred» (the citizen is told, as for any status) unless it is
    already, when only the unit changes."""
    hours = ctx.policy.emergency_sla_hours if ticket.emergency else ctx.city.sla_hours(ticket.category)
    linked = [] if ticket.linked_to_id is not None else [
        t for t in session.scalars(select(Ticket).where(Ticket.linked_to_id == ticket.id).with_for_update())
        if t.status not in CLOSED and (reach is None or reach(t))]
    for t in [ticket, *linked]:
        t.unit, t.referred_at, t.unit_due_at, t.updated_at = unit, now, now + timedelta(hours=hours), now
    record_events(session, [(t.id, actor, Action.REFERRED_TO_UNIT, f"{label}: {note}" if note else label)
                            for t in [ticket, *linked]], now)
    if ticket.status != Status.REFERRED:
        change_status(ctx, session, ticket, Status.REFERRED, actor, note, now, reach=reach)


def send_back(ctx: Context, session: Session, ticket: Ticket, label: str, actor: str, reason: str,
              now: datetime) -> None:
    """A unit returns a ticket (and its linked reports with the same unit) to the 137 centre: it is
    registered again, unread, with no unit. The citizen is not told: for them it is still being handled."""
    if ticket.status not in RETURNABLE:
        raise IllegalTransition(f"درخواستی که «{CITIZEN_LABELS[ticket.status]}» است برگرداندنی نیست")
    linked = [] if ticket.linked_to_id is not None else list(session.scalars(
        select(Ticket).where(Ticket.linked_to_id == ticket.id, Ticket.unit == ticket.unit).with_for_update()))
    for t in [ticket, *linked]:
        if t.status in RETURNABLE:
            t.unit, t.referred_at, t.unit_due_at, t.unread = None, None, None, True
            record_event(session, t.id, actor, Action.RETURNED, f"{label}: {reason}", now)
            _apply_status(ctx, session, t, Status.REGISTERED, actor, reason, now, notify=False)


def complete(ctx: Context, session: Session, ticket_id: int, u: Understanding, text: str, now: datetime) -> Ticket:
    """The citizen answered our question: take what the answer gives, then the ticket goes on to staff."""
    ticket = session.get_one(Ticket, ticket_id, with_for_update=True)
    if u.neighbourhood and ticket.neighbourhood is None:
        ticket.neighbourhood, ticket.region = u.neighbourhood, u.region
    if u.category not in (None, "other") and u.routed and (ticket.category in (None, "other")
                                                           or ticket.asked != "place"):
        ticket.category = u.category
        ticket.expected_at = expected_at(ctx, ticket.opened_at, ticket.category, ticket.emergency)
    ticket.description = f"{ticket.description}\n{text}"
    ticket.incomplete = is_incomplete(ticket.neighbourhood, ticket.category)
    ticket.unread, ticket.last_citizen_at, ticket.updated_at = True, now, now
    record_event(session, ticket.id, ACTOR_CITIZEN, Action.ANSWERED, text[:500], now)
    change_status(ctx, session, ticket, Status.REGISTERED, ACTOR_CITIZEN, "", now, notify=False)
    return ticket


def attach(ctx: Context, session: Session, ticket_id: int, text: str, objection: bool, now: datetime) -> str:
    """The citizen wrote again about an open ticket (still not fixed, a repeat, a detail, an objection's
    reason): it shows in the thread and is unread for staff again. The ticket's status."""
    ticket = session.get_one(Ticket, ticket_id, with_for_update=True)
    ticket.updated_at, ticket.unread, ticket.last_citizen_at = now, True, now
    note = f"دلیل اعتراض: {text[:480]}" if objection else text[:500]
    record_event(session, ticket.id, ACTOR_CITIZEN, Action.NOTE if objection else Action.MESSAGE, note, now)
    return ticket.status


def mark_read(session: Session, ticket: Ticket) -> None:
    """Someone on the staff has opened the ticket."""
    if ticket.unread:
        ticket.unread = False


def take(ticket: Ticket, now: datetime) -> None:
    """A staff member set a status, replied or assigned: an emergency is no longer pinned on top."""
    if ticket.taken_at is None:
        ticket.taken_at, ticket.updated_at = now, now


def change_status(ctx: Context, session: Session, ticket: Ticket, new: str, actor: str, note: str, now: datetime,
                  notify: bool = True, reach: Reach | None = None) -> None:
    """Move a ticket (and the reports linked to it) to `new`; raises IllegalTransition. `reach` says which
    linked tickets the actor may change (a change never reaches a ticket its actor cannot see)."""
    check_transition(ticket.status, new, note)
    if new == Status.NOT_DOABLE and notify and ucs2_units(" ".join(note.split())) > reason_room(ctx):
        raise IllegalTransition(f"دلیل بیش از {persian_digits(str(reason_room(ctx)))} نویسه است؛ شهروند باید آن را "
                                "کامل در دو پیامک بگیرد: کوتاه‌ترش کنید")
    _apply_status(ctx, session, ticket, new, actor, note, now, notify)
    if ticket.linked_to_id is None:
        for linked in session.scalars(select(Ticket).where(Ticket.linked_to_id == ticket.id).with_for_update()):
            if new in TRANSITIONS.get(linked.status, ()) and (reach is None or reach(linked)):
                _apply_status(ctx, session, linked, new, actor,
                              f"همراه درخواست {ticket.tracking_code}. {note}".strip(), now, notify)


def _apply_status(ctx: Context, session: Session, ticket: Ticket, new: str, actor: str, note: str, now: datetime,
                  notify: bool) -> None:
    old = ticket.status
    ticket.status, ticket.updated_at = new, now
    record_event(session, ticket.id, actor, Action.STATUS, f"{old} → {new}" + (f": {note}" if note else ""), now)
    if new in CLOSED:
        ticket.closed_at, ticket.next_reminder_at = now, None
        ticket.verdict, ticket.verdict_at = Verdict.ASKED, None
    elif old in CLOSED:
        ticket.closed_at = None
        ticket.next_reminder_at = now + timedelta(days=ctx.policy.reminder_days)
    if new != Status.NEEDS_INFO:
        ticket.asked = None
    if ticket.expected_at is None:
        ticket.expected_at = expected_at(ctx, ticket.opened_at, ticket.category, ticket.emergency)
    if notify:
        ctx.outbox.queue_automated(session, ticket, new, status_text(ctx, ticket, new, note), now)


def status_text(ctx: Context, ticket: Ticket, status: str, note: str) -> str:
    """What the citizen is told when their ticket becomes `status`."""
    t, code, p = ctx.texts, ticket.tracking_code, ctx.policy
    if status == Status.REFERRED:
        return t.render(Kind.REFERRED, code=code, category_label=ctx.city.category_label(ticket.category),
                        expected=jalali_date(ticket.expected_at or ticket.opened_at, p.timezone))
    if status == Status.DONE:
        return t.render(Kind.DONE, code=code, accept=p.verdict_accept, object=p.verdict_object)
    if status == Status.NOT_DOABLE:
        return t.render(Kind.NOT_DOABLE, code=code, reason=" ".join(note.split()), accept=p.verdict_accept,
                        object=p.verdict_object)
    if status == Status.REOPENED:
        return t.render(Kind.REOPENED, code=code)
    return t.render("status_changed", code=code, status_label=CITIZEN_LABELS[status])


def reason_room(ctx: Context) -> int:
    """How many characters a not-doable reason may have: the citizen gets it whole, in at most two SMS."""
    empty = ctx.texts.render(Kind.NOT_DOABLE, code="9" * 8, reason="", accept=ctx.policy.verdict_accept,
                             object=ctx.policy.verdict_object)
    return MAX_AUTOMATED_CHARS - ucs2_units(empty)


def record_verdict(ctx: Context, session: Session, ticket_id: int, verdict: str, now: datetime) -> Ticket:
    """The citizen's answer to the outcome: accepted, or objected (reopens, flags a supervisor)."""
    ticket = session.get_one(Ticket, ticket_id, with_for_update=True)
    ticket.verdict, ticket.verdict_at = verdict, now
    record_event(session, ticket.id, ACTOR_CITIZEN, Action.VERDICT, verdict, now)
    if verdict == Verdict.OBJECTED:
        ticket.supervisor_flag = True
        change_status(ctx, session, ticket, Status.REOPENED, ACTOR_CITIZEN, "اعتراض شهروند به نتیجه", now,
                      notify=False)
    return ticket


def correct(ctx: Context, session: Session, ticket: Ticket, actor: str, category: str | None,
            place_name: str | None, region: int | None, now: datetime) -> list[str]:
    """Staff fixed what the classifier read; each change is kept as a Correction (data for training)."""
    changed = []
    if category and category != ticket.category:
        _correction(session, ticket, "category", ticket.category, category, actor, now)
        ticket.category = category
        ticket.expected_at = expected_at(ctx, ticket.opened_at, category, ticket.emergency)
        changed.append("category")
    if place_name and place_name != ticket.neighbourhood:
        _correction(session, ticket, "neighbourhood", ticket.neighbourhood, place_name, actor, now)
        if region != ticket.region:
            _unlink(session, ticket, actor, now)
        ticket.neighbourhood, ticket.region = place_name, region
        changed.append("neighbourhood")
    if changed:
        ticket.updated_at = now
        ticket.incomplete = is_incomplete(ticket.neighbourhood, ticket.category)
    return changed


def merge(ctx: Context, session: Session, duplicate: Ticket, survivor: Ticket, actor: str, now: datetime) -> str:
    """`duplicate` joins `survivor` (or the ticket survivor is itself linked to) as a linked report: it
    takes that ticket's status now when the rules allow (its citizen told, as for any status) and follows
    it from then on; the reports linked to the duplicate move with it. The surviving ticket's code; raises
    IllegalTransition."""
    if survivor.linked_to_id is not None:
        survivor = session.get_one(Ticket, survivor.linked_to_id, with_for_update=True)
    if survivor.id == duplicate.id:
        raise IllegalTransition("درخواست با خودش ادغام نمی‌شود")
    if None not in (survivor.region, duplicate.region) and survivor.region != duplicate.region:
        raise IllegalTransition("دو درخواست در دو منطقه‌اند")
    if CLOSED & {duplicate.status, survivor.status}:
        raise IllegalTransition("درخواست بسته ادغام نمی‌شود و در درخواست بسته هم ادغام نمی‌شود")
    if survivor.status in TRANSITIONS[duplicate.status]:
        _apply_status(ctx, session, duplicate, survivor.status, actor, f"ادغام در {survivor.tracking_code}", now,
                      notify=True)
    moved = session.scalars(update(Ticket).where(Ticket.linked_to_id == duplicate.id)
                            .values(linked_to_id=survivor.id).returning(Ticket.tracking_code)
                            .execution_options(synchronize_session=False)).all()
    duplicate.linked_to_id, duplicate.updated_at, survivor.updated_at = survivor.id, now, now
    take(duplicate, now)
    record_events(session, [(duplicate.id, actor, Action.MERGED, survivor.tracking_code),
                            (survivor.id, actor, Action.MERGED, " ".join([duplicate.tracking_code, *moved]))], now)
    return survivor.tracking_code


def _unlink(session: Session, ticket: Ticket, actor: str, now: datetime) -> None:
    """A ticket moving to another region leaves its links, both ways: a linked report follows its primary's
    status changes, and the two are now in reach of different staff."""
    others = list(session.execute(select(Ticket.id, Ticket.tracking_code).where(
        or_(Ticket.id == ticket.linked_to_id, Ticket.linked_to_id == ticket.id)).with_for_update()).all())
    session.execute(update(Ticket).where(Ticket.linked_to_id == ticket.id).values(linked_to_id=None)
                    .execution_options(synchronize_session=False))
    ticket.linked_to_id = None
    record_events(session, [(ticket.id, actor, Action.UNLINKED, code) for _, code in others]
                  + [(other_id, actor, Action.UNLINKED, ticket.tracking_code) for other_id, _ in others], now)


def _correction(session: Session, t: Ticket, field_name: str, old: str | None, new: str, actor: str,
                now: datetime) -> None:
    session.add(Correction(ticket_id=t.id, field=field_name, old_value=old, new_value=new, text=t.description,
                           staff=actor, at=now))
    record_event(session, t.id, actor, Action.CORRECTED, f"{field_name}: {old or '-'} → {new}", now)


def expire_questions(ctx: Context, session: Session, now: datetime) -> int:
    """No answer within clarify_hours: the ticket goes on to staff, flagged incomplete."""
    cutoff = now - timedelta(hours=ctx.policy.clarify_hours)
    count = 0
    for ticket in session.scalars(select(Ticket).where(Ticket.status == Status.NEEDS_INFO, Ticket.asked_at <= cutoff)
                                  .with_for_update(skip_locked=True)):
        ticket.incomplete = True
        change_status(ctx, session, ticket, Status.REGISTERED, ACTOR_SYSTEM, "بی‌پاسخ ماند؛ ناقص به کارشناس رسید",
                      now, notify=False)
        count += 1
    return count


def reassign_contact(session: Session, contact_id: int, citizen_id: int, now: datetime) -> int:
    """The tickets that came in through a contact follow it to another citizen (a messenger user who
    shared their number joins its citizen); each gets a note. How many moved."""
    moved = session.scalars(update(Ticket).where(Ticket.contact_id == contact_id, Ticket.citizen_id != citizen_id)
                            .values(citizen_id=citizen_id).returning(Ticket.id)
                            .execution_options(synchronize_session=False)).all()
    record_events(session, [(ticket_id, ACTOR_CITIZEN, Action.NOTE, "شهروند شماره همراه خود را پیوند داد؛ "
                             "درخواست‌های او با همان شماره یکجا شد") for ticket_id in moved], now)
    return len(moved)
