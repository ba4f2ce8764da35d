"""The staff queue: filters, counts per status, keyset pages; and who may see which tickets."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import ColumnElement

from ..adapters.models import Contact, Ticket
from ..domain.phones import InvalidPhone, display_phone, mask_phone, normalise_phone
from ..domain.staff import Viewer
from ..domain.text import to_latin_digits
from ..domain.tickets import AWAITING_CITY
from ..domain.values import Action, Channel, Verdict
from . import lifecycle, staff
from .context import Context

PAGE_SIZE = 50
SEARCH_REVEAL = "جستجو با شماره"  # the note on a reveal made by searching the queue for a number


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    category: str = ""
    region: str = ""           # a region number, "none" for unassigned, "" for all
    neighbourhood: str = ""
    overdue: bool = False
    objections: bool = False
    incomplete: bool = False
    uncategorised: bool = False  # the classifier found no category: staff triage these
    channel: str = ""          # where the request came in: sms, phone, web, open311, bale
    q: str = ""                # a tracking code or a phone number
    unit: str = ""             # the code of the unit it is referred to
    assignee_id: int = 0       # «کارهای من»: the viewer's own id, set by the caller, never from the request

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition for the tickets this viewer may see."""
    if viewer.is_unit:
        return Ticket.unit == viewer.unit if viewer.unit else Ticket.id.is_(None)
    if viewer.is_admin or viewer.region is None:
        return Ticket.id.is_not(None)
    return or_(Ticket.region == viewer.region, Ticket.region.is_(None))


def contact_shown(channel: str | None, address: str | None, viewer: Viewer, reveal: bool = False) -> str:
    """How staff see the citizen's address: a masked number, a whole one for admins and reveals."""
    if not address:
        return "—"
    if channel not in (None, Channel.SMS):
        return f"{channel}: {address if reveal or viewer.sees_full_phone() else '***' + address[-3:]}"
    return display_phone(address) if reveal or viewer.sees_full_phone() else mask_phone(address)


def _filtered(query: Any, f: QueueFilters, now: datetime) -> Any:
    if f.status:
        query = query.where(Ticket.status == f.status)
    if f.category:
        query = query.where(Ticket.category == f.category)
    if f.region == "none":
        query = query.where(Ticket.region.is_(None))
    elif f.region.isdigit():
        query = query.where(Ticket.region == int(f.region))
    if f.neighbourhood:
        query = query.where(Ticket.neighbourhood == f.neighbourhood)
    if f.overdue:
        query = query.where(Ticket.expected_at < now, Ticket.status.in_(sorted(AWAITING_CITY)))
    if f.objections:
        query = query.where(or_(Ticket.verdict == Verdict.OBJECTED, Ticket.supervisor_flag.is_(True)))
    if f.incomplete:
        query = query.where(Ticket.incomplete.is_(True))
    if f.uncategorised:
        query = query.where(Ticket.category.is_(None))
    if f.channel:
        query = query.where(Ticket.channel == f.channel)
    if f.unit:
        query = query.where(Ticket.unit == f.unit)
    if f.assignee_id:
        query = query.where(Ticket.assignee_id == f.assignee_id)
    q = to_latin_digits(f.q.strip())
    if q:
        conditions = [Ticket.tracking_code == q.replace("-", "").replace(" ", "")[:12]]
        if phone := searched_phone(f.q):  # a whole number only: a part of one never matches
            conditions.append(Ticket.citizen_id.in_(select(Contact.citizen_id).where(
                Contact.channel == Channel.SMS, Contact.address == phone)))
        query = query.where(or_(*conditions))
    return query


def searched_phone(q: str) -> str | None:
    """The phone number a search is for, as stored (+98…), or None when it is not one."""
    q = to_latin_digits(q.strip())
    if len(q.replace("-", "").replace(" ", "")) < 10:
        return None
    try:
        return normalise_phone(q)
    except InvalidPhone:
        return None


def encode_cursor(opened_at: datetime, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"{opened_at.isoformat()}|{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, ticket_id = raw.split("|")
        moment = datetime.fromisoformat(when)
        return (moment, int(ticket_id)) if moment.tzinfo else None
    except (ValueError, UnicodeDecodeError):
        return None


def queue(ctx: Context, viewer: Viewer, f: QueueFilters, now: datetime, cursor: str = "",
          page_size: int = PAGE_SIZE) -> QueuePage:
    """Newest first, keyset-paginated on (opened_at, id) so page 1,000 costs what page 1 costs. A search
    by staff who see masked numbers is counted (raises staff.TooManySearches), and a search by phone
    number is a reveal, logged on every ticket it finds."""
    hidden = not viewer.sees_full_phone()
    if f.q.strip() and hidden:
        staff.count_search(ctx.sessions, viewer, now)
    query = select(Ticket, Contact.channel, Contact.address).outerjoin(Contact, Contact.id == Ticket.contact_id) \
        .where(visible(viewer))
    query = _filtered(query, f, now)
    after = decode_cursor(cursor) if cursor else None
    if after:
        query = query.where(or_(Ticket.opened_at < after[0], and_(Ticket.opened_at == after[0], Ticket.id < after[1])))
    query = query.order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(page_size + 1)
    with ctx.sessions() as session:
        found = session.execute(query).all()
        counts = dict(session.execute(
            _filtered(select(Ticket.status, func.count(Ticket.id)).where(visible(viewer)),
                      QueueFilters(**{**f.__dict__, "status": ""}), now).group_by(Ticket.status)).all())
    if hidden and found and searched_phone(f.q):
        with ctx.sessions.begin() as session:
            lifecycle.record_events(session, [(t.id, viewer.username, Action.PHONE_REVEALED, SEARCH_REVEAL)
                                              for t, _, _ in found[:page_size]], now)
    rows = [row_of(t, channel, address, viewer, now) for t, channel, address in found[:page_size]]
    last = found[page_size - 1][0] if len(found) > page_size else None
    return QueuePage(rows, encode_cursor(last.opened_at, last.id) if last else None, counts)


def row_of(t: Ticket, channel: str | None, address: str | None, viewer: Viewer, now: datetime,
           reveal: bool = False) -> dict[str, Any]:
    """One ticket as staff read it in a list or at the top of its page."""
    return {
        "code": t.tracking_code, "status": t.status, "intent": t.intent, "category": t.category,
        "neighbourhood": t.neighbourhood, "region": t.region, "emergency": t.emergency, "channel": t.channel,
        "opened_at": t.opened_at, "updated_at": t.updated_at, "expected_at": t.expected_at,
        "overdue": bool(t.expected_at and t.expected_at < now and t.status in AWAITING_CITY),
        "objected": t.verdict == Verdict.OBJECTED or t.supervisor_flag, "incomplete": t.incomplete,
        "phone": contact_shown(channel, address, viewer, reveal),
        "summary": " ".join(t.description.split())[:90], "linked": t.linked_to_id is not None, "unread": t.unread,
        "text": t.description, "closed_at": t.closed_at,
        "unit": t.unit, "referred_at": t.referred_at, "unit_due_at": t.unit_due_at, "assigned": t.assignee_id,
        "unit_overdue": bool(t.unit_due_at and t.unit_due_at < now and t.status in AWAITING_CITY),
    }
