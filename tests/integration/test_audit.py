"""The weekly audit: which tickets a week's draw takes (each unit's, closed in the last whole local week,
Saturday to Friday), how many (the setting), that drawing again adds nothing, and the review."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import AuditSample, Ticket, TicketEvent
from sms_gateway.domain.staff import Viewer, command_line_viewer
from sms_gateway.scheduler import run_audit
from sms_gateway.services import audit, tickets
from sms_gateway.services.tickets import Refused
from tests.support import deliver

OPERATOR = command_line_viewer("op1")
SUPERVISOR = Viewer(90, "sup", "supervisor", None)
KEY = b"test-key"


def closed_ticket(gateway, clock, unit: str, sender: str, text: str = "زباله ها جمع نشده تو کوی بهارستان") -> str:
    code = deliver(gateway, text, sender).ticket_code
    tickets.refer_to_unit(gateway.ctx, OPERATOR, code, unit, "", clock())
    tickets.change_status(gateway.ctx, OPERATOR, code, "done", "", clock())
    return code


def samples(gateway) -> list[AuditSample]:
    with gateway.sessions() as s:
        return list(s.scalars(select(AuditSample).order_by(AuditSample.id)))


def test_the_week_begins_on_saturday_in_tehran():
    # Friday 23:00 in Tehran is still last week; Saturday 00:10 is the new one.
    assert audit.week_start(datetime(2026, 11, 27, 19, 30, tzinfo=UTC), "Asia/Tehran").isoformat() == "2026-11-21"
    assert audit.week_start(datetime(2026, 11, 27, 20, 40, tzinfo=UTC), "Asia/Tehran").isoformat() == "2026-11-28"


def test_each_unit_gets_its_own_sample_of_last_weeks_closed_tickets(gateway, clock):
    region_2 = [closed_ticket(gateway, clock, "urban_services:2", f"0912000000{i}") for i in range(5)]
    region_3 = [closed_ticket(gateway, clock, "urban_services:3", f"0913000000{i}") for i in range(2)]
    still_open = deliver(gateway, "چاله عمیق تو خیابون فین", "09350000000").ticket_code
    tickets.refer_to_unit(gateway.ctx, OPERATOR, still_open, "civil_works:4", "", clock())
    assert audit.draw_weekly_sample(gateway.ctx, clock(), 3, KEY) == 0  # this week is not over yet
    clock.advance(days=7)
    assert audit.draw_weekly_sample(gateway.ctx, clock(), 3, KEY) == 5
    drawn = samples(gateway)
    by_unit = {u: [s for s in drawn if s.unit == u] for u in ("urban_services:2", "urban_services:3")}
    assert len(by_unit["urban_services:2"]) == 3 and len(by_unit["urban_services:3"]) == 2
    assert {s.week for s in drawn} == {"2026-11-21"} and all(s.review == "pending" for s in drawn)
    with gateway.sessions() as s:
        codes = set(s.scalars(select(Ticket.tracking_code).where(Ticket.id.in_([d.ticket_id for d in drawn]))))
        assert s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "sampled")) == 5
    assert codes <= set(region_2) | set(region_3) and still_open not in codes
    assert audit.draw_weekly_sample(gateway.ctx, clock(), 3, KEY) == 0  # safe to run twice
    clock.advance(days=7)
    assert audit.draw_weekly_sample(gateway.ctx, clock(), 3, KEY) == 0  # nothing closed in that week


def test_the_same_week_draws_the_same_tickets_whoever_runs_it(gateway, clock):
    for i in range(6):
        closed_ticket(gateway, clock, "urban_services:2", f"0912000000{i}")
    clock.advance(days=7)
    audit.draw_weekly_sample(gateway.ctx, clock(), 2, KEY)
    first = sorted(s.ticket_id for s in samples(gateway))
    with gateway.sessions.begin() as s:
        s.execute(AuditSample.__table__.delete())
    audit.draw_weekly_sample(gateway.ctx, clock() + timedelta(hours=3), 2, KEY)
    assert sorted(s.ticket_id for s in samples(gateway)) == first


def test_the_sample_size_is_a_setting_and_zero_draws_nothing(gateway, clock):
    for i in range(4):
        closed_ticket(gateway, clock, "urban_services:2", f"0912000000{i}")
    clock.advance(days=7)
    assert run_audit(replace(gateway, settings=gateway.settings.replace(audit_sample_per_unit=0)), clock()) == 0
    assert run_audit(gateway, clock()) == 3 == gateway.settings.audit_sample_per_unit


def test_review_marks_sound_or_reopens_with_a_note(gateway, clock):
    codes = [closed_ticket(gateway, clock, "urban_services:2", f"0912000000{i}") for i in range(2)]
    clock.advance(days=7)
    audit.draw_weekly_sample(gateway.ctx, clock(), 3, KEY)
    first, second = (s.id for s in samples(gateway))
    with pytest.raises(Refused):
        audit.review(gateway.ctx, Viewer(91, "op", "operator", None), first, "sound", "", clock())
    with pytest.raises(Refused):
        audit.review(gateway.ctx, SUPERVISOR, second, "reopened", "  ", clock())
    assert audit.review(gateway.ctx, SUPERVISOR, first, "sound", "", clock()).reviewer == "sup"
    with pytest.raises(Refused):
        audit.review(gateway.ctx, SUPERVISOR, first, "reopened", "دوباره", clock())  # reviewed once only
    audit.review(gateway.ctx, SUPERVISOR, second, "reopened", "کار نیمه‌کاره ماند", clock())
    with gateway.sessions() as s:
        statuses = dict(s.execute(select(Ticket.tracking_code, Ticket.status)).all())
        notes = list(s.scalars(select(TicketEvent.note).where(TicketEvent.action == "reviewed")))
    assert sorted(statuses.values()) == ["done", "reopened"] and set(statuses) == set(codes)
    assert sorted(notes) == ["بازگشایی: کار نیمه‌کاره ماند", "درست"]
    listed = audit.review_list(gateway.ctx, SUPERVISOR)
    assert sorted(s["review"] for s in listed) == ["reopened", "sound"]
    region_4 = Viewer(92, "sup4", "supervisor", 4)
    assert audit.review_list(gateway.ctx, region_4) == []  # a region-bound supervisor sees their region's
