"""Use case: an inbound SMS arrives. Store it exactly once, decide, write the reply, all in one commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from providers.base import InboundSms

from . import domain
from .messages import SmsTemplates, jalali_date
from .models import Citizen, InboundMessage, OutboundMessage, Ticket, TicketEvent
from .phone import normalise_phone
from .segments import count_segments
from .tracking import new_tracking_code
from .understanding import Classifier, Understanding


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
    max_text_chars: int = 1600
    timezone: str = "Asia/Tehran"


def handle_inbound_sms(sessions: sessionmaker, sms: InboundSms, ctx: IntakeContext,
                       reply_provider: str, reply_inline: bool) -> IntakeResult:
    """Store and answer one inbound SMS; a retry of one already stored gets the same answer."""
    phone = normalise_phone(sms.sender)
    for _attempt in range(3):
        with sessions() as session:
            try:
                with session.begin():
                    stored = _already_stored(session, sms)
                    if stored is not None:
                        return stored
                    return _intake(session, sms, phone, ctx, reply_provider, reply_inline)
            except IntegrityError:
                # A concurrent retry committed first, or a new tracking code collided: look again.
                continue
    with sessions() as session:
        stored = _already_stored(session, sms)
    if stored is None:
        raise RuntimeError("inbound message could not be stored after 3 attempts")
    return stored


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
    now = ctx.clock()
    citizen = _citizen(session, phone, now)
    text = sms.text or ""
    truncated = len(text) > ctx.max_text_chars
    inbound = InboundMessage(provider=sms.provider, provider_message_id=sms.message_id, citizen=citizen,
                             to_number=sms.recipient[:40], text=text, raw_payload=sms.raw,
                             received_at=now, truncated=truncated)
    session.add(inbound)
    understanding = ctx.classifier.classify(text[:ctx.max_text_chars])
    inbound.intent = understanding.intent
    ticket, reply, kind = _decide(session, citizen, understanding, text[:ctx.max_text_chars], ctx, now)
    if ticket is not None:
        inbound.ticket_id = ticket.id
        if truncated:
            _event(session, ticket, "system", "note", f"متن پیامک {len(text)} نویسه بود و برای پردازش به "
                                                      f"{ctx.max_text_chars} نویسه کوتاه شد", now)
    inbound.reply_text = reply
    if reply is None:
        return IntakeResult(None, ticket.tracking_code if ticket else None, None)
    outbound = OutboundMessage(citizen_id=citizen.id, to_phone=phone, text=reply, segments=count_segments(reply),
                               kind=kind, provider=reply_provider, status="sent" if reply_inline else "queued",
                               attempts=1 if reply_inline else 0, ticket_id=ticket.id if ticket else None,
                               inbound_id=None, created_at=now, due_at=now, sent_at=now if reply_inline else None)
    session.add(outbound)
    session.flush()
    outbound.inbound_id = inbound.id
    return IntakeResult(reply, ticket.tracking_code if ticket else None, outbound.id)


def _citizen(session: Session, phone: str, now: datetime) -> Citizen:
    citizen = session.scalar(select(Citizen).where(Citizen.phone == phone))
    if citizen is None:
        citizen = Citizen(phone=phone, opted_out=False, created_at=now)
        session.add(citizen)
        session.flush()
    return citizen


_SERVICES = {"fire": ("125", "آتش‌نشانی"), "ambulance": ("115", "اورژانس"), "police": ("110", "پلیس"),
             "gas": ("194", "فوریت گاز"), "accident": ("115", "اورژانس")}


def _decide(session: Session, citizen: Citizen, u: Understanding, text: str, ctx: IntakeContext,
            now: datetime) -> tuple[Ticket | None, str | None, str]:
    t = ctx.templates
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
    if u.intent == "unclear" or not text.strip():
        return None, t.render("ask_what"), "ask_what"
    if u.intent == "report" and u.outside_city and not u.neighbourhood:
        return None, t.render("outside_city", place=u.outside_city), "outside_city"
    ticket = open_ticket(session, citizen, u, text, now)
    if u.intent == "emergency":
        number, service = _SERVICES.get(u.emergency_service or "", _SERVICES["fire"])
        return ticket, t.render("emergency", number=number, service=service, code=ticket.tracking_code), "emergency"
    return ticket, t.render("ack", code=ticket.tracking_code), "ack"


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


def open_ticket(session: Session, citizen: Citizen, u: Understanding, text: str, now: datetime) -> Ticket:
    ticket = Ticket(tracking_code=new_tracking_code(), citizen_id=citizen.id, status=domain.REGISTERED,
                    intent=u.intent, category=u.category, neighbourhood=u.neighbourhood, region=u.region,
                    description=text, emergency=u.intent == "emergency", opened_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    _event(session, ticket, "citizen", "opened", "", now)
    return ticket


def _event(session: Session, ticket: Ticket, actor: str, action: str, note: str, now: datetime) -> None:
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, action=action, note=note, at=now))
