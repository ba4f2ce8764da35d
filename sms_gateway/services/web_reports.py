"""Use case: a citizen reports on the city's web page (/report) and looks a request up (/status).

The number is confirmed first: a one-time code goes to it by SMS (through the outbox, which keeps only a
masked copy of the text), and only a keyed hash of the code is stored, for `web_code_minutes` and
`web_code_attempts` tries. Codes are limited per number and per client address, status look-ups per
address, each counted and checked in one statement on a row per counted thing, so every web worker
counts the same. The confirmed report goes through the one intake path as a message of channel web: its
tracking code and every follow-up go to the number by SMS, with the usual opt-out."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters.models import Contact, Ticket, WebRateLimit, WebVerification
from ..domain.phones import InvalidPhone, is_mobile, mask_phone, normalise_phone
from ..domain.text import persian_digits, to_latin_digits
from ..domain.tickets import CITIZEN_LABELS
from ..domain.values import Channel, Kind
from ..providers.base import Received
from . import citizens, intake
from .context import Context
from .tickets import clean_text

MAX_TEXT = 1000
MAX_PLACE = 200
CODE_DIGITS = 6
KEPT_AFTER_EXPIRY = timedelta(hours=1)  # a confirmed form sent again meanwhile still gets its answer


@dataclass(frozen=True)
class WebRules:
    """The page's limits (settings web_*) and the key the codes' hashes are made with."""

    code_minutes: int
    code_attempts: int
    codes_per_number: int
    codes_per_address: int
    status_per_address: int
    window_minutes: int
    secret: bytes

    @classmethod
    def from_settings(cls, s: Any) -> "WebRules":
        secret = hmac.new(s.secret_key.encode(), b"sms-gateway web codes", hashlib.sha256).digest()
        return cls(s.web_code_minutes, s.web_code_attempts, s.web_codes_per_number, s.web_codes_per_address,
                   s.web_status_per_address, s.web_limit_minutes, secret)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


class WebRefused(ValueError):
    """What the citizen must change or wait for, in Persian; `status` is the page's HTTP status."""

    status = 400


class TooMany(WebRefused):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class CodeExpired(WebRefused):
    """The code can no longer be used (expired, or too many wrong tries): the citizen starts again."""


@dataclass(frozen=True)
class Pending:
    token: str      # names the waiting report in the next form
    masked: str     # the number the code went to, as the page shows it: 0912***4567


@dataclass(frozen=True)
class Filed:
    code: str | None
    reply: str | None  # the SMS the citizen got: the acknowledgement, or why no ticket was opened


def mobile(raw: str) -> str:
    try:
        phone = normalise_phone(raw)
    except InvalidPhone:
        phone = ""
    if not is_mobile(phone):
        raise WebRefused("شماره همراه را درست بنویسید (مانند ۰۹۱۲۱۲۳۴۵۶۷)؛ کد تأیید با پیامک به آن فرستاده می‌شود.")
    return phone


def request_code(ctx: Context, rules: WebRules, phone_text: str, text: str, place: str, address: str,
                 now: datetime) -> Pending:
    """Keep the report and send its number a one-time code; raises WebRefused (TooMany past a limit)."""
    phone, words, where = mobile(phone_text), clean_text(text), clean_text(place)
    if not words:
        raise WebRefused("متن درخواست را بنویسید: چه مشکلی، کجا.")
    if len(words) > MAX_TEXT or len(where) > MAX_PLACE:
        raise WebRefused(persian_digits(f"متن حداکثر {MAX_TEXT} و نشانی حداکثر {MAX_PLACE} نویسه است."))
    if phone in ctx.policy.blocked_numbers:
        raise WebRefused(persian_digits(f"از این شماره درخواستی پذیرفته نمی‌شود؛ با {ctx.city.phone} تماس بگیرید."))
    code, token = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}", secrets.token_urlsafe(24)
    with ctx.sessions.begin() as session:
        _take(session, f"code-address:{address}", rules.codes_per_address, rules, now,
              "از این نشانی درخواست کد زیاد بود")
        _take(session, f"code-number:{phone}", rules.codes_per_number, rules, now,
              "برای این شماره کد زیاد فرستاده شد")
        session.add(WebVerification(token=token, phone=phone, code_hash=_hash(rules, token, code), text=words,
                                    place=where, created_at=now, expires_at=now + timedelta(minutes=rules.code_minutes),
                                    attempts=0))
        who = citizens.identify(session, Channel.SMS, phone, now)
    status = ctx.outbox.send_unstored(ctx.sessions, citizen_id=who.citizen_id, contact_id=who.contact_id,
                                      address=phone, text=ctx.texts.render(Kind.VERIFICATION_CODE, code=code),
                                      shown=ctx.texts.render(Kind.VERIFICATION_CODE, code="••••••"),
                                      kind=Kind.VERIFICATION_CODE, now=now)
    if status != "sent":
        raise WebRefused("فرستادن پیامک کد ممکن نشد؛ چند دقیقه دیگر دوباره امتحان کنید.")
    return Pending(token, mask_phone(phone))


def confirm(ctx: Context, rules: WebRules, token: str, code: str, now: datetime,
            send: Callable[[int], str] | None = None) -> Filed:
    """The right code files the waiting report as a ticket of channel web; a confirmed report sent again
    gets the same answer. Raises WebRefused for a wrong code, CodeExpired when it cannot be used any more."""
    typed, token = to_latin_digits(code.strip())[:CODE_DIGITS * 2], token[:40]
    with ctx.sessions.begin() as session:
        row = session.execute(update(WebVerification).where(
            WebVerification.token == token, WebVerification.confirmed_at.is_(None),
            WebVerification.expires_at > now, WebVerification.attempts < rules.code_attempts)
            .values(attempts=WebVerification.attempts + 1)
            .returning(WebVerification.id, WebVerification.code_hash, WebVerification.attempts)).first()
        right = row is not None and hmac.compare_digest(row.code_hash, _hash(rules, token, typed))
        pending = session.scalar(select(WebVerification).where(
            WebVerification.token == token, WebVerification.confirmed_at.is_not(None) if row is None
            else WebVerification.id == row.id))
        if right and pending is not None:
            pending.confirmed_at = now
        message = _message(ctx, pending) if pending is not None and (right or row is None) else None
    if message is None and row is None:
        raise CodeExpired("این کد دیگر پذیرفته نمی‌شود (گذشت زمان یا تلاش‌های نادرست زیاد)؛ "
                          "دوباره درخواست را بفرستید تا کد تازه بگیرید.")
    if message is None:
        left = rules.code_attempts - (row.attempts if row is not None else rules.code_attempts)
        if left <= 0:
            raise CodeExpired("کد نادرست بود و تلاش‌ها تمام شد؛ دوباره درخواست را بفرستید تا کد تازه بگیرید.")
        raise WebRefused(persian_digits(f"کد نادرست است؛ {left} بار دیگر می‌توانید امتحان کنید."))
    receipt = intake.receive(ctx, message, now, reply_inline=False)
    if receipt.outbound_id is not None:  # committed: through `send` (the web app's senders), else now
        (send or (lambda i: ctx.outbox.deliver(ctx.sessions, i, now)))(receipt.outbound_id)
    return Filed(receipt.ticket_code, receipt.reply)


def _message(ctx: Context, v: WebVerification) -> Received:
    """The report as intake reads it: the text, then the place the citizen gave (a name of the city's
    places is taken as the neighbourhood)."""
    place = ctx.city.place(v.place) if v.place else None
    return Received(provider=Channel.WEB, channel=Channel.WEB, message_id=f"web:{v.id}", sender=v.phone,
                    recipient="", text=f"{v.text}\n{v.place}" if v.place else v.text,
                    raw={"text": v.text, "place": v.place}, neighbourhood=place.name if place else None)


def forget_expired(ctx: Context, rules: WebRules, now: datetime) -> int:
    """The scheduler's sweep: reports whose code expired an hour ago (filed or not: a filed one is a
    ticket by then) and counters of windows gone by are deleted; how many reports went."""
    with ctx.sessions.begin() as session:
        gone = session.execute(delete(WebVerification).where(WebVerification.expires_at < now - KEPT_AFTER_EXPIRY)
                               .returning(WebVerification.id)).scalars().all()
        session.execute(delete(WebRateLimit).where(WebRateLimit.window_start < now - rules.window))
    return len(gone)


def _hash(rules: WebRules, token: str, code: str) -> str:
    return hmac.new(rules.secret, f"{token}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PublicStatus:
    code: str
    state: str
    category: str
    place: str
    opened_at: datetime
    expected_at: datetime | None
    closed_at: datetime | None


def look_up(ctx: Context, rules: WebRules, code: str, phone_text: str, address: str,
            now: datetime) -> PublicStatus | None:
    """A ticket's state for whoever gives its code and the number it was filed with; None for a wrong
    code, a wrong number or a malformed one alike. Raises TooMany past the address's limit."""
    try:
        phone = normalise_phone(phone_text)
    except InvalidPhone:
        phone = ""
    wanted = to_latin_digits(code.strip()).replace("-", "").replace(" ", "")[:12]
    with ctx.sessions.begin() as session:
        _take(session, f"status-address:{address}", rules.status_per_address, rules, now,
              "پیگیری‌ها از این نشانی زیاد بود")
    with ctx.sessions() as session:
        t = session.scalar(select(Ticket).where(Ticket.tracking_code == wanted, Ticket.citizen_id.in_(
            select(Contact.citizen_id).where(Contact.channel == Channel.SMS, Contact.address == phone))))
        if t is None:
            return None
        place = "، ".join(p for p in (t.neighbourhood, ctx.city.region_name(t.region)) if p)
        return PublicStatus(t.tracking_code, CITIZEN_LABELS.get(t.status, t.status),
                            ctx.city.category_label(t.category) if t.category else "در دست بررسی",
                            place or "نامشخص", t.opened_at, t.expected_at, t.closed_at)


def _take(session: Session, what: str, limit: int, rules: WebRules, now: datetime, said: str) -> None:
    """One more of `what` in its window, counted and checked in one statement; raises TooMany."""
    key = hashlib.sha256(what.encode()).hexdigest()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(WebRateLimit).values(key=key, window_start=now, count=0)
                    .on_conflict_do_nothing(index_elements=["key"]))
    fresh = WebRateLimit.window_start <= now - rules.window
    counted = session.execute(
        update(WebRateLimit).where(WebRateLimit.key == key, or_(fresh, WebRateLimit.count < limit))
        .values(count=case((fresh, 1), else_=WebRateLimit.count + 1),
                window_start=case((fresh, now), else_=WebRateLimit.window_start))
        .returning(WebRateLimit.key).execution_options(synchronize_session=False)).scalar()
    if counted is None:
        since = session.scalar(select(WebRateLimit.window_start).where(WebRateLimit.key == key)) or now
        wait = max(1, ceil((since + rules.window - now).total_seconds()))
        raise TooMany(persian_digits(f"{said}؛ {ceil(wait / 60)} دقیقه دیگر دوباره امتحان کنید."), wait)
