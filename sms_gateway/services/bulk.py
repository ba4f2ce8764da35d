"""Staff actions on several tickets at once, and merging a duplicate into another; one entry each, shared
by the dashboard and the command line."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.staff import Viewer
from ..domain.text import to_latin_digits
from ..domain.tickets import CLOSED, IllegalTransition
from . import lifecycle
from .context import Context
from .tickets import Refused, TicketNotFound, assign, change_status, refer_to_unit, ticket_for

MAX_TICKETS = 200


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (code, the reason in Persian)


def _each(codes: list[str], action: Callable[[str], object]) -> BulkResult:
    """Run one staff action per ticket, each in its own transaction: one refusal leaves the others done."""
    wanted = list(dict.fromkeys(to_latin_digits(c.strip()) for c in codes if c.strip()))
    if len(wanted) > MAX_TICKETS:
        raise Refused(f"در یک کار گروهی حداکثر {MAX_TICKETS} درخواست")
    result = BulkResult()
    for code in wanted:
        try:
            action(code)
            result.changed.append(code)
        except TicketNotFound:
            result.refused.append((code, "پیدا نشد"))
        except Refused as exc:
            result.refused.append((code, str(exc)))
    return result


def close_many(ctx: Context, viewer: Viewer, codes: list[str], status: str, note: str, now: datetime) -> BulkResult:
    """Close each ticket (done, or not doable with the reason each citizen gets) through the one status change."""
    if status not in CLOSED:
        raise Refused("بستن یعنی «انجام شد» یا «قابل انجام نیست»")
    return _each(codes, lambda code: change_status(ctx, viewer, code, status, note, now))


def refer_many(ctx: Context, viewer: Viewer, codes: list[str], unit: str, note: str, now: datetime) -> BulkResult:
    """Refer each ticket to one executive unit (tickets.refer_to_unit, the desk's one referral)."""
    return _each(codes, lambda code: refer_to_unit(ctx, viewer, code, unit, note, now))


def assign_many(ctx: Context, viewer: Viewer, codes: list[str], assignee: str, now: datetime) -> BulkResult:
    """Assign each ticket to one colleague (tickets.assign, the desk's one assignment)."""
    return _each(codes, lambda code: assign(ctx, viewer, code, assignee, now))


def merge(ctx: Context, viewer: Viewer, code: str, into: str, now: datetime) -> str:
    """Merge the duplicate `code` into `into` (or into the ticket `into` is linked to): it follows that
    ticket's status from now on, its citizen getting the same updates, and shows where it went. The code
    of the ticket that survives."""
    with ctx.sessions.begin() as session:
        duplicate = ticket_for(session, viewer, code, lock=True)
        try:
            survivor = ticket_for(session, viewer, into, lock=True)
        except TicketNotFound:
            raise Refused("درخواستِ مقصدِ ادغام پیدا نشد") from None
        try:
            return lifecycle.merge(ctx, session, duplicate, survivor, viewer.username, now)
        except IllegalTransition as exc:
            raise Refused(f"ادغام ممکن نیست: {exc}") from None
