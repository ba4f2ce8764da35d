"""Use case: a message arrives. Store it raw and once, then read it, decide and answer.

The raw message is inserted first (a provider's retry is refused right there by the unique message id).
Reading it (the citizen, their tickets, understanding, the decision, the ticket and the reply) follows in
the same transaction, so a message and everything it caused commit together. Should reading it fail,
the transaction is rolled back and the raw message alone is stored again, marked failed, in a second
transaction: it is kept, shown to staff and retried by the scheduler, and the provider gets its normal
answer, never a 5xx loop. A second transaction costs nothing while nothing fails; a savepoint costs
a round trip on every message (bench/statements.py).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from threading import Lock
from time import perf_counter
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..adapters.db import storable, storable_json, table
from ..adapters.models import InboundMessage, Ticket
from ..domain.decide import Act, CitizenFacts, Decision, TicketFacts, decide, similar_key
from ..domain.phones import InvalidPhone, display_phone, is_mobile, normalise_phone
from ..domain.tickets import AWAITING_CITY, CITIZEN_LABELS, OPEN
from ..domain.understanding import Understanding
from ..domain.values import (
    ACTOR_SYSTEM,
    CONTACT_CHANNEL,
    SHARED_CONTACT,
    Action,
    Channel,
    InboundState,
    Kind,
    Verdict,
)
from ..providers.base import MAX_ADDRESS, MAX_MESSAGE_ID, Received
from . import citizens, lifecycle, outbox, replies
from .context import Context

log = logging.getLogger("sms_gateway.intake")
MAX_ATTEMPTS = 5


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
class Receipt:
    reply: str | None
    ticket_code: str | None = None
    outbound_id: int | None = None   # a reply to send once committed (providers that do not answer inline)
    duplicate: bool = False
    failed: bool = False


def clean(message: Received) -> Received:
    """Nothing the database refuses: no NUL anywhere, ids and addresses within their columns. The columns
    drop NUL and cut what is too long on their own (`adapters.db.CleanString`); here the message id is
    digested instead of cut, so two long ids sharing a beginning stay two messages and a retry matches."""
    message_id = storable(message.message_id)
    if len(message_id) > MAX_MESSAGE_ID:
        message_id = "h:" + hashlib.sha256(message_id.encode()).hexdigest()
    return replace(message, message_id=message_id, sender=storable(message.sender, MAX_ADDRESS),
                   recipient=storable(message.recipient, 40), text=storable(message.text),
                   raw=storable_json(message.raw), shared_phone=storable(message.shared_phone, MAX_ADDRESS))


def contact_channel(message: Received) -> str:
    return CONTACT_CHANNEL.get(message.channel, message.channel)


def address_of(message: Received) -> str:
    """The sender as stored: a phone number as +98…; another channel's id as given. Raises InvalidPhone."""
    return normalise_phone(message.sender) if contact_channel(message) == Channel.SMS else message.sender


def receive(ctx: Context, message: Received, now: datetime, reply_inline: bool) -> Receipt:
    """Store and answer one message; a retry of one already stored gets the same answer."""
    message = clean(message)
    address = address_of(message)
    for attempt in range(3):
        try:
            return _receive_once(ctx, message, address, now, reply_inline)
        except IntegrityError:
            continue  # a tracking code collision or a concurrent new contact: read it again
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt:
                raise
            continue  # the database dropped a pooled connection (a restart): the pool let it go, try again
    return _store_failed(ctx, message, address, now, "could not be processed after 3 attempts")


def _receive_once(ctx: Context, message: Received, address: str, now: datetime, reply_inline: bool) -> Receipt:
    with ctx.sessions() as session:
        session.begin()
        try:
            if not message.message_id:
                message = _content_id(ctx, session, message, address, now)
            inbound_id = _store_raw(session, message, address, now, InboundState.RECEIVED)
            receipt = _stored_answer(session, message) if inbound_id is None else \
                _process(ctx, session, inbound_id, message, address, now, reply_inline)
            session.commit()
            return receipt
        except (IntegrityError, OperationalError):
            session.rollback()
            raise
        except DBAPIError as exc:
            session.rollback()
            if exc.connection_invalidated:
                raise
            error = f"{type(exc).__name__}: {exc.orig}"
        except Exception as exc:  # reading the message failed: keep it, say so, retry it later
            session.rollback()
            log.exception("inbound %s from %s could not be processed", message.message_id, message.provider)
            error = f"{type(exc).__name__}: {exc}"
    return _store_failed(ctx, message, address, now, error)


def _store_failed(ctx: Context, message: Received, address: str, now: datetime, error: str) -> Receipt:
    with ctx.sessions.begin() as session:
        inbound_id = _store_raw(session, message, address, now, InboundState.FAILED, error=error[:500])
        if inbound_id is None:
            return _stored_answer(session, message)
    return Receipt(None, failed=True)


def _store_raw(session: Session, m: Received, address: str, now: datetime, state: str,
               error: str | None = None) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: None when this provider message is stored already."""
    return session.execute(_STORE_RAW[session.get_bind().dialect.name], dict(
        provider=m.provider, provider_message_id=m.message_id, channel=m.channel, sender=address,
        to_number=m.recipient, text=m.text, raw_payload=m.raw, received_at=now, state=state,
        attempts=0 if state == InboundState.RECEIVED else 1, last_error=error, truncated=False)).scalar()


# The hot path's statements are built once and given their values when run: building one per message
# cost more CPU than the database spent on it (bench/load.py).
_STORE_RAW = {name: dialect.insert(table(InboundMessage))
              .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"]).returning(InboundMessage.id)
              for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}
_PROCESSED = (update(table(InboundMessage)).where(InboundMessage.id == bindparam("inbound_id"))
              .values(attempts=InboundMessage.attempts + 1, last_error=None, **{
                  c: bindparam(f"p_{c}", type_=table(InboundMessage).c[c].type) for c in (
                      "state", "processed_at", "citizen_id", "contact_id", "intent", "ticket_id", "reply_text",
                      "truncated")})
              .returning(InboundMessage.id))  # RETURNING: it can ride in the reply's statement (outbox.queue_reply)


def _content_id(ctx: Context, session: Session, m: Received, address: str, now: datetime) -> Received:
    """A provider without message ids (Melipayamak): the same sender, line and text as a message stored less
    than `content_retry` before is the provider's retry, and gets that message's id (so its stored answer);
    compared with the stored times, not fixed buckets. Copies arriving together wait for each other, so a
    retry sent while the first is still being read finds it. A status query is always read and answered:
    a citizen who asks again seconds later must not meet silence, and a provider's retry of one costs one
    more SMS of the same answer."""
    content = f"{m.provider}|{address}|{m.recipient}|{m.text}"
    _serialise(session, hashlib.sha256(content.encode()).digest())
    earlier = session.execute(select(InboundMessage.provider_message_id, InboundMessage.intent).where(
        InboundMessage.provider == m.provider, InboundMessage.sender == address,
        InboundMessage.to_number == m.recipient, InboundMessage.received_at > now - ctx.policy.content_retry,
        InboundMessage.text == m.text)
        .order_by(InboundMessage.id.desc()).limit(1)).first()
    if earlier is not None and earlier.intent != "status_query":
        return replace(m, message_id=earlier.provider_message_id)
    digest = hashlib.sha256(f"{content}|{now.isoformat()}".encode()).hexdigest()[:40]
    return replace(m, message_id="h:" + digest)


def _serialise(session: Session, key: bytes) -> None:
    """Hold, until this transaction ends, a lock that every copy of the same content takes first: on
    PostgreSQL an advisory lock on the content's digest; SQLite has one writer at a time, taken here by
    a write that changes nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int.from_bytes(key[:8], "big", signed=True)})
    else:
        session.execute(update(InboundMessage).where(InboundMessage.id == -1).values(attempts=0))


def _stored_answer(session: Session, m: Received) -> Receipt:
    row = session.execute(select(InboundMessage.reply_text, InboundMessage.ticket_id, InboundMessage.state).where(
        InboundMessage.provider == m.provider, InboundMessage.provider_message_id == m.message_id)).first()
    if row is None:
        return Receipt(None, duplicate=True)
    code = session.scalar(select(Ticket.tracking_code).where(Ticket.id == row.ticket_id)) if row.ticket_id else None
    return Receipt(row.reply_text, code, None, duplicate=True, failed=row.state == InboundState.FAILED)


def _process(ctx: Context, session: Session, inbound_id: int, m: Received, address: str, now: datetime,
             reply_inline: bool) -> Receipt:
    channel = contact_channel(m)
    who = citizens.identify(session, channel, address, now)
    if m.shared_phone:
        return _link_shared_phone(ctx, session, inbound_id, m, address, who, now, reply_inline)
    text = m.text[:ctx.max_text_chars]
    started = perf_counter()
    u = _with_hints(ctx, ctx.classifier.classify(text), m)
    CLASSIFY_TIME.observe(perf_counter() - started)
    tickets = [] if who.is_new else _their_tickets(ctx, session, who.citizen_id, now)
    key = similar_key(u)
    similar = _open_similar(ctx, session, key, now) if key else None
    facts = CitizenFacts(is_new=who.is_new, opted_out=who.opted_out,
                         blocked=address in ctx.policy.blocked_numbers)
    decision = decide(text, u, facts, tickets, similar, ctx.policy, now)
    ticket_id, code, reply = _carry_out(ctx, session, decision, u, text, who, m, now)
    if ticket_id is not None and len(m.text) > ctx.max_text_chars:
        lifecycle.record_event(session, ticket_id, ACTOR_SYSTEM, Action.NOTE,
                               f"متن پیام {len(m.text)} نویسه بود و برای پردازش به {ctx.max_text_chars} نویسه "
                               "کوتاه شد", now)
    processed = dict(
        inbound_id=inbound_id, p_state=InboundState.PROCESSED, p_processed_at=now, p_citizen_id=who.citizen_id,
        p_contact_id=who.contact_id, p_intent=u.intent, p_ticket_id=ticket_id, p_reply_text=reply,
        p_truncated=len(m.text) > ctx.max_text_chars)
    outbound_id = None
    if reply is not None and decision.reply is not None:  # the message marked processed with its reply written
        outbound_id = ctx.outbox.queue_reply(
            session, citizen_id=who.citizen_id, contact_id=who.contact_id, channel=channel, address=address,
            text=reply, kind=decision.reply, now=now, ticket_id=ticket_id, inbound_id=inbound_id,
            provider=_reply_provider(ctx, m), sent_inline=reply_inline, along=(_PROCESSED, processed))
    else:
        session.execute(_PROCESSED, processed)
    return Receipt(reply, code, None if reply_inline else outbound_id)


def _link_shared_phone(ctx: Context, session: Session, inbound_id: int, m: Received, address: str,
                       who: citizens.Identity, now: datetime, reply_inline: bool) -> Receipt:
    """A messenger user shared their own number: one citizen from now on, whichever way they write, and
    they are thanked. A number that is not an Iranian mobile is not linked (the SMS line cannot reach
    it), and they are told so; a blocked number or sender is neither linked nor answered."""
    phone = _mobile(m.shared_phone)
    citizen_id, kind = who.citizen_id, Kind.PHONE_NOT_LINKED
    reply: str | None = ctx.texts.render(kind)
    if {phone, address} & ctx.policy.blocked_numbers:
        reply = None
    elif phone:
        citizen_id, kind = _link(session, who.contact_id, phone, now), Kind.PHONE_LINKED
        reply = ctx.texts.render(kind, mobile=display_phone(phone))
    session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(
        state=InboundState.PROCESSED, attempts=InboundMessage.attempts + 1, processed_at=now,
        citizen_id=citizen_id, contact_id=who.contact_id, intent=SHARED_CONTACT, reply_text=reply, last_error=None))
    if reply is None:
        return Receipt(None)
    outbound_id = ctx.outbox.queue_reply(
        session, citizen_id=citizen_id, contact_id=who.contact_id, channel=contact_channel(m), address=address,
        text=reply, kind=kind, now=now, inbound_id=inbound_id, provider=_reply_provider(ctx, m),
        sent_inline=reply_inline)
    return Receipt(reply, None, None if reply_inline else outbound_id)


def _mobile(raw: str) -> str:
    """An Iranian mobile number as +989…, or "" for anything else."""
    try:
        phone = normalise_phone(raw)
    except InvalidPhone:
        return ""
    return phone if is_mobile(phone) else ""


def _link(session: Session, contact_id: int, phone: str, now: datetime) -> int:
    """Link the contact to the number's citizen; what came in or went out through the contact (tickets,
    messages both ways) moves with it, each through its own writer. The citizen it now belongs to."""
    linked = citizens.link_phone(session, contact_id, phone, now)
    if linked.moved_from is not None:
        lifecycle.reassign_contact(session, contact_id, linked.citizen_id, now)
        outbox.reassign_contact(session, contact_id, linked.citizen_id)
        session.execute(update(InboundMessage).where(InboundMessage.contact_id == contact_id)
                        .values(citizen_id=linked.citizen_id).execution_options(synchronize_session=False))
    return linked.citizen_id


def _reply_provider(ctx: Context, m: Received) -> str:
    """The provider the message came through answers it, when it can send; else its channel's."""
    return m.provider if m.provider in ctx.outbox.providers else ctx.outbox.provider_for(contact_channel(m))


def _with_hints(ctx: Context, u: Understanding, m: Received) -> Understanding:
    """What staff or a client application said the category or place is wins over what was read."""
    if m.category and ctx.city.category(m.category) is not None and u.intent in ("report", "unclear"):
        u = replace(u, intent="report", category=m.category, category_confidence=1.0, routed=True)
    place = ctx.city.place(m.neighbourhood) if m.neighbourhood else None
    if place is not None:
        u = replace(u, neighbourhood=place.name, region=place.region, place_confidence=1.0, outside_city=None)
    return u


def _carry_out(ctx: Context, session: Session, d: Decision, u: Understanding, text: str, who: citizens.Identity,
               m: Received, now: datetime) -> tuple[int | None, str | None, str | None]:
    """Do what was decided; (the ticket it concerns, its code, the reply)."""
    t = ctx.texts
    if d.act == Act.IGNORE:
        return None, None, None
    if d.act == Act.VERDICT and d.ticket is not None and d.verdict is not None:
        lifecycle.record_verdict(ctx, session, d.ticket.id, d.verdict, now)
        return d.ticket.id, d.ticket.code, t.render(d.reply or Kind.VERDICT_THANKS, code=d.ticket.code)
    if d.act == Act.STATUS:
        return None, None, replies.status(ctx, session, who.citizen_id, u.tracking_code, u.code_invalid)
    if d.act == Act.ATTACH and d.ticket is not None:
        state = lifecycle.attach(ctx, session, d.ticket.id, text, objection=d.reply == Kind.OBJECTION_REASON, now=now)
        return d.ticket.id, d.ticket.code, t.render(d.reply or Kind.ADDED, code=d.ticket.code,
                                                   state=CITIZEN_LABELS[state])
    if d.act in (Act.OPT_OUT, Act.OPT_IN):
        citizens.set_opted_out(session, who.citizen_id, d.act == Act.OPT_OUT)
    if d.act == Act.COMPLETE and d.ticket is not None:
        lifecycle.complete(ctx, session, d.ticket.id, u, text, now)
        return d.ticket.id, d.ticket.code, t.render(Kind.CLARIFIED, code=d.ticket.code)
    if d.act == Act.OPEN:
        if not u.routed and u.intent != "emergency":
            u = replace(u, category=None)  # not sure enough to file it under a category: asked, or staff decide
        opened = lifecycle.open_ticket(ctx, session, citizen_id=who.citizen_id, contact_id=who.contact_id,
                                       channel=m.channel, u=u, text=text, now=now, ask=d.ask, link_to=d.link_to)
        return opened.id, opened.code, _render_reply(ctx, d, u, opened.code)
    return None, None, _render_reply(ctx, d, u, None) if d.reply else None


EMERGENCY_SERVICES = {"125": "آتش‌نشانی", "115": "اورژانس", "110": "پلیس", "194": "فوریت گاز", "121": "فوریت برق",
                      "122": "آب و فاضلاب"}


def _render_reply(ctx: Context, d: Decision, u: Understanding, code: str | None) -> str:
    if d.reply == Kind.EMERGENCY:
        number = u.emergency_service if u.emergency_service in EMERGENCY_SERVICES else "125"
        return ctx.texts.render(Kind.EMERGENCY, number=number, service=EMERGENCY_SERVICES[number], code=code)
    if d.reply == Kind.OUTSIDE_CITY:
        return ctx.texts.render(Kind.OUTSIDE_CITY, place=u.outside_city)
    if d.reply == Kind.TOO_MANY:
        return ctx.texts.render(Kind.TOO_MANY, limit=ctx.policy.max_tickets_per_day)
    return ctx.texts.render(d.reply or Kind.ASK_WHAT, code=code)


_TICKET_FACTS = (Ticket.id, Ticket.tracking_code, Ticket.status, Ticket.category, Ticket.neighbourhood,
                 Ticket.opened_at, Ticket.emergency, Ticket.asked, Ticket.asked_at, Ticket.verdict, Ticket.closed_at,
                 Ticket.verdict_at)


def _facts(row: Any) -> TicketFacts:
    return TicketFacts(row.id, row.tracking_code, row.status, row.category, row.neighbourhood, row.opened_at,
                       row.emergency, row.asked, row.asked_at, row.verdict, row.closed_at, row.verdict_at)


def _their_tickets(ctx: Context, session: Session, citizen_id: int, now: datetime) -> list[TicketFacts]:
    """One query for what decisions read of a known citizen's tickets: the open ones, one awaiting a
    verdict, and today's (for the daily limit)."""
    since = min(ctx.policy.local_day_start(now), now - timedelta(hours=ctx.policy.clarify_hours))
    return [_facts(r) for r in session.execute(_THEIR_TICKETS, {"citizen": citizen_id, "since": since})]


_THEIR_TICKETS = select(*_TICKET_FACTS).where(
    Ticket.citizen_id == bindparam("citizen"),
    or_(Ticket.status.in_(sorted(OPEN)), Ticket.verdict == Verdict.ASKED, Ticket.opened_at >= bindparam("since")))


def _open_similar(ctx: Context, session: Session, key: tuple[str, str], now: datetime) -> TicketFacts | None:
    """The oldest open report of the same problem at the same place of the last `duplicate_days`."""
    category, neighbourhood = key
    row = session.execute(_OPEN_SIMILAR, {"category": category, "neighbourhood": neighbourhood,
                                          "since": now - timedelta(days=ctx.policy.duplicate_days)}).first()
    return _facts(row) if row else None


_OPEN_SIMILAR = select(*_TICKET_FACTS).where(
    Ticket.category == bindparam("category"), Ticket.neighbourhood == bindparam("neighbourhood"),
    Ticket.opened_at >= bindparam("since"), Ticket.status.in_(sorted(AWAITING_CITY)),
    Ticket.linked_to_id.is_(None)).order_by(Ticket.opened_at).limit(1)


def retry_failed(ctx: Context, now: datetime, limit: int = 100) -> int:
    """Read again the messages whose reading failed (the scheduler calls this); how many succeeded."""
    with ctx.sessions() as session:
        pending = session.execute(select(InboundMessage.id).where(
            InboundMessage.state == InboundState.FAILED, InboundMessage.attempts < MAX_ATTEMPTS)
            .order_by(InboundMessage.id).limit(limit)).scalars().all()
    done = 0
    for inbound_id in pending:
        done += _retry_one(ctx, inbound_id, now)
    return done


def _retry_one(ctx: Context, inbound_id: int, now: datetime) -> int:
    with ctx.sessions() as session:
        session.begin()
        try:
            row = session.scalar(select(InboundMessage).where(
                InboundMessage.id == inbound_id, InboundMessage.state == InboundState.FAILED).with_for_update())
            if row is None:
                session.rollback()
                return 0
            message = Received(row.provider, row.provider_message_id, row.sender, row.to_number, row.text,
                               row.raw_payload, row.channel, shared_phone=_shared_phone(ctx, row))
            receipt = _process(ctx, session, row.id, message, row.sender, now, reply_inline=False)
            session.commit()
        except OperationalError:
            session.rollback()
            raise
        except Exception as exc:
            session.rollback()
            log.warning("retrying inbound %s failed again: %s", inbound_id, exc)
            _count_failure(ctx, inbound_id, f"{type(exc).__name__}: {exc}")
            return 0
    if receipt.outbound_id is not None:
        ctx.outbox.deliver(ctx.sessions, receipt.outbound_id, now)
    return 1


def _shared_phone(ctx: Context, row: InboundMessage) -> str:
    """A messenger's shared contact card is kept only in the raw payload: its provider reads it again."""
    read = getattr(ctx.outbox.providers.get(row.provider), "shared_phone", None)
    return str(read(row.raw_payload)) if read is not None else ""


def _count_failure(ctx: Context, inbound_id: int, error: str) -> None:
    with ctx.sessions.begin() as session:
        session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(
            attempts=InboundMessage.attempts + 1, last_error=error[:500]))


def anonymise(session: Session, citizen_id: int, token: str) -> None:
    """Retention: the citizen's messages keep their text, lose the sender and the raw payload."""
    session.execute(update(InboundMessage).where(InboundMessage.citizen_id == citizen_id)
                    .values(raw_payload={}, sender=token))
