"""Use case: an inbound SMS arrives. Store it exactly once, decide, write the reply, all in one commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from time import perf_counter
from typing import Callable

from sqlalchemy import Boolean, Row, bindparam, insert, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from providers.base import InboundSms

from . import domain, lifecycle
from .driver import DriverStatement
from .messages import SmsTemplates, jalali_date
from .models import Citizen, InboundMessage, OutboundMessage, Ticket
from .phone import normalise_phone
from .segments import count_segments
from .tracking import new_tracking_code
from .lifecycle import FollowUps
from .understanding import Classifier, Understanding
from .understanding.normalize import to_latin_digits


class Timing:
    """Sum and count of durations in this process, for /metrics."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0
        self._lock = Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.total += seconds
            self.count += 1


CLASSIFY_TIME = Timing()


@dataclass(frozen=True)
class IntakeResult:
    reply: str | None
    ticket_code: str | None
    outbound_id: int | None
    duplicate: bool = False


@dataclass
class IntakeContext:
    """The ports intake needs, handed in by the composition root."""

    classifier: Classifier
    templates: SmsTemplates
    clock: Callable[[], datetime]
    followups: FollowUps
    max_text_chars: int = 1600
    timezone: str = "Asia/Tehran"


def handle_inbound_sms(sessions: sessionmaker, sms: InboundSms, ctx: IntakeContext,
                       reply_provider: str, reply_inline: bool) -> IntakeResult:
    """Store and answer one inbound SMS; a retry of one already stored gets the same answer."""
    phone = normalise_phone(sms.sender)
    for attempt in range(3):
        with sessions() as session:
            try:
                with session.begin():
                    # No look-up first: the unique (provider, message id) constraint refuses a retry at the
                    # first flush, which saves a round trip on every first delivery.
                    return _intake(session, sms, phone, ctx, reply_provider, reply_inline)
            except IntegrityError:
                pass  # a retry of a stored message, a concurrent first message of a new number, or a code collision
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt:
                    raise
                continue  # the database dropped a pooled connection (a restart): the pool let it go, so try again
        with sessions() as session:
            stored = _already_stored(session, sms)
        if stored is not None:
            return stored
    raise RuntimeError("inbound message could not be stored after 3 attempts")


def _already_stored(session: Session, sms: InboundSms) -> IntakeResult | None:
    row = session.execute(
        select(InboundMessage.reply_text, InboundMessage.ticket_id).where(
            InboundMessage.provider == sms.provider,
            InboundMessage.provider_message_id == sms.message_id)).first()
    if row is None:
        return None
    code = session.scalar(select(Ticket.tracking_code).where(Ticket.id == row.ticket_id)) if row.ticket_id else None
    return IntakeResult(row.reply_text, code, None, duplicate=True)


def _intake(session: Session, sms: InboundSms, phone: str, ctx: IntakeContext,
            reply_provider: str, reply_inline: bool) -> IntakeResult:
    """New rows are written with plain INSERT … RETURNING statements rather than the ORM's unit of work:
    this is the hot path of a storm of messages. A retry fails the inbound insert on the unique message
    id, and the whole transaction is rolled back."""
    now = ctx.clock()
    citizen, is_new = _citizen(session, phone, now)
    text = sms.text or ""
    truncated = len(text) > ctx.max_text_chars
    started = perf_counter()
    understanding = ctx.classifier.classify(text[:ctx.max_text_chars])
    CLASSIFY_TIME.observe(perf_counter() - started)
    ticket, reply, kind = _decide(session, citizen, is_new, understanding, text[:ctx.max_text_chars], ctx, now)
    session.flush()  # what _decide changed on loaded rows (opt-out, a completed ticket), before the inserts
    inbound_id, = _INSERT_INBOUND.one(session, dict(
        provider=sms.provider, provider_message_id=sms.message_id, citizen_id=citizen.id,
        to_number=sms.recipient[:40], text=text, raw_payload=sms.raw, received_at=now, truncated=truncated,
        intent=understanding.intent, ticket_id=ticket.id if ticket else None, reply_text=reply))
    if ticket is not None and truncated:
        lifecycle.record_event(session, ticket, "system", "note", f"متن پیامک {len(text)} نویسه بود و برای پردازش "
                                                                  f"به {ctx.max_text_chars} نویسه کوتاه شد", now)
    outbound_id = None
    if reply is not None:
        outbound_id, = _INSERT_OUTBOUND.one(session, dict(
            citizen_id=citizen.id, to_phone=phone, text=reply, segments=count_segments(reply), kind=kind,
            provider=reply_provider, status="sent" if reply_inline else "queued", automated=False,
            attempts=1 if reply_inline else 0, ticket_id=ticket.id if ticket else None, inbound_id=inbound_id,
            created_at=now, due_at=now, sent_at=now if reply_inline else None))
    return IntakeResult(reply, ticket.tracking_code if ticket else None, outbound_id)


def _citizen(session: Session, phone: str, now: datetime) -> tuple[Citizen, bool]:
    """The citizen, and whether they are new (a new citizen has no tickets to look at)."""
    values = dict(phone=phone, opted_out=False, created_at=now)
    if session.get_bind().dialect.name == "postgresql":
        # One round trip for a new and a known number alike; the row lock it takes also makes one
        # citizen's concurrent messages wait for each other (the daily limit, a pending question).
        citizen_id, opted_out, inserted = _CITIZEN_UPSERT.one(session, values)
        return _attach(session, Citizen(id=citizen_id, phone=phone, opted_out=opted_out)), inserted
    # A no-op UPDATE rather than a SELECT: it takes SQLite's write lock, so one number's concurrent
    # messages wait for each other here too.
    found = session.execute(_TOUCH_CITIZEN, dict(number=phone)).first()
    if found is not None:  # only what intake reads; the rest loads if ever touched
        return _attach(session, Citizen(id=found.id, phone=phone, opted_out=found.opted_out)), False
    new_id, = _INSERT_CITIZEN.one(session, values)
    return _attach(session, Citizen(id=new_id, **values)), True


def _citizen_upsert():
    table = Citizen.__table__
    statement = postgresql.insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c.phone], set_={"phone": statement.excluded.phone}) \
        .returning(table.c.id, table.c.opted_out, literal_column("(xmax = 0)", Boolean).label("inserted"))


def _touch_citizen():
    table = Citizen.__table__
    return update(table).where(table.c.phone == bindparam("number")).values(phone=table.c.phone) \
        .returning(table.c.id, table.c.opted_out)


_CITIZEN_UPSERT, _TOUCH_CITIZEN = DriverStatement(_citizen_upsert()), _touch_citizen()


def _insert(model) -> DriverStatement:
    """A plain INSERT … RETURNING id on the model's table, run on the driver (see driver.py)."""
    table = model.__table__
    return DriverStatement(insert(table).returning(table.c.id))


_INSERT_CITIZEN, _INSERT_TICKET = _insert(Citizen), _insert(Ticket)
_INSERT_INBOUND, _INSERT_OUTBOUND = _insert(InboundMessage), _insert(OutboundMessage)


def _attach(session: Session, row):
    """An object for a row just written by INSERT, tracked by the session without inserting it again."""
    make_transient_to_detached(row)
    session.add(row)
    return row


_SERVICES = {"fire": ("125", "آتش‌نشانی"), "ambulance": ("115", "اورژانس"), "police": ("110", "پلیس"),
             "gas": ("194", "فوریت گاز"), "accident": ("115", "اورژانس")}
CLEAR_CATEGORY = 0.3  # below this the citizen is asked what the problem is


def _decide(session: Session, citizen: Citizen, is_new: bool, u: Understanding, text: str, ctx: IntakeContext,
            now: datetime) -> tuple[Ticket | None, str | None, str]:
    t, fu = ctx.templates, ctx.followups
    if citizen.phone in fu.policy.blocked_numbers:
        return None, None, "blocked"
    verdict = fu.policy.verdict_of(to_latin_digits(text))
    if verdict and not is_new and (asked := _awaiting_verdict(session, citizen)) is not None:
        lifecycle.record_verdict(session, asked, verdict, fu, now)
        name = "verdict_objected" if verdict == "objected" else "verdict_thanks"
        return asked, t.render(name, code=asked.tracking_code), "verdict"
    if u.intent == "status_query":
        return None, status_reply(session, citizen, u.tracking_code, ctx), "status_reply"
    if u.intent == "opt_out":
        already = citizen.opted_out
        citizen.opted_out = True
        return None, None if already else t.render("opted_out"), "opt_out"
    if u.intent == "opt_in":
        citizen.opted_out = False
        return None, t.render("opted_in"), "opt_in"
    if u.intent == "identity_required":
        return None, t.render("identity_required"), "identity_required"
    recent = [] if is_new else _recent_tickets(session, citizen, now, fu)
    if u.intent in ("report", "unclear") and text.strip():
        waiting = _awaiting_answer(recent, now, fu)
        if waiting is not None and _answers(waiting, u):
            pending = session.get_one(Ticket, waiting.id)
            _complete(session, pending, u, text, fu, now)
            return pending, t.render("clarified", code=pending.tracking_code), "clarified"
    if u.intent == "emergency":
        ticket = open_ticket(session, citizen, u, text, fu, now)
        number, service = _SERVICES.get(u.emergency_service or "", _SERVICES["fire"])
        return ticket, t.render("emergency", number=number, service=service, code=ticket.tracking_code), "emergency"
    if u.intent == "unclear" or not text.strip():
        return None, t.render("ask_what"), "ask_what"
    if u.outside_city and not u.neighbourhood:
        return None, t.render("outside_city", place=u.outside_city), "outside_city"
    if _tickets_today(recent, now, fu) >= fu.policy.max_tickets_per_day:
        return None, t.render("too_many", limit=fu.policy.max_tickets_per_day), "too_many"
    ticket = open_ticket(session, citizen, u, text, fu, now)
    if ticket.status == domain.NEEDS_INFO:
        return ticket, t.render(f"ask_{ticket.asked}", code=ticket.tracking_code), f"ask_{ticket.asked}"
    if ticket.linked_to_id is not None:
        return ticket, t.render("ack_duplicate", code=ticket.tracking_code), "ack_duplicate"
    return ticket, t.render("ack", code=ticket.tracking_code), "ack"


def _missing(u: Understanding) -> str | None:
    """What to ask about a report: the place, the problem, both, or nothing."""
    no_place = u.neighbourhood is None
    no_category = u.category in (None, "other") or u.category_confidence < CLEAR_CATEGORY
    if no_place and no_category:
        return "both"
    return "place" if no_place else "category" if no_category else None


def _awaiting_verdict(session: Session, citizen: Citizen) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.citizen_id == citizen.id, Ticket.verdict == "asked")
                          .order_by(Ticket.closed_at.desc(), Ticket.id.desc()).limit(1))


def _recent_tickets(session: Session, citizen: Citizen, now: datetime, fu: FollowUps) -> list[Row]:
    """One query for both questions asked of a known citizen: a question waiting, today's count. Only the
    columns they read: the ticket to complete is loaded whole when there is one."""
    since = min(fu.policy.local_day_start(now), now - timedelta(hours=fu.policy.clarify_hours))
    return session.execute(_RECENT_TICKETS, dict(citizen_id=citizen.id, since=since)).all()


def _recent_tickets_query():
    t = Ticket.__table__.c
    since = bindparam("since", type_=t.opened_at.type)
    return select(t.id, t.status, t.category, t.asked, t.asked_at, t.opened_at, t.emergency).where(
        t.citizen_id == bindparam("citizen_id"), or_(t.opened_at >= since, t.asked_at > since))


_RECENT_TICKETS = _recent_tickets_query()


def _awaiting_answer(recent: list[Row], now: datetime, fu: FollowUps) -> Row | None:
    cutoff = now - timedelta(hours=fu.policy.clarify_hours)
    waiting = [t for t in recent if t.status == domain.NEEDS_INFO and t.asked_at and t.asked_at > cutoff]
    return max(waiting, key=lambda t: (t.asked_at, t.id), default=None)


def _answers(ticket: Row, u: Understanding) -> bool:
    """Is this message the answer to our question, or a new report? A bare place name is an answer;
    a message naming a different, clear problem in a place is a new report."""
    if ticket.asked in ("place", "category") and u.neighbourhood and ticket.category not in (None, "other") \
            and u.category not in (None, "other", ticket.category) and u.category_confidence >= CLEAR_CATEGORY:
        return False
    return True


def _complete(session: Session, ticket: Ticket, u: Understanding, text: str, fu: FollowUps, now: datetime) -> None:
    """The citizen answered: take what the answer gives, then the ticket goes on to staff."""
    if u.neighbourhood and ticket.neighbourhood is None:
        ticket.neighbourhood, ticket.region = u.neighbourhood, u.region
    if u.category not in (None, "other") and (ticket.category in (None, "other") or ticket.asked != "place"):
        ticket.category = u.category
        ticket.expected_at = lifecycle.expected_completion(ticket, fu)
    ticket.description = f"{ticket.description}\n{text}"
    ticket.incomplete = domain.is_incomplete(ticket.neighbourhood, ticket.category)
    lifecycle.record_event(session, ticket, "citizen", "answered", text[:500], now)
    lifecycle.change_status(session, ticket, domain.REGISTERED, "citizen", "", fu, now, notify=False)


def _tickets_today(recent: list[Row], now: datetime, fu: FollowUps) -> int:
    day_start = fu.policy.local_day_start(now)
    return sum(1 for t in recent if t.opened_at >= day_start and not t.emergency)


def _open_duplicate(session: Session, u: Understanding, now: datetime, fu: FollowUps) -> Row | None:
    if u.category in (None, "other") or u.neighbourhood is None:
        return None
    return session.execute(_OPEN_DUPLICATE, dict(category=u.category, neighbourhood=u.neighbourhood,
                                                 since=now - timedelta(days=fu.policy.duplicate_days))).first()


def _open_duplicate_query():
    """Built once: building the expression cost more than running it, on every report."""
    t = Ticket.__table__.c
    return select(t.id, t.status, t.tracking_code).where(
        t.category == bindparam("category"), t.neighbourhood == bindparam("neighbourhood"),
        t.opened_at >= bindparam("since", type_=t.opened_at.type),
        t.status.in_(sorted(domain.AWAITING_CITY)), t.linked_to_id.is_(None)) \
        .order_by(t.opened_at).limit(1)


_OPEN_DUPLICATE = _open_duplicate_query()


def status_reply(session: Session, citizen: Citizen, code: str | None, ctx: IntakeContext) -> str:
    """The status of the citizen's own ticket; an unknown code and another's code read the same."""
    if not code:
        return ctx.templates.render("status_no_code")
    ticket = session.scalar(select(Ticket).where(Ticket.tracking_code == code,
                                                 Ticket.citizen_id == citizen.id))
    if ticket is None:
        return ctx.templates.render("status_unknown", code=code)
    return ctx.templates.render("status", code=code, status_label=domain.STATUS_LABELS[ticket.status],
                                updated=jalali_date(ticket.updated_at, ctx.timezone))


def open_ticket(session: Session, citizen: Citizen, u: Understanding, text: str, fu: FollowUps,
                now: datetime) -> Ticket:
    """A new ticket: an emergency goes straight to staff; a report lacking its place or problem waits for
    the citizen's answer; one like an open ticket nearby is linked to it."""
    emergency = u.intent == "emergency"
    missing = None if emergency else _missing(u)
    primary = None if emergency or missing else _open_duplicate(session, u, now, fu)
    values = dict(tracking_code=new_tracking_code(), citizen_id=citizen.id,
                  status=primary.status if primary else domain.NEEDS_INFO if missing else domain.REGISTERED,
                  intent=u.intent, category=u.category, neighbourhood=u.neighbourhood, region=u.region,
                  description=text, emergency=emergency, opened_at=now, updated_at=now,
                  expected_at=fu.expected_at(now, u.category),
                  asked=missing, asked_at=now if missing else None, incomplete=False, overdue_notified=False,
                  supervisor_flag=False, next_reminder_at=now + timedelta(days=fu.policy.reminder_days),
                  linked_to_id=primary.id if primary else None)
    new_id, = _INSERT_TICKET.one(session, values)
    ticket = _attach(session, Ticket(id=new_id, **values))
    events = [(ticket, "citizen", "opened", "")]
    if missing:
        events.append((ticket, "system", "asked", missing))
    if primary is not None:
        events += [(ticket, "system", "linked", primary.tracking_code),
                   (primary, "system", "linked", ticket.tracking_code)]
    lifecycle.record_events(session, events, now)
    return ticket
