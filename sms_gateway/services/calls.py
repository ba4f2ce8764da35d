"""Use case: staff type in a call to 137. The caller's words go through the one intake path as a message
of channel phone from the caller's number, so the ticket is an SMS ticket in all but its channel: the
tracking code and every follow-up go to that number by SMS, with the usual opt-out, and emergencies and
identity-bound requests keep their usual handling. The dashboard's page and `sms-gateway tickets create`
both call `file_call`."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from ..adapters.models import Ticket
from ..domain.phones import InvalidPhone, is_mobile, normalise_phone
from ..domain.staff import Viewer
from ..domain.values import Action, Channel
from ..providers.base import Received
from . import intake, lifecycle
from .context import Context
from .tickets import Refused, clean_text

MAX_CALL_CHARS = 1600


@dataclass(frozen=True)
class Draft:
    """What understanding reads in what the caller said: the form's category and place, pre-filled."""

    category: str | None
    neighbourhood: str | None
    region: int | None
    emergency: bool
    emergency_service: str | None
    identity_bound: bool


@dataclass(frozen=True)
class Filed:
    """What came of a call: its ticket (none for identity-bound requests, a status question…), the SMS the
    caller gets, and whether it left at once."""

    code: str | None
    reply: str | None
    duplicate: bool
    sent: str | None


def understand(ctx: Context, text: str, category: str = "", neighbourhood: str = "") -> Draft:
    """Read the caller's words; what the operator already chose wins over what was read."""
    u = ctx.classifier.classify(clean_text(text)[:MAX_CALL_CHARS])
    place = ctx.city.place(neighbourhood.strip()) if neighbourhood.strip() else None
    if place is not None:
        u = replace(u, neighbourhood=place.name, region=place.region)
    chosen = category if ctx.city.category(category) else None
    return Draft(chosen or u.category, u.neighbourhood, u.region, u.intent == "emergency", u.emergency_service,
                 u.intent == "identity_required")


def caller_phone(raw: str) -> str:
    """The caller's Iranian mobile as +989…; raises Refused: answers and follow-ups go to it by SMS."""
    try:
        phone = normalise_phone(raw)
    except InvalidPhone:
        phone = ""
    if not is_mobile(phone):
        raise Refused("شماره همراه تماس‌گیرنده لازم است (مانند ۰۹۱۲۱۲۳۴۵۶۷)؛ کد رهگیری و پیگیری‌ها با پیامک به "
                      "آن فرستاده می‌شود")
    return phone


def file_call(ctx: Context, viewer: Viewer, phone: str, text: str, category: str, neighbourhood: str,
              now: datetime, call_id: str = "", send: Callable[[int], str] | None = None) -> Filed:
    """Open the caller's request as if they had texted it; raises Refused with the reason. A call filed
    again with the same call_id (a form sent twice) opens nothing more and gets the same answer. The SMS
    to the caller, once committed, goes through `send` (the web app's background senders), else now."""
    if viewer.is_unit:
        raise Refused("ثبت تماس کار مرکز ۱۳۷ است، نه واحد اجرایی")
    number, words = caller_phone(phone), clean_text(text)[:MAX_CALL_CHARS]
    if not words:
        raise Refused("متن تماس خالی است: آنچه تماس‌گیرنده گفت را بنویسید")
    if category and ctx.city.category(category) is None:
        raise Refused("دسته ناشناخته است")
    place = ctx.city.place(neighbourhood.strip()) if neighbourhood.strip() else None
    if neighbourhood.strip() and place is None:
        raise Refused("محله ناشناخته است؛ از فهرست محله‌ها انتخاب کنید یا خالی بگذارید")
    draft = understand(ctx, words, category, neighbourhood)
    if not viewer.sees_region(draft.region):
        raise Refused("این محل در منطقه شما نیست؛ تماس را به کارشناس آن منطقه یا مرکز ۱۳۷ بسپارید")
    message = Received(provider=Channel.PHONE, channel=Channel.PHONE,
                       message_id=f"{viewer.username}:{call_id or uuid.uuid4().hex}"[:100], sender=number,
                       recipient="", text=words, category=category or None, neighbourhood=place.name if place else None,
                       raw={"text": words, "staff": viewer.username, "category": category,
                            "neighbourhood": neighbourhood.strip()})
    receipt = intake.receive(ctx, message, now, reply_inline=False)
    sent = None
    if receipt.outbound_id is not None:
        sent = send(receipt.outbound_id) if send else ctx.outbox.deliver(ctx.sessions, receipt.outbound_id, now)
    if receipt.ticket_code and not receipt.duplicate:
        with ctx.sessions.begin() as session:
            ticket_id = session.scalar(select(Ticket.id).where(Ticket.tracking_code == receipt.ticket_code))
            if ticket_id is not None:
                lifecycle.record_event(session, ticket_id, viewer.username, Action.NOTE,
                                       f"تماس تلفنی، ثبت‌شده به دست {viewer.username}", now)
    return Filed(receipt.ticket_code, receipt.reply, receipt.duplicate, sent)
