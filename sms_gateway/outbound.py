"""Use cases on outbound messages: send one that is queued, record a delivery report."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from providers.base import DeliveryReport, Provider, SendError

from .models import OutboundMessage
from .phone import mask_phone

log = logging.getLogger("sms_gateway.outbound")
MAX_ATTEMPTS = 6


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, 8, 16 minutes…"""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def deliver(sessions: sessionmaker, outbound_id: int, providers: Mapping[str, Provider],
            clock: Callable[[], datetime]) -> str:
    """Send a queued message through its provider; returns its new status."""
    with sessions.begin() as session:
        msg = session.get(OutboundMessage, outbound_id)
        if msg is None or msg.status != "queued":
            return msg.status if msg else "missing"
        to, text, provider_name, local_id = msg.to_phone, msg.text, msg.provider, str(msg.id)
    try:
        result = providers[provider_name].send(to, text, local_id)
    except SendError as exc:
        return _record_failure(sessions, outbound_id, str(exc), exc.retryable, clock())
    with sessions.begin() as session:
        msg = session.get(OutboundMessage, outbound_id)
        msg.status, msg.provider_message_id = "sent", result.provider_message_id
        msg.attempts += 1
        msg.sent_at = clock()
    log.info("sent outbound %s to %s via %s (%d segments)", outbound_id, mask_phone(to), provider_name,
             msg.segments)
    return "sent"


def _record_failure(sessions: sessionmaker, outbound_id: int, error: str, retryable: bool, now: datetime) -> str:
    with sessions.begin() as session:
        msg = session.get(OutboundMessage, outbound_id)
        msg.attempts += 1
        msg.last_error = error
        if retryable and msg.attempts < MAX_ATTEMPTS:
            msg.due_at = now + retry_delay(msg.attempts)
        else:
            msg.status = "failed"
        status = msg.status
    log.warning("outbound %s attempt failed: %s (now %s)", outbound_id, error, status)
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
