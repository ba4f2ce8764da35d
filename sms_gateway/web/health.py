"""/healthz for monitoring: is the database reachable, when did the scheduler last run (no counts: it is
open to anyone). /metrics, with the counts, is closed unless a token or an address allow-list is set."""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..adapters.models import InboundMessage, JobRun, OutboundMessage, Ticket
from ..domain.values import OutboxStatus
from ..services.intake import CLASSIFY_TIME

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    gateway = current_app.extensions["sms_gateway"]
    try:
        with gateway.sessions() as session:  # reading the runs is the reachability check too
            runs = dict(session.execute(select(JobRun.name, JobRun.last_run_at)).all())
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    last = runs.get("run_due")
    age = (gateway.clock() - last).total_seconds() if last else None
    return jsonify(status="ok", database="ok", scheduler_last_run=last.isoformat() if last else None,
                   scheduler_age_seconds=round(age) if age is not None else None)


OUTBOUND_STATUSES = tuple(OutboxStatus)


def _metrics_refusal(token: str, allow: tuple[str, ...]) -> tuple[Response, int, dict[str, str]] | None:
    """Why this request may not read /metrics, as the answer to give; None when it may. Each of the two
    settings that is set must be satisfied; with neither, /metrics does not exist."""
    if not token and not allow:
        abort(404)
    if allow and not _allowed(request.remote_addr or "", allow):
        return jsonify(error="address not allowed"), 403, {}
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and not (scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())):
        return jsonify(error="bearer token required"), 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    return None


def _allowed(address: str, allow: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in allow)


@bp.get("/metrics")
def metrics():
    """Prometheus text format. Database figures are the same from every worker; classify time is this
    worker's own."""
    gateway = current_app.extensions["sms_gateway"]
    if refusal := _metrics_refusal(gateway.settings.metrics_token, gateway.settings.metrics_allow):
        return refusal
    now = gateway.clock()
    with gateway.sessions() as session:
        inbound = session.scalar(select(func.count(InboundMessage.id))) or 0
        outbound = dict(session.execute(select(OutboundMessage.status, func.count(OutboundMessage.id))
                                        .group_by(OutboundMessage.status)).all())
        oldest_due = session.scalar(select(func.min(OutboundMessage.due_at)).where(
            OutboundMessage.status == OutboxStatus.QUEUED, OutboundMessage.due_at <= now))
        tickets = dict(session.execute(select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)).all())
        last_run = session.scalar(select(JobRun.last_run_at).where(JobRun.name == "run_due"))
    lines = [
        "# HELP sms_gateway_inbound_messages_total Inbound SMS stored.",
        "# TYPE sms_gateway_inbound_messages_total counter",
        f"sms_gateway_inbound_messages_total {inbound}",
        "# HELP sms_gateway_outbound_messages Outbound SMS by status.",
        "# TYPE sms_gateway_outbound_messages gauge",
        *(f'sms_gateway_outbound_messages{{status="{s}"}} {outbound.get(s, 0)}' for s in OUTBOUND_STATUSES),
        "# HELP sms_gateway_outbox_queue_depth Messages waiting to be sent (queued or being sent).",
        "# TYPE sms_gateway_outbox_queue_depth gauge",
        f"sms_gateway_outbox_queue_depth {outbound.get('queued', 0) + outbound.get('sending', 0)}",
        "# HELP sms_gateway_outbox_oldest_due_age_seconds How late the oldest due message is.",
        "# TYPE sms_gateway_outbox_oldest_due_age_seconds gauge",
        f"sms_gateway_outbox_oldest_due_age_seconds {(now - oldest_due).total_seconds() if oldest_due else 0:.0f}",
        "# HELP sms_gateway_tickets Tickets by status.",
        "# TYPE sms_gateway_tickets gauge",
        *(f'sms_gateway_tickets{{status="{s}"}} {n}' for s, n in sorted(tickets.items())),
        "# HELP sms_gateway_scheduler_last_run_timestamp_seconds When run_due last ran.",
        "# TYPE sms_gateway_scheduler_last_run_timestamp_seconds gauge",
        f"sms_gateway_scheduler_last_run_timestamp_seconds {last_run.timestamp() if last_run else 0:.0f}",
        "# HELP sms_gateway_classify_seconds Time spent understanding inbound texts in this worker.",
        "# TYPE sms_gateway_classify_seconds summary",
        f"sms_gateway_classify_seconds_sum {CLASSIFY_TIME.total:.6f}",
        f"sms_gateway_classify_seconds_count {CLASSIFY_TIME.count}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
