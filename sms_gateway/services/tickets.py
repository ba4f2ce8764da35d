"""What staff do to a ticket, one entry per action, shared by the dashboard and the command line. Each
takes the viewer and checks they may see the ticket: one out of their reach reads as not found."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters.models import StaffUser, Ticket, TicketSeen
from ..domain.staff import Viewer
from ..domain.text import persian_digits, to_latin_digits
from ..domain.tickets import CLOSED, STAFF_LABELS, UNIT_STATUSES, IllegalTransition
from ..domain.values import Action, Kind
from . import citizens, lifecycle
from .context import Context
from .staff import viewer_of

MAX_REPLY_CHARS = 670  # ten UCS-2 segments: a long answer is fine, a pasted essay is not
MAX_NOTE_CHARS = 1000


class TicketNotFound(LookupError):
    """Unknown, or out of the viewer's reach: the same either way."""


class Refused(ValueError):
    """A staff action that cannot be done, with the reason in Persian for the page."""


def clean_text(text: str) -> str:
    """What staff typed, as it can be stored and sent: no NUL or other control characters, spaces collapsed."""
    return " ".join("".join(ch for ch in text if ch >= " " or ch in "\n\t").split())


def ticket_for(session: Session, viewer: Viewer, code: str, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.tracking_code == to_latin_digits(code.strip())[:12])
    ticket = session.scalar(query.with_for_update() if lock else query)
    if ticket is None or not viewer.sees_ticket(ticket.region, ticket.unit):
        raise TicketNotFound(code)
    return ticket


def _reach(viewer: Viewer) -> lifecycle.Reach:
    """Which linked tickets an action of this viewer may carry along: those they could act on themselves."""
    return lambda linked: viewer.sees_ticket(linked.region, linked.unit)


def _centre_only(viewer: Viewer, what: str) -> None:
    if viewer.is_unit:
        raise Refused(f"{what} کار مرکز ۱۳۷ است، نه واحد اجرایی")


def change_status(ctx: Context, viewer: Viewer, code: str, status: str, note: str, now: datetime) -> Ticket:
    """The one way staff and scripts change a status; raises Refused with the reason. A unit account may
    set in progress, done and not doable only."""
    if viewer.is_unit and status.strip() not in UNIT_STATUSES:
        raise Refused("واحد اجرایی فقط «در حال انجام»، «انجام شد» یا «قابل انجام نیست» را ثبت می‌کند")
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code, lock=True)
        try:
            lifecycle.change_status(ctx, session, ticket, status.strip(), viewer.username, clean_text(note), now,
                                    reach=_reach(viewer))
        except IllegalTransition as exc:
            raise Refused(f"تغییر وضعیت ممکن نیست: {exc}") from None
        lifecycle.take(ticket, now)
        session.flush()
        session.expunge(ticket)
        return ticket


def refer_to_unit(ctx: Context, viewer: Viewer, code: str, unit: str, note: str, now: datetime) -> Ticket:
    """«ارجاع به واحد»: the 137 centre refers a ticket to an executive unit (a code such as
    «urban_services:2», or its Persian label); the unit's SLA clock starts now. Raises Refused."""
    _centre_only(viewer, "ارجاع به واحد")
    found = ctx.city.unit(unit.strip())
    if found is None:
        raise Refused("واحد اجرایی ناشناخته است")
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code, lock=True)
        if ticket.status in CLOSED:
            raise Refused(f"درخواستی که «{STAFF_LABELS[ticket.status]}» است ارجاع نمی‌شود؛ نخست بازگشایی کنید")
        if ticket.unit == found.code:
            raise Refused(f"درخواست از پیش به «{found.label}» ارجاع شده است")
        try:
            lifecycle.refer(ctx, session, ticket, found.code, found.label, viewer.username, clean_text(note), now,
                            reach=_reach(viewer))
        except IllegalTransition as exc:
            raise Refused(f"ارجاع ممکن نیست: {exc}") from None
        lifecycle.take(ticket, now)
        session.flush()
        session.expunge(ticket)
        return ticket


def return_to_centre(ctx: Context, viewer: Viewer, code: str, reason: str, now: datetime) -> Ticket:
    """A unit sends a ticket back to the 137 centre with a reason (the wrong unit, not municipal work…)."""
    reason = clean_text(reason)
    if not reason:
        raise Refused("دلیل بازگرداندن را بنویسید")
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code, lock=True)
        if ticket.unit is None:
            raise Refused("این درخواست به واحدی ارجاع نشده است")
        try:
            lifecycle.send_back(ctx, session, ticket, ctx.city.unit_label(ticket.unit), viewer.username,
                                reason[:MAX_NOTE_CHARS], now)
        except IllegalTransition as exc:
            raise Refused(str(exc)) from None
        session.flush()
        session.expunge(ticket)
        return ticket


def assign(ctx: Context, viewer: Viewer, code: str, assignee: str, now: datetime) -> Ticket:
    """«ارجاع به همکار»: give the ticket to a colleague who can see it (by username); empty takes it back."""
    assignee = assignee.strip()
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code, lock=True)
        user = session.scalar(select(StaffUser).where(StaffUser.username == assignee)) if assignee else None
        if assignee and (user is None or not user.active):
            raise Refused("چنین همکاری نیست")
        if user is not None and not viewer_of(user).sees_ticket(ticket.region, ticket.unit):
            raise Refused(f"{assignee} به این درخواست دسترسی ندارد")
        new_id = user.id if user is not None else None
        if new_id == ticket.assignee_id:
            raise Refused("چیزی تغییر نکرد")
        ticket.assignee_id, ticket.updated_at = new_id, now
        lifecycle.take(ticket, now)
        lifecycle.record_event(session, ticket.id, viewer.username, Action.ASSIGNED, assignee or "—", now)
        session.flush()
        session.expunge(ticket)
        return ticket


def add_note(ctx: Context, viewer: Viewer, code: str, text: str, now: datetime) -> None:
    """An internal note on the ticket, for staff only: it is never sent to the citizen."""
    text = clean_text(text)
    if not text:
        raise Refused("متن یادداشت خالی است")
    if len(text) > MAX_NOTE_CHARS:
        raise Refused(persian_digits(f"یادداشت بیش از {MAX_NOTE_CHARS} نویسه است"))
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code)
        lifecycle.record_event(session, ticket.id, viewer.username, Action.STAFF_NOTE, text, now)


def reply(ctx: Context, viewer: Viewer, code: str, body: str, now: datetime) -> int:
    """Queue a staff answer to the citizen (the caller sends it once committed); the outbound id. The 137
    centre speaks to citizens; a unit writes internal notes instead."""
    _centre_only(viewer, "پاسخ به شهروند")
    body = clean_text(body)
    if not body:
        raise Refused("متن پاسخ خالی است")
    if len(body) > MAX_REPLY_CHARS:
        raise Refused(f"متن پاسخ بیش از {MAX_REPLY_CHARS} نویسه است")
    with ctx.sessions.begin() as session:
        t = ticket_for(session, viewer, code)
        contact = citizens.contact_address(session, t.contact_id) if t.contact_id else None
        if contact is None:
            raise Refused("برای این شهروند راه تماسی ثبت نیست")
        channel, address = contact
        outbound_id = ctx.outbox.queue_reply(session, citizen_id=t.citizen_id, contact_id=t.contact_id or 0,
                                             channel=channel, address=address, text=body, kind=Kind.STAFF_REPLY,
                                             now=now, ticket_id=t.id)
        t.updated_at = now
        lifecycle.take(t, now)
        lifecycle.record_event(session, t.id, viewer.username, Action.REPLY, body[:200], now)
        return outbound_id


def correct(ctx: Context, viewer: Viewer, code: str, category: str, neighbourhood: str, now: datetime) -> list[str]:
    """Fix the category or place the classifier read; each change is kept as a Correction."""
    _centre_only(viewer, "اصلاح دسته یا محل")
    if category and ctx.city.category(category) is None:
        raise Refused("دسته ناشناخته است")
    place = ctx.city.place(neighbourhood.strip()) if neighbourhood.strip() else None
    if neighbourhood.strip() and place is None:
        raise Refused("محله ناشناخته است")
    with ctx.sessions.begin() as session:
        t = ticket_for(session, viewer, code, lock=True)
        return lifecycle.correct(ctx, session, t, viewer.username, category or None,
                                 place.name if place else None, place.region if place else None, now)


def mark_read(ctx: Context, viewer: Viewer, code: str, now: datetime) -> None:
    """A staff member opened the ticket: what the citizen wrote has been seen, by them (the queue's unread
    marker is per staff member) and by the staff as a whole (Ticket.unread)."""
    with ctx.sessions.begin() as session:
        ticket = ticket_for(session, viewer, code)
        lifecycle.mark_read(session, ticket)
        if viewer.id:  # the command line's viewer is no staff member
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.execute(insert(TicketSeen).values(staff_id=viewer.id, ticket_id=ticket.id, seen_at=now)
                            .on_conflict_do_update(index_elements=["staff_id", "ticket_id"], set_={"seen_at": now}))


def reveal_phone(ctx: Context, viewer: Viewer, code: str, now: datetime) -> None:
    """Write the reveal of the citizen's full number to the ticket's log (the view then shows it)."""
    with ctx.sessions.begin() as session:
        t = ticket_for(session, viewer, code)
        lifecycle.record_event(session, t.id, viewer.username, Action.PHONE_REVEALED, "", now)
