"""The outbox, the one writer of outbound messages: direct answers and automated follow-ups are rows
written in the same transaction as their cause; sending them is done here too, exactly once each.

A message is claimed (queued → sending, with the claim time) by a conditional UPDATE before it is
sent, so two senders never both send it; on PostgreSQL candidates are read with FOR UPDATE SKIP LOCKED,
so concurrent runs split the work. A sender that dies after claiming leaves the row `sending`; after the
claim lease another run sends it again with the same local id (the outbound id), which providers with
idempotency (Kavenegar's localid) absorb and others may deliver twice (README, "at-least-once").
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

from sqlalchemy import Insert, Update, and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from ..adapters.db import table
from ..adapters.models import Citizen, Contact, OutboundMessage, Ticket
from ..domain.phones import mask_phone
from ..domain.policy import Policy, retry_delay
from ..domain.text import count_segments
from ..domain.values import Channel, OutboxStatus
from ..providers.base import DeliveryReport, SendError, SendResult
from . import citizens

log = logging.getLogger("sms_gateway.outbound")


class Failover:
    """The main SMS provider, and a fallback that takes over after `after` failures in a row for
    `cooldown`; then the main one is tried again. Kept per process: the scheduler does most sending."""

    def __init__(self, main: str, fallback: str, after: int, cooldown: timedelta = timedelta(minutes=5)):
        self.main, self.fallback, self.after, self.cooldown = main, fallback, after, cooldown
        self.failures = 0
        self.until: datetime | None = None
        self._lock = Lock()

    def choose(self, name: str, now: datetime) -> str:
        with self._lock:
            if name == self.main and self.until is not None and now < self.until:
                return self.fallback
            return name

    def record(self, name: str, ok: bool, now: datetime) -> bool:
        """Count the outcome; True when this failure has just switched sending to the fallback."""
        if name != self.main:
            return False
        with self._lock:
            if ok:
                self.failures, self.until = 0, None
                return False
            self.failures += 1
            if self.failures >= self.after:
                self.failures, self.until = 0, now + self.cooldown
                log.warning("%s failed %d times in a row: %s takes over for %s", self.main, self.after,
                            self.fallback, self.cooldown)
                return True
            return False


@dataclass(frozen=True)
class Sent:
    outbound_id: int
    to: str
    text: str
    kind: str
    ticket: str | None
    status: str

    def as_json(self) -> dict[str, Any]:
        return {"to": self.to, "text": self.text, "kind": self.kind, "ticket": self.ticket}


@dataclass
class Outbox:
    """The providers messages leave through: the SMS provider for the sms channel, a channel's own
    provider for the others (Bale), and the failover between SMS panels."""

    providers: Mapping[str, Any]
    sms_provider: str
    policy: Policy
    failover: Failover | None = None

    def provider_for(self, channel: str) -> str:
        """The provider a channel's messages leave through; a messenger that is not configured (any
        more) is named all the same: its sends fail, and fall back to SMS, rather than hand a chat id
        to an SMS panel."""
        if channel == Channel.SMS:
            return self.sms_provider
        return next((name for name, p in self.providers.items() if p.channel == channel), channel)

    # --- writing rows -----------------------------------------------------------------------------

    def queue_reply(self, session: Session, *, citizen_id: int, contact_id: int, channel: str, address: str,
                    text: str, kind: str, now: datetime, ticket_id: int | None = None,
                    inbound_id: int | None = None, provider: str | None = None, sent_inline: bool = False,
                    along: tuple[Update, dict[str, Any]] | None = None) -> int:
        """A direct answer (never deferred at night, never stopped by opt-out); returns its id. One that
        rides on the provider's webhook answer is written as sent. On PostgreSQL the caller's own UPDATE
        (`along`: a built statement and its values, e.g. intake marking its message processed) can ride
        in the same round trip."""
        values = dict(citizen_id=citizen_id, contact_id=contact_id, channel=channel, to_address=address, text=text,
                      segments=count_segments(text), kind=kind, provider=provider or self.provider_for(channel),
                      status=OutboxStatus.SENT if sent_inline else OutboxStatus.QUEUED, automated=False,
                      attempts=1 if sent_inline else 0, ticket_id=ticket_id, inbound_id=inbound_id,
                      created_at=now, due_at=now, sent_at=now if sent_inline else None)
        if along is not None and session.get_bind().dialect.name == "postgresql":
            statement, binds = along
            return session.execute(_reply_along(statement), {f"o_{k}": v for k, v in values.items()} | binds) \
                .scalar_one()
        if along is not None:
            session.execute(*along)
        return session.execute(_NEW_REPLY, values).scalar_one()

    def queue_automated(self, session: Session, ticket: Ticket, kind: str, text: str, now: datetime) -> None:
        """A follow-up to the ticket's citizen through the contact the request came from, due now or when
        the quiet hours end; an opted-out citizen's row is written as suppressed so staff see it."""
        contact = session.execute(select(Contact.id, Contact.channel, Contact.address, Citizen.opted_out)
                                  .join(Citizen, Citizen.id == Contact.citizen_id)
                                  .where(Contact.id == ticket.contact_id)).first()
        if contact is None:
            return
        session.execute(insert(OutboundMessage).values(
            citizen_id=ticket.citizen_id, contact_id=contact.id, channel=contact.channel, to_address=contact.address,
            text=text, segments=count_segments(text), kind=kind, provider=self.provider_for(contact.channel),
            status=OutboxStatus.SUPPRESSED if contact.opted_out else OutboxStatus.QUEUED, automated=True,
            attempts=0, ticket_id=ticket.id, created_at=now, due_at=self.policy.next_send_time(now)))

    def send_unstored(self, sessions: sessionmaker[Session], *, citizen_id: int, contact_id: int, address: str,
                      text: str, shown: str, kind: str, now: datetime) -> str:
        """Send a text that must not be kept (a one-time code) by SMS, now and once: its row records `shown`
        in its place, so the outbox, the ticket pages and backups never hold the code. It cannot be sent
        again later (the text is not kept): one that fails is `failed` at once, and the citizen asks again.
        The row is written `failed` until the provider has taken it, so a sender killed in between leaves
        nothing a later run would send (it would send `shown`)."""
        with sessions.begin() as session:
            outbound_id = session.execute(insert(OutboundMessage).values(
                citizen_id=citizen_id, contact_id=contact_id, channel=Channel.SMS, to_address=address, text=shown,
                segments=count_segments(text), kind=kind, provider=self.sms_provider, status=OutboxStatus.FAILED,
                automated=False, attempts=0, created_at=now, due_at=now, claimed_at=now,
                last_error="sent once, never again (its text is not kept)")
                .returning(OutboundMessage.id)).scalar_one()
        row = _ClaimedRow(outbound_id, address, text, self.sms_provider, kind, None)
        name = self.failover.choose(row.provider, now) if self.failover else row.provider
        try:
            result = self._send_with(name, row)
        except SendError as exc:
            if self.failover is not None:
                self.failover.record(name, False, now)
            with sessions.begin() as session:
                session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(
                    status=OutboxStatus.FAILED, provider=name, attempts=1, last_error=str(exc)[:500]))
            log.warning("outbound %s (not kept) failed: %s", outbound_id, exc,
                        extra={"outbound_id": outbound_id, "status": "failed", "error": str(exc)})
            return OutboxStatus.FAILED
        if self.failover is not None:
            self.failover.record(name, True, now)
        with sessions.begin() as session:
            session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(
                status=OutboxStatus.SENT, provider=name, provider_message_id=result.provider_message_id[:100],
                attempts=1, sent_at=now, last_error=None))
        log.info("sent outbound %s to %s via %s", outbound_id, mask_phone(address), name,
                 extra={"outbound_id": outbound_id, "to": mask_phone(address), "provider": name, "kind": kind,
                        "status": "sent"})
        return OutboxStatus.SENT

    # --- sending ----------------------------------------------------------------------------------

    def deliver(self, sessions: sessionmaker[Session], outbound_id: int, now: datetime) -> str:
        """Send one queued direct answer now, right after its commit; returns its new status."""
        with sessions.begin() as session:
            claimed = _claim(session, [outbound_id], now, self.policy.claim_lease)
            if not claimed:
                status = session.scalar(select(OutboundMessage.status).where(OutboundMessage.id == outbound_id))
                return status or "missing"
        return self._send_claimed(sessions, claimed[0], now).status

    def send_due(self, sessions: sessionmaker[Session], now: datetime, limit: int = 10_000) -> list[Sent]:
        """Send every message due at `now`, honouring opt-out, quiet hours and one message per ticket."""
        with sessions.begin() as session:
            _suppress_opted_out(session)
            if self.policy.is_quiet(now):
                _defer_automated(session, now, self.policy.next_send_time(now))
            _supersede_older(session, now)
        results: list[Sent] = []
        while len(results) < limit:
            with sessions.begin() as session:
                batch = _claim_due(session, now, min(self.policy.claim_batch, limit - len(results)),
                                   self.policy.claim_lease, self.providers)
            if not batch:
                break
            results += [self._send_claimed(sessions, row, now) for row in batch]
        return results

    def _send_claimed(self, sessions: sessionmaker[Session], row: Any, now: datetime) -> Sent:
        name = self.failover.choose(row.provider, now) if self.failover else row.provider
        try:
            result = self._send_with(name, row)
        except SendError as exc:
            if self.failover is None or not self.failover.record(name, False, now):
                return self._failed(sessions, row, str(exc), exc.retryable, now)
            name = self.failover.fallback  # the main provider has just been given up on: try at once
            try:
                result = self._send_with(name, row)
            except SendError as again:
                return self._failed(sessions, row, str(again), again.retryable, now)
        else:
            if self.failover is not None:
                self.failover.record(name, True, now)
        with sessions.begin() as session:
            session.execute(update(OutboundMessage).where(OutboundMessage.id == row.id).values(
                status=OutboxStatus.SENT, provider=name, provider_message_id=result.provider_message_id[:100],
                attempts=OutboundMessage.attempts + 1, sent_at=now, last_error=None))
        log.info("sent outbound %s to %s via %s", row.id, mask_phone(row.to_address), name,
                 extra={"outbound_id": row.id, "to": mask_phone(row.to_address), "provider": name, "kind": row.kind,
                        "status": "sent"})
        return Sent(row.id, row.to_address, row.text, row.kind, row.code, OutboxStatus.SENT)

    def _send_with(self, name: str, row: Any) -> SendResult:
        provider = self.providers.get(name)
        if provider is None:
            raise SendError(f"provider {name} is not configured", retryable=False)
        try:
            return provider.send(row.to_address, row.text, str(row.id))
        except SendError:
            raise
        except Exception as exc:  # a provider answering something no adapter expected is a failed attempt
            raise SendError(f"{name} answered unexpectedly: {type(exc).__name__}") from None

    def _failed(self, sessions: sessionmaker[Session], row: Any, error: str, retryable: bool, now: datetime) -> Sent:
        with sessions.begin() as session:
            msg = session.get_one(OutboundMessage, row.id)
            msg.attempts += 1
            msg.last_error = error[:500]
            if retryable and msg.attempts < self.policy.max_send_attempts:
                msg.status, msg.due_at = OutboxStatus.QUEUED, now + retry_delay(msg.attempts)
            else:
                msg.status = OutboxStatus.FAILED
                if msg.channel != Channel.SMS:
                    self._by_sms_instead(session, msg, now)
            status = msg.status
        log.warning("outbound %s attempt failed: %s (now %s)", row.id, error, status,
                    extra={"outbound_id": row.id, "status": status, "error": error})
        return Sent(row.id, row.to_address, row.text, row.kind, row.code, status)

    def _by_sms_instead(self, session: Session, failed: OutboundMessage, now: datetime) -> None:
        """A messenger message that failed for good goes again by SMS, when the citizen shared a number.

        A citizen who blocked the bot, left Bale, or whom Bale could not reach for half an hour of
        retries would otherwise never hear of their request; the SMS line still reaches them. The same
        text in a new row (the failed one stays as the record of what happened), the same kind; an
        automated one still waits for the end of the quiet hours and is stopped by opt-out."""
        contact = citizens.sms_contact(session, failed.citizen_id)
        if contact is None:
            return
        contact_id, phone = contact
        opted_out = failed.automated and bool(session.scalar(
            select(Citizen.opted_out).where(Citizen.id == failed.citizen_id)))
        session.execute(insert(OutboundMessage).values(
            citizen_id=failed.citizen_id, contact_id=contact_id, channel=Channel.SMS, to_address=phone,
            text=failed.text, segments=count_segments(failed.text), kind=failed.kind, provider=self.sms_provider,
            status=OutboxStatus.SUPPRESSED if opted_out else OutboxStatus.QUEUED, automated=failed.automated,
            attempts=0, ticket_id=failed.ticket_id, inbound_id=failed.inbound_id, created_at=now,
            due_at=self.policy.next_send_time(now) if failed.automated else now))
        log.info("outbound %s on %s failed for good: queued again by SMS to %s", failed.id, failed.channel,
                 mask_phone(phone), extra={"outbound_id": failed.id, "to": mask_phone(phone), "kind": failed.kind})


def record_delivery(sessions: sessionmaker[Session], report: DeliveryReport) -> bool:
    """Apply a provider's delivery report; False when the message is not ours."""
    with sessions.begin() as session:
        msg = session.scalar(select(OutboundMessage).where(
            OutboundMessage.provider == report.provider,
            OutboundMessage.provider_message_id == report.message_id[:100]))
        if msg is None:
            return False
        if not (msg.status == OutboxStatus.DELIVERED and report.status == OutboxStatus.SENT):
            msg.status = report.status
        if report.error:
            msg.last_error = report.error[:500]
        return True


def anonymise(session: Session, citizen_id: int, token: str) -> None:
    """Retention: the number on the citizen's outbound rows goes too."""
    session.execute(update(OutboundMessage).where(OutboundMessage.citizen_id == citizen_id).values(to_address=token))


_NEW_REPLY = insert(table(OutboundMessage)).returning(OutboundMessage.id)  # built once: the webhook's hot path


_REPLY_COLUMNS = ("citizen_id", "contact_id", "channel", "to_address", "text", "segments", "kind", "provider", "status",
                  "automated", "attempts", "ticket_id", "inbound_id", "created_at", "due_at", "sent_at")


@functools.cache
def _reply_along(along: Update) -> Insert:
    """PostgreSQL: the reply's INSERT with another writer's UPDATE in a CTE, built once per UPDATE."""
    rows = table(OutboundMessage)
    return insert(rows).values({c: bindparam(f"o_{c}", type_=rows.c[c].type) for c in _REPLY_COLUMNS}) \
        .returning(rows.c.id).add_cte(along.cte("along"))


def _due(now: datetime, lease: timedelta):
    return or_(and_(OutboundMessage.status == OutboxStatus.QUEUED, OutboundMessage.due_at <= now),
               and_(OutboundMessage.status == OutboxStatus.SENDING, OutboundMessage.claimed_at <= now - lease))


def _unlocked(*conditions):
    """Ids of queued automated rows matching `conditions` that no concurrent run holds: bulk updates
    over them never wait on (or deadlock with) another run."""
    return select(OutboundMessage.id).where(
        OutboundMessage.status == OutboxStatus.QUEUED, OutboundMessage.automated.is_(True), *conditions
    ).with_for_update(skip_locked=True).scalar_subquery()


def _suppress_opted_out(session: Session) -> None:
    opted_out = select(Citizen.id).where(Citizen.opted_out.is_(True))
    session.execute(update(OutboundMessage).where(
        OutboundMessage.id.in_(_unlocked(OutboundMessage.citizen_id.in_(opted_out))))
        .values(status=OutboxStatus.SUPPRESSED).execution_options(synchronize_session=False))


def _defer_automated(session: Session, now: datetime, morning: datetime) -> None:
    session.execute(update(OutboundMessage).where(
        OutboundMessage.id.in_(_unlocked(OutboundMessage.due_at <= now)))
        .values(due_at=morning).execution_options(synchronize_session=False))


def _supersede_older(session: Session, now: datetime) -> None:
    """Coalesce: of a ticket's due automated messages only the newest goes out."""
    newer = aliased(OutboundMessage)
    session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(_unlocked(
        OutboundMessage.due_at <= now,
        exists().where(newer.ticket_id == OutboundMessage.ticket_id, newer.automated.is_(True),
                       newer.status == OutboxStatus.QUEUED, newer.due_at <= now, newer.id > OutboundMessage.id))))
        .values(status=OutboxStatus.SUPERSEDED).execution_options(synchronize_session=False))


_CLAIMED_COLUMNS = (OutboundMessage.id, OutboundMessage.to_address, OutboundMessage.text, OutboundMessage.provider,
                    OutboundMessage.kind, OutboundMessage.ticket_id)


def _claim(session: Session, ids: list[int], now: datetime, lease: timedelta) -> list[Any]:
    """Mark the messages sending if they are still due; what sending them needs, oldest due first."""
    if not ids:
        return []
    claimed = session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(ids), _due(now, lease))
                              .values(status=OutboxStatus.SENDING, claimed_at=now)
                              .returning(*_CLAIMED_COLUMNS).execution_options(synchronize_session=False)).all()
    codes = dict(session.execute(select(Ticket.id, Ticket.tracking_code).where(
        Ticket.id.in_({r.ticket_id for r in claimed if r.ticket_id}))).all()) if claimed else {}
    order = {i: n for n, i in enumerate(ids)}
    return [_ClaimedRow(r.id, r.to_address, r.text, r.provider, r.kind, codes.get(r.ticket_id))
            for r in sorted(claimed, key=lambda r: order[r.id])]


def _claim_due(session: Session, now: datetime, size: int, lease: timedelta,
               providers: Mapping[str, Any]) -> list[Any]:
    """At most `size` due messages (small batches: a sender killed mid-batch strands only these, until
    the lease ends). One a dead sender left `sending` is sent again, and the log says whether its provider
    absorbs the resend or the citizen may get it twice."""
    candidates = session.execute(select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.provider)
                                 .where(_due(now, lease)).order_by(OutboundMessage.due_at, OutboundMessage.id)
                                 .limit(size).with_for_update(skip_locked=True)).all()
    for row in candidates:
        if row.status == OutboxStatus.SENDING:
            dedup = getattr(providers.get(row.provider), "deduplicates_resends", False)
            log.warning("outbound %s was left sending by a sender that stopped: sent again (%s)", row.id,
                        f"{row.provider} refuses a second send of one id" if dedup else
                        f"{row.provider} may deliver it twice", extra={"outbound_id": row.id, "status": "resend"})
    return _claim(session, [row.id for row in candidates], now, lease)


@dataclass(frozen=True)
class _ClaimedRow:
    id: int
    to_address: str
    text: str
    provider: str
    kind: str
    code: str | None


def reassign_contact(session: Session, contact_id: int, citizen_id: int) -> None:
    """Messages to a contact follow it to another citizen (linking a messenger user to their number)."""
    session.execute(update(OutboundMessage).where(OutboundMessage.contact_id == contact_id)
                    .values(citizen_id=citizen_id).execution_options(synchronize_session=False))
