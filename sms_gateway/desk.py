"""What staff do at the 137 desk: read the queue and a thread, reply, correct, change status, reveal.

Each use case takes the session factory and the Viewer and checks the viewer may see the ticket; a
ticket out of the viewer's region reads as not found.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from . import domain, lifecycle
from .lifecycle import FollowUps, TicketNotFound
from .models import Citizen, Correction, InboundMessage, OutboundMessage, Ticket, TicketEvent
from .phone import InvalidPhone, display_phone, mask_phone, normalise_phone
from .segments import count_segments
from .staff import Viewer
from .understanding.normalize import to_latin_digits

PAGE_SIZE = 50
STATUS_ORDER = (domain.REFERRED, domain.IN_PROGRESS, domain.DONE, domain.NOT_DOABLE, domain.NEEDS_INFO,
                domain.REGISTERED, domain.REOPENED)  # the order staff usually move a ticket in
MAX_REPLY_CHARS = 670  # ten UCS-2 segments: a long answer is fine, a pasted essay is not


class DeskError(ValueError):
    """A staff action that cannot be done, with the reason in Persian for the page."""


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    category: str = ""
    region: str = ""           # "1".."5", "none" for unassigned, "" for all
    neighbourhood: str = ""
    overdue: bool = False
    objections: bool = False
    incomplete: bool = False
    q: str = ""                # a tracking code or a phone number

    def active(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class QueuePage:
    rows: list[dict]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


def visible(viewer: Viewer):
    """The SQL condition for the tickets this viewer may see."""
    if viewer.is_admin or viewer.region is None:
        return True
    return or_(Ticket.region == viewer.region, Ticket.region.is_(None))


def _filtered(query, f: QueueFilters, now: datetime):
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
        query = query.where(Ticket.expected_at < now, Ticket.status.in_(domain.AWAITING_CITY))
    if f.objections:
        query = query.where(or_(Ticket.verdict == "objected", Ticket.supervisor_flag.is_(True)))
    if f.incomplete:
        query = query.where(Ticket.incomplete.is_(True))
    q = to_latin_digits(f.q.strip())
    if q:
        code = q.replace("-", "").replace(" ", "")
        try:
            phone = normalise_phone(q)
        except InvalidPhone:
            phone = None
        conditions = [Ticket.tracking_code == code]
        if phone and len(code) >= 10:
            conditions.append(Ticket.citizen_id.in_(select(Citizen.id).where(Citizen.phone == phone)))
        query = query.where(or_(*conditions))
    return query


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


def queue(sessions: sessionmaker, viewer: Viewer, f: QueueFilters, now: datetime, cursor: str = "",
          page_size: int = PAGE_SIZE) -> QueuePage:
    """Newest first, keyset-paginated on (opened_at, id) so page 1,000 costs what page 1 costs."""
    query = select(Ticket, Citizen.phone).join(Citizen, Citizen.id == Ticket.citizen_id).where(visible(viewer))
    query = _filtered(query, f, now)
    after = decode_cursor(cursor) if cursor else None
    if after:
        query = query.where(or_(Ticket.opened_at < after[0], and_(Ticket.opened_at == after[0], Ticket.id < after[1])))
    query = query.order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(page_size + 1)
    with sessions() as session:
        found = session.execute(query).all()
        counts = dict(session.execute(
            _filtered(select(Ticket.status, func.count(Ticket.id)).where(visible(viewer)),
                      QueueFilters(**{**f.__dict__, "status": ""}), now).group_by(Ticket.status)).all())
    rows = [_row(t, phone, viewer, now) for t, phone in found[:page_size]]
    next_cursor = encode_cursor(found[page_size - 1][0].opened_at, found[page_size - 1][0].id) \
        if len(found) > page_size else None
    return QueuePage(rows, next_cursor, counts)


def _row(t: Ticket, phone: str, viewer: Viewer, now: datetime) -> dict:
    return {
        "code": t.tracking_code, "status": t.status, "category": t.category, "neighbourhood": t.neighbourhood,
        "region": t.region, "emergency": t.emergency, "opened_at": t.opened_at, "expected_at": t.expected_at,
        "overdue": bool(t.expected_at and t.expected_at < now and t.status in domain.AWAITING_CITY),
        "objected": t.verdict == "objected" or t.supervisor_flag, "incomplete": t.incomplete,
        "phone": display_phone(phone) if viewer.sees_full_phone() else mask_phone(phone),
        "summary": " ".join(t.description.split())[:90], "linked": t.linked_to_id is not None,
    }


def _ticket_for(session: Session, viewer: Viewer, code: str, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.tracking_code == to_latin_digits(code.strip()))
    ticket = session.scalar(query.with_for_update() if lock else query)
    if ticket is None or not viewer.sees_region(ticket.region):
        raise TicketNotFound(code)
    return ticket


def thread(sessions: sessionmaker, viewer: Viewer, code: str, now: datetime, reveal: bool = False) -> dict:
    """The ticket with every message and event in time order, and its linked reports."""
    with sessions() as session:
        t = _ticket_for(session, viewer, code)
        phone = session.scalar(select(Citizen.phone).where(Citizen.id == t.citizen_id))
        items = [{"at": m.received_at, "kind": "inbound", "text": m.text}
                 for m in session.scalars(select(InboundMessage).where(InboundMessage.ticket_id == t.id))]
        items += [{"at": m.created_at, "kind": "outbound", "text": m.text, "status": m.status, "what": m.kind,
                   "segments": m.segments, "due_at": m.due_at, "error": m.last_error}
                  for m in session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == t.id))]
        items += [{"at": e.at, "kind": "event", "actor": e.actor, "action": e.action, "text": e.note}
                  for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
        items.sort(key=lambda i: (i["at"], {"inbound": 0, "event": 1, "outbound": 2}[i["kind"]]))
        linked_ids = [t.linked_to_id] if t.linked_to_id else []
        linked = session.execute(select(Ticket.tracking_code, Ticket.status).where(or_(
            Ticket.linked_to_id == t.id, Ticket.id.in_(linked_ids)))).all()
        row = _row(t, phone, viewer, now)
        row.update(description=t.description, verdict=t.verdict, asked=t.asked, closed_at=t.closed_at,
                   full_phone=display_phone(phone) if (reveal or viewer.sees_full_phone()) else None,
                   linked_codes=[(c, s) for c, s in linked], primary=t.linked_to_id is None,
                   allowed=[s for s in STATUS_ORDER if s in domain.TRANSITIONS[t.status]],
                   items=items)
        return row


def reveal_phone(sessions: sessionmaker, viewer: Viewer, code: str, now: datetime) -> None:
    """Write the reveal of the citizen's full number to the ticket's log (thread(reveal=True) shows it)."""
    with sessions.begin() as session:
        t = _ticket_for(session, viewer, code)
        lifecycle.record_event(session, t, viewer.username, "phone_revealed", "", now)


def reply(sessions: sessionmaker, viewer: Viewer, code: str, body: str, fu: FollowUps) -> int:
    """Queue a staff answer to the citizen (sent at once by the caller); returns the outbound id."""
    body = " ".join(body.split())
    if not body:
        raise DeskError("متن پاسخ خالی است")
    if len(body) > MAX_REPLY_CHARS:
        raise DeskError(f"متن پاسخ بیش از {MAX_REPLY_CHARS} نویسه است")
    now = fu.clock()
    with sessions.begin() as session:
        t = _ticket_for(session, viewer, code)
        phone = session.scalar(select(Citizen.phone).where(Citizen.id == t.citizen_id))
        message = OutboundMessage(citizen_id=t.citizen_id, to_phone=phone, text=body, segments=count_segments(body),
                                  kind="staff_reply", provider=fu.outbound_provider, status="queued",
                                  automated=False, attempts=0, ticket_id=t.id, created_at=now, due_at=now)
        session.add(message)
        t.updated_at = now
        lifecycle.record_event(session, t, viewer.username, "reply", body[:200], now)
        session.flush()
        return message.id


def change_status(sessions: sessionmaker, viewer: Viewer, code: str, status: str, note: str, fu: FollowUps) -> None:
    with sessions.begin() as session:
        t = _ticket_for(session, viewer, code, lock=True)
        try:
            lifecycle.change_status(session, t, status, viewer.username, note.strip(), fu, fu.clock())
        except domain.IllegalTransition as exc:
            raise DeskError(f"تغییر وضعیت ممکن نیست: {exc}") from None


def correct(sessions: sessionmaker, viewer: Viewer, code: str, category: str, neighbourhood: str,
            fu: FollowUps) -> list[str]:
    """Fix the category or place the classifier read; each change is kept as a Correction."""
    city = fu.city
    if category and city.category(category) is None:
        raise DeskError("دسته ناشناخته است")
    place = city.place(neighbourhood) if neighbourhood else None
    if neighbourhood and place is None:
        raise DeskError("محله ناشناخته است")
    now = fu.clock()
    changed = []
    with sessions.begin() as session:
        t = _ticket_for(session, viewer, code, lock=True)
        if category and category != t.category:
            _correction(session, t, "category", t.category, category, viewer, now)
            t.category = category
            t.expected_at = lifecycle.expected_completion(t, fu)
            changed.append("category")
        if place is not None and place.name != t.neighbourhood:
            _correction(session, t, "neighbourhood", t.neighbourhood, place.name, viewer, now)
            t.neighbourhood, t.region = place.name, place.region
            changed.append("neighbourhood")
        if changed:
            t.updated_at = now
            t.incomplete = domain.is_incomplete(t.neighbourhood, t.category)
    return changed


def _correction(session: Session, t: Ticket, field_name: str, old: str | None, new: str, viewer: Viewer,
                now: datetime) -> None:
    session.add(Correction(ticket_id=t.id, field=field_name, old_value=old, new_value=new, text=t.description,
                           staff=viewer.username, at=now))
    lifecycle.record_event(session, t, viewer.username, "corrected", f"{field_name}: {old or '-'} → {new}", now)
