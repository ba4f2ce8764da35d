"""The outbox: send what is due, exactly once per message, and record what the provider says.

A message is claimed (queued → sending, with the claim time) by a conditional UPDATE before it is
sent, so two senders never both send it: on PostgreSQL the candidates are also read with
FOR UPDATE SKIP LOCKED, so concurrent runs split the work instead of waiting on each other. A sender
that dies after claiming leaves the row `sending`; after the claim lease another run sends it again with
the same local id (the outbound id), which providers with idempotency (Kavenegar's localid) absorb.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import Callable, Mapping

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased, sessionmaker

from providers.base import DeliveryReport, Provider, SendError

from .domain import Policy, retry_delay
from .models import Citizen, OutboundMessage, Ticket
from .phone import mask_phone

log = logging.getLogger("sms_gateway.outbound")
CLAIM_BATCH = 20  # small: a claimed batch must be sent well within the lease


class Failover:
    """The main outbound provider, and a fallback that takes over after `after` failures in a row for
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

    def as_json(self) -> dict:
        return {"to": self.to, "text": self.text, "kind": self.kind, "ticket": self.ticket}


def deliver(sessions: sessionmaker, outbound_id: int, providers: Mapping[str, Provider],
            clock: Callable[[], datetime], policy: Policy | None = None, failover: Failover | None = None) -> str:
    """Send one queued message now (a direct answer just committed); returns its new status."""
    now = clock()
    policy = policy or Policy()
    with sessions.begin() as session:
        claimed = _claim(session, outbound_id, now, policy.claim_lease)
        if claimed is None:
            msg = session.get(OutboundMessage, outbound_id)
            return msg.status if msg else "missing"
    return _send_claimed(sessions, outbound_id, claimed.to_phone, claimed.text, claimed.provider, providers, now,
                         policy.max_send_attempts, failover=failover).status


def send_due(sessions: sessionmaker, providers: Mapping[str, Provider], policy: Policy, now: datetime,
             limit: int = 10_000, failover: Failover | None = None) -> list[Sent]:
    """Send every message due at `now`, honouring opt-out, quiet hours and one message per ticket."""
    with sessions.begin() as session:
        _suppress_opted_out(session)
        if policy.is_quiet(now):
            _defer_automated(session, now, policy.next_send_time(now))
        _supersede_older(session, now)
    results: list[Sent] = []
    while len(results) < limit:
        batch = _claim_batch(sessions, now, min(CLAIM_BATCH, limit - len(results)), policy.claim_lease)
        if not batch:
            break
        for row in batch:
            results.append(_send_claimed(sessions, row.id, row.to_phone, row.text, row.provider, providers, now,
                                         policy.max_send_attempts, row.kind, row.code, failover))
    return results


def _due(now: datetime, lease: timedelta):
    return or_(and_(OutboundMessage.status == "queued", OutboundMessage.due_at <= now),
               and_(OutboundMessage.status == "sending", OutboundMessage.claimed_at <= now - lease))


def _unlocked(*conditions):
    """Ids of queued automated rows matching `conditions` that no concurrent run holds: bulk updates
    over them never wait on (or deadlock with) another run."""
    return select(OutboundMessage.id).where(
        OutboundMessage.status == "queued", OutboundMessage.automated.is_(True), *conditions
    ).with_for_update(skip_locked=True).scalar_subquery()


def _suppress_opted_out(session) -> None:
    opted_out = select(Citizen.id).where(Citizen.opted_out.is_(True))
    session.execute(update(OutboundMessage).where(
        OutboundMessage.id.in_(_unlocked(OutboundMessage.citizen_id.in_(opted_out))))
        .values(status="suppressed").execution_options(synchronize_session=False))


def _defer_automated(session, now: datetime, morning: datetime) -> None:
    session.execute(update(OutboundMessage).where(
        OutboundMessage.id.in_(_unlocked(OutboundMessage.due_at <= now)))
        .values(due_at=morning).execution_options(synchronize_session=False))


def _supersede_older(session, now: datetime) -> None:
    """Coalesce: of a ticket's due automated messages only the newest goes out."""
    newer = aliased(OutboundMessage)
    session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(_unlocked(
        OutboundMessage.due_at <= now,
        exists().where(newer.ticket_id == OutboundMessage.ticket_id, newer.automated.is_(True),
                       newer.status == "queued", newer.due_at <= now, newer.id > OutboundMessage.id))))
        .values(status="superseded").execution_options(synchronize_session=False))


def _claim(session, outbound_id: int, now: datetime, lease: timedelta):
    """Mark the message sending if it is still due; what sending it needs, or None if it was not due."""
    return session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id, _due(now, lease))
                           .values(status="sending", claimed_at=now)
                           .returning(OutboundMessage.to_phone, OutboundMessage.text, OutboundMessage.provider)
                           .execution_options(synchronize_session=False)).first()


def _claim_batch(sessions: sessionmaker, now: datetime, size: int, lease: timedelta) -> list:
    with sessions.begin() as session:
        candidates = session.scalars(
            select(OutboundMessage.id).where(_due(now, lease)).order_by(OutboundMessage.due_at, OutboundMessage.id)
            .limit(size).with_for_update(skip_locked=True)).all()
        ids = [i for i in candidates if _claim(session, i, now, lease) is not None]
        if not ids:
            return []
        return session.execute(
            select(OutboundMessage.id, OutboundMessage.to_phone, OutboundMessage.text, OutboundMessage.provider,
                   OutboundMessage.kind, Ticket.tracking_code.label("code"))
            .outerjoin(Ticket, Ticket.id == OutboundMessage.ticket_id)
            .where(OutboundMessage.id.in_(ids)).order_by(OutboundMessage.due_at, OutboundMessage.id)).all()


def _send_claimed(sessions: sessionmaker, outbound_id: int, to: str, text: str, provider_name: str,
                  providers: Mapping[str, Provider], now: datetime, max_attempts: int,
                  kind: str = "", code: str | None = None, failover: Failover | None = None) -> Sent:
    if failover is not None:
        provider_name = failover.choose(provider_name, now)
    try:
        result = _send_with(providers, provider_name, to, text, str(outbound_id))
        if failover is not None:
            failover.record(provider_name, True, now)
    except SendError as exc:
        if failover is None or not failover.record(provider_name, False, now):
            status = _record_failure(sessions, outbound_id, str(exc), exc.retryable, now, max_attempts)
            return Sent(outbound_id, to, text, kind, code, status)
        provider_name = failover.fallback  # the main provider has just been given up on: try at once
        try:
            result = _send_with(providers, provider_name, to, text, str(outbound_id))
        except SendError as again:
            status = _record_failure(sessions, outbound_id, str(again), again.retryable, now, max_attempts)
            return Sent(outbound_id, to, text, kind, code, status)
    with sessions.begin() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(
            status="sent", provider=provider_name, provider_message_id=result.provider_message_id,
            attempts=OutboundMessage.attempts + 1, sent_at=now, last_error=None))
    log.info("sent outbound %s to %s via %s", outbound_id, mask_phone(to), provider_name,
             extra={"outbound_id": outbound_id, "to": mask_phone(to), "provider": provider_name, "kind": kind,
                    "status": "sent"})
    return Sent(outbound_id, to, text, kind, code, "sent")


def _send_with(providers: Mapping[str, Provider], name: str, to: str, text: str, local_id: str):
    provider = providers.get(name)
    if provider is None:
        raise SendError(f"provider {name} is not configured", retryable=False)
    return provider.send(to, text, local_id)


def _record_failure(sessions: sessionmaker, outbound_id: int, error: str, retryable: bool, now: datetime,
                    max_attempts: int) -> str:
    with sessions.begin() as session:
        msg = session.get(OutboundMessage, outbound_id)
        msg.attempts += 1
        msg.last_error = error[:500]
        if retryable and msg.attempts < max_attempts:
            msg.status, msg.due_at = "queued", now + retry_delay(msg.attempts)
        else:
            msg.status = "failed"
        status = msg.status
    log.warning("outbound %s attempt failed: %s (now %s)", outbound_id, error, status,
                extra={"outbound_id": outbound_id, "status": status, "error": error})
    return status


def record_delivery(sessions: sessionmaker, report: DeliveryReport) -> bool:
    """Apply a provider's delivery report; False when the message is not ours."""
    with sessions.begin() as session:
        msg = session.scalar(select(OutboundMessage).where(
            OutboundMessage.provider == report.provider,
            OutboundMessage.provider_message_id == report.message_id))
        if msg is None:
            return False
        if not (msg.status == "delivered" and report.status == "sent"):
            msg.status = report.status
        if report.error:
            msg.last_error = report.error
        return True
