"""The staff queue: filters, counts per status, keyset pages; and who may see which tickets."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, text, true, union_all
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from ..adapters.models import Contact, Ticket, TicketSeen
from ..domain.phones import InvalidPhone, display_phone, mask_phone, normalise_phone
from ..domain.staff import Viewer
from ..domain.text import to_latin_digits
from ..domain.tickets import AWAITING_CITY, CLOSED, OPEN, STAFF_LABELS
from ..domain.values import Action, Channel, Verdict
from . import lifecycle, staff
from .context import Context

PAGE_SIZE = 50
COUNT_CAP = 1_000  # a status chip counts up to this many («۱٬۰۰۰+»): an exact count of a million costs too much
PINNED_MAX = 20
COUNT_BUDGET_MS = 40  # what the status counts may take; past it the chips show no figures
QUERY_CANCELED = "57014"  # PostgreSQL's statement_timeout
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
    unread: bool = False         # the citizen wrote since this staff member last opened the ticket
    q: str = ""                # a tracking code or a phone number
    unit: str = ""             # the code of the unit it is referred to
    assignee_id: int = 0       # «کارهای من»: the viewer's own id, set by the caller, never from the request

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    counts: dict[str, int] | None = field(default_factory=dict)  # per status, at most COUNT_CAP; None: too slow
    pinned: list[dict[str, Any]] = field(default_factory=list)  # emergencies no one has taken (first page)


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition for the tickets this viewer may see."""
    if viewer.is_unit:
        return Ticket.unit == viewer.unit if viewer.unit else Ticket.id.is_(None)
    if viewer.is_admin or viewer.region is None:
        return true()  # not «id IS NOT NULL»: that reads the row, where a count could read only an index
    return or_(Ticket.region == viewer.region, Ticket.region.is_(None))


def contact_shown(channel: str | None, address: str | None, viewer: Viewer, reveal: bool = False) -> str:
    """How staff see the citizen's address: a masked number, a whole one for admins and reveals."""
    if not address:
        return "—"
    if channel not in (None, Channel.SMS):
        return f"{channel}: {address if reveal or viewer.sees_full_phone() else '***' + address[-3:]}"
    return display_phone(address) if reveal or viewer.sees_full_phone() else mask_phone(address)


def unread_by(viewer: Viewer) -> ColumnElement[bool]:
    """An open ticket whose citizen wrote after this staff member last opened it (or never did)."""
    seen_by = aliased(TicketSeen)  # the queue's rows join TicketSeen too
    seen = select(seen_by.ticket_id).where(seen_by.staff_id == viewer.id, seen_by.ticket_id == Ticket.id,
                                           seen_by.seen_at >= Ticket.last_citizen_at).correlate(Ticket)
    return and_(Ticket.last_citizen_at.is_not(None), Ticket.status.in_(sorted(OPEN)), ~exists(seen))


def pinned_condition() -> ColumnElement[bool]:
    """An emergency no one has taken yet (set a status, replied, assigned): it stays on top of the queue."""
    return and_(Ticket.emergency == true(), Ticket.taken_at.is_(None), Ticket.status.in_(sorted(OPEN)))


def _filtered(query: Any, f: QueueFilters, now: datetime, viewer: Viewer) -> Any:
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
        query = query.where(due_column(viewer) < now, Ticket.status.in_(sorted(AWAITING_CITY)))
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
    if f.unread:
        query = query.where(unread_by(viewer))
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


def rows_query(viewer: Viewer) -> Any:
    """A ticket with its contact and when this viewer last opened it: what a queue row is made of."""
    return select(Ticket, Contact.channel, Contact.address, TicketSeen.seen_at) \
        .outerjoin(Contact, Contact.id == Ticket.contact_id) \
        .outerjoin(TicketSeen, and_(TicketSeen.ticket_id == Ticket.id, TicketSeen.staff_id == viewer.id)) \
        .where(visible(viewer))


def rows_of(found: Any, viewer: Viewer, now: datetime) -> list[dict[str, Any]]:
    return [{**row_of(t, channel, address, viewer, now), "unread": is_unread(t, seen_at),
             "pinned": bool(t.emergency and t.taken_at is None and t.status in OPEN)}
            for t, channel, address, seen_at in found]


def is_unread(t: Ticket, seen_at: datetime | None) -> bool:
    """The row's side of unread_by."""
    return (t.last_citizen_at is not None and t.status not in CLOSED
            and (seen_at is None or seen_at < t.last_citizen_at))


def due_column(viewer: Viewer) -> Any:
    """When a ticket is due for this viewer: a unit by its own clock (referral + SLA), others by the
    citizen's (opening + SLA)."""
    return Ticket.unit_due_at if viewer.is_unit else Ticket.expected_at


def _sort_key(f: QueueFilters, viewer: Viewer) -> tuple[Any, bool]:
    """The column a view is ordered by, and whether newest first: the overdue view puts the most days late
    first (earliest due date), every other view the newest request."""
    return (due_column(viewer), False) if f.overdue else (Ticket.opened_at, True)


def counts(ctx: Context, viewer: Viewer, f: QueueFilters, now: datetime) -> dict[str, int] | None:
    """Tickets per status under the other filters, each counted up to COUNT_CAP, in one statement given
    COUNT_BUDGET_MS on PostgreSQL: a view whose filters no index serves gets no figures (None) rather
    than a slow page."""
    others = QueueFilters(**{**f.__dict__, "status": ""})
    parts = []
    for status in STAFF_LABELS:
        if (f.overdue and status not in AWAITING_CITY) or (f.unread and status not in OPEN):
            continue  # none can match: no need to look through them all to find that out
        capped = _filtered(select(Ticket.id).where(visible(viewer), Ticket.status == status), others, now, viewer) \
            .limit(COUNT_CAP).subquery()
        parts.append(select(literal(status).label("status"), func.count().label("n")).select_from(capped))
    with ctx.sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL statement_timeout = {COUNT_BUDGET_MS}"))
        try:
            return {status: n for status, n in session.execute(union_all(*parts)).all() if n}
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != QUERY_CANCELED:
                raise
            return None


def queue(ctx: Context, viewer: Viewer, f: QueueFilters, now: datetime, cursor: str = "",
          page_size: int = PAGE_SIZE, summary: bool = True) -> QueuePage:
    """Newest first (the overdue view: most days late first), keyset-paginated on (sort key, id) so page
    1,000 costs what page 1 costs; the first page carries the pinned emergencies. A search by staff who see
    masked numbers is counted (raises staff.TooManySearches), and a search by phone number is a reveal,
    logged on every ticket it finds."""
    hidden = not viewer.sees_full_phone()
    if f.q.strip() and hidden:
        staff.count_search(ctx.sessions, viewer, now)
    key, newest_first = _sort_key(f, viewer)
    query = _filtered(rows_query(viewer), f, now, viewer)
    after = decode_cursor(cursor) if cursor else None
    if after and newest_first:
        query = query.where(or_(key < after[0], and_(key == after[0], Ticket.id < after[1])))
    elif after:
        query = query.where(or_(key > after[0], and_(key == after[0], Ticket.id > after[1])))
    order = (key.desc(), Ticket.id.desc()) if newest_first else (key.asc(), Ticket.id.asc())
    with ctx.sessions() as session:
        found = session.execute(query.order_by(*order).limit(page_size + 1)).all()
        pinned = [] if cursor or not summary else session.execute(
            rows_query(viewer).where(pinned_condition()).order_by(Ticket.opened_at).limit(PINNED_MAX)).all()
    if hidden and found and searched_phone(f.q):
        with ctx.sessions.begin() as session:
            lifecycle.record_events(session, [(row[0].id, viewer.username, Action.PHONE_REVEALED, SEARCH_REVEAL)
                                              for row in found[:page_size]], now)
    pinned_rows = rows_of(pinned, viewer, now)
    on_top = {r["code"] for r in pinned_rows}
    rows = [r for r in rows_of(found[:page_size], viewer, now) if r["code"] not in on_top]
    last = found[page_size - 1][0] if len(found) > page_size else None
    return QueuePage(rows, encode_cursor(getattr(last, key.key), last.id) if last else None,
                     counts(ctx, viewer, f, now) if summary else {}, pinned_rows)


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
        "due_at": (due := t.unit_due_at if viewer.is_unit else t.expected_at),
        "days_late": (now - due).days if due and due < now else 0,
    }
