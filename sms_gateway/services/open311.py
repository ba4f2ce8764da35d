"""Use case: the municipality's website and apps speak Open311 GeoReport v2. A request goes through the one
intake path, as a message of channel open311 from the citizen's phone number (so the tracking code and
every follow-up go by SMS); queries read tickets of every channel and never return a phone number or the
citizen's own words."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from ..adapters.models import InboundMessage, Ticket
from ..domain.city import Category
from ..domain.open311 import MAX_RESULTS, Open311Error, SpecStatus, new_request, requests_query, spec_status
from ..domain.text import persian_digits, to_latin_digits
from ..domain.tickets import CLOSED, OPEN, STAFF_LABELS
from ..domain.values import Channel
from ..providers.base import Received
from . import intake
from .api_keys import Client
from .context import Context

_ROW = (Ticket.tracking_code, Ticket.status, Ticket.category, Ticket.neighbourhood, Ticket.region, Ticket.opened_at,
        Ticket.updated_at, Ticket.expected_at, Ticket.closed_at)


def service_list(ctx: Context) -> list[dict[str, Any]]:
    """The city's categories as the spec's services: no extra fields to fill, the id returned at once."""
    return [_service(ctx, c) for c in ctx.city.categories]


def _service(ctx: Context, c: Category) -> dict[str, Any]:
    return {"service_code": c.code, "service_name": c.label,
            "description": f"{c.label}؛ زمان پیش‌بینی رسیدگی: {_duration(c.sla_hours)}",
            "metadata": False, "type": "realtime", "keywords": None, "group": ctx.city.departments[c.department]}


def _duration(hours: int) -> str:
    return persian_digits(f"{hours // 24} روز" if hours >= 48 and hours % 24 == 0 else f"{hours} ساعت")


def service_definition(ctx: Context, code: str) -> dict[str, Any]:
    if ctx.city.category(code) is None:
        raise Open311Error(404, "چنین خدمتی نیست؛ فهرست خدمات در services.json است")
    return {"service_code": code, "attributes": []}


def submit(ctx: Context, client: Client, form: Mapping[str, str], client_id: str,
           now: datetime, send: Callable[[int], Any] | None = None) -> list[dict[str, Any]]:
    """Open a request as the citizen would by SMS; the answer carries its tracking code, or the reason
    none was opened (identity-bound requests keep their authenticated channel). The SMS goes out by
    `send` once committed (the web app's background senders), else at once."""
    checked = new_request(form, {c.code for c in ctx.city.categories})
    message_id = f"{client.id}:{client_id}" if client_id else uuid.uuid4().hex
    raw = {k: v for k, v in form.items() if k != "api_key"} | {"api_client": client.name}
    message = Received(provider=Channel.OPEN311, channel=Channel.OPEN311, message_id=message_id,
                       sender=checked.phone, recipient="", text=checked.text(), raw=raw,
                       category=checked.service_code)
    receipt = intake.receive(ctx, message, now, reply_inline=False)
    if receipt.outbound_id is not None:
        (send or (lambda i: ctx.outbox.deliver(ctx.sessions, i, now)))(receipt.outbound_id)
    if receipt.ticket_code:
        return [{"service_request_id": receipt.ticket_code, "service_notice": receipt.reply, "account_id": None}]
    if receipt.failed:  # stored, and read again by the scheduler: the token gives the id once it has one
        return [{"token": message_id, "service_notice": "درخواست دریافت شد؛ کد رهگیری با پیامک فرستاده می‌شود.",
                 "account_id": None}]
    if _intent_of(ctx, message_id) == "identity_required":
        raise Open311Error(400, "درخواست‌های پروانه، عوارض، نقشه و امور حقوقی نیاز به احراز هویت دارد و از این "
                                f"راه ثبت نمی‌شود: {ctx.city.authenticated_channel}")
    raise Open311Error(400, receipt.reply or "این درخواست ثبت نشد.")


def _intent_of(ctx: Context, message_id: str) -> str | None:
    with ctx.sessions() as session:
        return session.scalar(select(InboundMessage.intent).where(
            InboundMessage.provider == Channel.OPEN311, InboundMessage.provider_message_id == message_id))


def token_request(ctx: Context, token: str) -> list[dict[str, Any]]:
    """The tracking code a token's request got (null while it waits to be read again)."""
    with ctx.sessions() as session:
        found = session.execute(select(InboundMessage.id, Ticket.tracking_code)
                                .outerjoin(Ticket, Ticket.id == InboundMessage.ticket_id).where(
            InboundMessage.provider == Channel.OPEN311, InboundMessage.provider_message_id == token[:100])).first()
    if found is None:
        raise Open311Error(404, "چنین token ای نیست")
    return [{"service_request_id": found.tracking_code, "token": token}]


def find_requests(ctx: Context, args: Mapping[str, str], now: datetime) -> list[dict[str, Any]]:
    """GET requests: newest first, at most MAX_RESULTS."""
    q = requests_query(args, now, {c.code for c in ctx.city.categories})
    query = select(*_ROW)
    if q.codes:
        query = query.where(Ticket.tracking_code.in_(q.codes))
    else:
        query = query.where(Ticket.opened_at >= q.start, Ticket.opened_at <= q.end)
        if q.service_codes:
            chosen = Ticket.category.in_(q.service_codes)
            query = query.where(or_(chosen, Ticket.category.is_(None)) if "other" in q.service_codes else chosen)
        if q.statuses != frozenset(SpecStatus):
            wanted = CLOSED if SpecStatus.CLOSED in q.statuses else OPEN
            query = query.where(Ticket.status.in_(sorted(wanted)))
    with ctx.sessions() as session:
        rows = session.execute(query.order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(MAX_RESULTS)).all()
    return [_record(ctx, r) for r in rows]


def find_request(ctx: Context, code: str) -> list[dict[str, Any]]:
    with ctx.sessions() as session:
        row = session.execute(select(*_ROW).where(Ticket.tracking_code == to_latin_digits(code.strip())[:12])).first()
    if row is None:
        raise Open311Error(404, "درخواستی با این کد نیست")
    return [_record(ctx, row)]


def _record(ctx: Context, t: Any) -> dict[str, Any]:
    """One ticket as the spec's service request: its state, service, department, times and place."""
    category = ctx.city.category(t.category) or ctx.city.category("other")
    closed = spec_status(t.status) == SpecStatus.CLOSED
    return {
        "service_request_id": t.tracking_code, "status": spec_status(t.status).value,
        "status_notes": STAFF_LABELS[t.status], "service_name": ctx.city.category_label(t.category),
        "service_code": category.code if category else "other", "description": None,
        "agency_responsible": ctx.city.departments.get(category.department) if category else None,
        "service_notice": None, "requested_datetime": _w3c(ctx, t.opened_at),
        "updated_datetime": _w3c(ctx, (t.closed_at if closed else None) or t.updated_at),
        "expected_datetime": _w3c(ctx, t.expected_at), "address": _address(ctx, t.neighbourhood, t.region),
        "address_id": None, "zipcode": None, "lat": None, "long": None, "media_url": None,
    }


def _w3c(ctx: Context, moment: datetime | None) -> str | None:
    """2026-11-24T13:00:00+03:30: W3C, in the city's time zone."""
    return moment.astimezone(ZoneInfo(ctx.policy.timezone)).isoformat(timespec="seconds") if moment else None


def _address(ctx: Context, neighbourhood: str | None, region: int | None) -> str | None:
    """From the most specific to the most general, as the spec asks: neighbourhood, region, city."""
    if neighbourhood is None:
        return None
    return "، ".join(p for p in (neighbourhood, ctx.city.region_name(region), ctx.city.name) if p)
