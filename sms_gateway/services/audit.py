"""The weekly audit: a random sample of each unit's closed tickets goes to a supervisor's «بازبینی» list;
the reviewer finds each sound, or reopens it with a note."""
from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters.models import AuditSample, Ticket
from ..domain.staff import Viewer
from ..domain.tickets import CLOSED, IllegalTransition
from ..domain.values import ACTOR_SYSTEM, Action, Review, Status
from . import lifecycle
from .context import Context
from .queue import visible
from .tickets import Refused, clean_text

SATURDAY = 5  # date.weekday(): the Iranian week begins on Saturday


def week_start(moment: datetime, timezone: str) -> date:
    """The Saturday that began the local week `moment` falls in."""
    day = moment.astimezone(ZoneInfo(timezone)).date()
    return day - timedelta(days=(day.weekday() - SATURDAY) % 7)


def draw_weekly_sample(ctx: Context, now: datetime, size: int, key: bytes) -> int:
    """Sample the last whole week's closed tickets of every unit (`size` each) for review; how many were
    added. A plain function of `now`, safe to run twice or at once: a unit's draw is seeded by the week,
    the unit and `key` (a secret: units cannot foresee it), and a ticket is drawn once per week."""
    zone = ZoneInfo(ctx.policy.timezone)
    first = week_start(now, ctx.policy.timezone) - timedelta(days=7)
    start, end = datetime.combine(first, time(0), zone), datetime.combine(first + timedelta(days=7), time(0), zone)
    week = first.isoformat()
    added = 0
    with ctx.sessions.begin() as session:
        done = set(session.scalars(select(AuditSample.unit).where(AuditSample.week == week).distinct()))
        for unit in (u.code for u in ctx.city.units if u.code not in done):
            closed = sorted(session.scalars(select(Ticket.id).where(
                Ticket.unit == unit, Ticket.closed_at >= start, Ticket.closed_at < end,
                Ticket.status.in_(sorted(CLOSED)))))
            if not closed or size <= 0:
                continue
            seed = hmac.new(key, f"{week}:{unit}".encode(), hashlib.sha256).digest()
            drawn = random.Random(seed).sample(closed, min(size, len(closed)))
            added += _insert(session, [dict(ticket_id=t, unit=unit, week=week, sampled_at=now,
                                            review=Review.PENDING, note="") for t in sorted(drawn)], now)
    return added


def _insert(session: Session, rows: list[dict[str, Any]], now: datetime) -> int:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    new = session.scalars(insert(AuditSample).values(rows).on_conflict_do_nothing(
        index_elements=["week", "ticket_id"]).returning(AuditSample.ticket_id)).all()
    lifecycle.record_events(session, [(t, ACTOR_SYSTEM, Action.SAMPLED, "نمونه بازبینی هفتگی") for t in new], now)
    return len(new)


def review_list(ctx: Context, viewer: Viewer, limit: int = 200) -> list[dict[str, Any]]:
    """The «بازبینی» list: samples still to review first (oldest week first), then the latest reviewed."""
    if not viewer.reviews:
        raise Refused("بازبینی کار سرپرست است")
    query = select(AuditSample, Ticket).join(Ticket, Ticket.id == AuditSample.ticket_id).where(visible(viewer))
    with ctx.sessions() as session:
        pending = session.execute(query.where(AuditSample.review == Review.PENDING)
                                  .order_by(AuditSample.week, AuditSample.unit, AuditSample.id).limit(limit)).all()
        reviewed = session.execute(query.where(AuditSample.review != Review.PENDING)
                                   .order_by(AuditSample.reviewed_at.desc()).limit(50)).all()
    return [{"id": s.id, "code": t.tracking_code, "unit": s.unit, "unit_label": ctx.city.unit_label(s.unit),
             "week": s.week, "review": s.review, "reviewer": s.reviewer, "reviewed_at": s.reviewed_at,
             "note": s.note, "status": t.status, "category": t.category, "neighbourhood": t.neighbourhood,
             "region": t.region, "closed_at": t.closed_at, "verdict": t.verdict,
             "summary": " ".join(t.description.split())[:90]} for s, t in [*pending, *reviewed]]


def review(ctx: Context, viewer: Viewer, sample_id: int, outcome: str, note: str, now: datetime) -> AuditSample:
    """The reviewer's finding on one sample: sound, or reopened (the ticket reopens; a note is needed)."""
    note = clean_text(note)[:1000]
    if not viewer.reviews:
        raise Refused("بازبینی کار سرپرست است")
    if outcome not in (Review.SOUND, Review.REOPENED):
        raise Refused("نتیجه بازبینی باید «درست» یا «بازگشایی» باشد")
    if outcome == Review.REOPENED and not note:
        raise Refused("برای بازگشایی، یادداشت بنویسید: واحد باید بداند چه چیزی درست نبود")
    with ctx.sessions.begin() as session:
        sample = session.get(AuditSample, sample_id, with_for_update=True)
        ticket = session.get(Ticket, sample.ticket_id, with_for_update=True) if sample else None
        if sample is None or ticket is None or not viewer.sees_ticket(ticket.region, ticket.unit):
            raise Refused("چنین نمونه‌ای نیست")
        if sample.review != Review.PENDING:
            raise Refused("این نمونه پیش‌تر بازبینی شده است")
        label = "درست" if outcome == Review.SOUND else "بازگشایی"
        lifecycle.record_event(session, ticket.id, viewer.username, Action.REVIEWED,
                               f"{label}: {note}" if note else label, now)
        if outcome == Review.REOPENED:
            try:
                lifecycle.change_status(ctx, session, ticket, Status.REOPENED, viewer.username, note, now)
            except IllegalTransition as exc:
                raise Refused(f"بازگشایی ممکن نیست: {exc}") from None
        sample.review, sample.reviewer, sample.reviewed_at, sample.note = outcome, viewer.username, now, note
        session.flush()
        session.expunge(sample)
        return sample
