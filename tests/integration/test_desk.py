"""The desk (issue 16): referral to executive units with the unit's own SLA clock, what a unit account
sees and may do, sending back to the 137 centre, assignment to colleagues, internal notes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import OutboundMessage, Ticket, TicketEvent
from sms_gateway.domain.city import CITIES_DIR, load_city
from sms_gateway.domain.staff import command_line_viewer
from sms_gateway.services import tickets
from sms_gateway.services.queue import QueueFilters, queue
from sms_gateway.services.staff import StaffError, create_staff, viewer_of
from sms_gateway.services.ticket_view import ticket_view
from sms_gateway.services.tickets import Refused, TicketNotFound
from tests.support import deliver

GARBAGE_REGION_2 = "زباله ها جمع نشده تو کوی بهارستان"   # garbage (24 h), region 2
POTHOLE_REGION_4 = "چاله عمیق تو خیابون فین"              # asphalt, region 4
OPERATOR = command_line_viewer("op1")


def open_ticket(gateway, text: str, sender: str = "09121234567") -> str:
    code = deliver(gateway, text, sender).ticket_code
    assert code
    return code


def unit_account(gateway, username: str, department: str, region: int | None):
    user = create_staff(gateway.sessions, username, "unit-pass-137", "unit", region, gateway.clock(),
                        department=department, city=gateway.city)
    return viewer_of(user)


def outbox_texts(gateway) -> list[str]:
    with gateway.sessions() as s:
        return list(s.scalars(select(OutboundMessage.text).order_by(OutboundMessage.id)))


@pytest.mark.parametrize("city", ["kashan", "isfahan"])
def test_both_cities_list_units_per_department_and_region(city):
    data = load_city(city)
    assert data.unit("urban_services:2").label == "خدمات شهری منطقه ۲"
    assert data.unit("خدمات شهری منطقه ۲").code == "urban_services:2"
    assert data.unit_for("garbage", 2).code == "urban_services:2"
    assert data.unit_for("garbage", None).code == "urban_services"
    assert {u.department for u in data.units} == set(data.departments)
    assert all(u.region is None or data.region_name(u.region) for u in data.units)


def test_a_city_file_naming_an_unknown_department_for_a_unit_fails_loudly(tmp_path):
    source = (CITIES_DIR / "kashan.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(source + '\n[[unit]]\ndepartment = "fire_brigade"\n')
    with pytest.raises(ValueError, match="fire_brigade"):
        load_city(str(bad))


def test_referral_starts_the_units_clock_and_only_that_unit_sees_the_ticket(gateway, clock):
    code = open_ticket(gateway, GARBAGE_REGION_2)
    other = open_ticket(gateway, POTHOLE_REGION_4, "09130000000")
    region_2 = unit_account(gateway, "khadamat2", "urban_services", 2)
    region_3 = unit_account(gateway, "khadamat3", "urban_services", 3)
    clock.advance(hours=5)
    ticket = tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services:2", "فوری ببینید", clock())
    assert ticket.status == "referred" and ticket.unit == "urban_services:2"
    assert ticket.referred_at == clock() and ticket.unit_due_at == clock() + timedelta(hours=24)
    assert ticket.expected_at == ticket.opened_at + timedelta(hours=24)  # the citizen's promise is unchanged
    assert "ارجاع" in outbox_texts(gateway)[-1]

    assert [r["code"] for r in queue(gateway.ctx, region_2, QueueFilters(), clock()).rows] == [code]
    assert queue(gateway.ctx, region_3, QueueFilters(), clock()).rows == []
    with pytest.raises(TicketNotFound):
        ticket_view(gateway.ctx, region_3, code, clock())
    with pytest.raises(TicketNotFound):
        ticket_view(gateway.ctx, region_2, other, clock())
    with pytest.raises(TicketNotFound):
        tickets.change_status(gateway.ctx, region_3, code, "done", "", clock())
    view = ticket_view(gateway.ctx, region_2, code, clock())
    assert view["unit_label"] == "خدمات شهری منطقه ۲" and view["allowed"] == ["in_progress", "done", "not_doable"]
    assert any(i.get("action") == "referred_to_unit" and "منطقه ۲" in i["text"] for i in view["items"])


def test_a_unit_works_its_ticket_and_the_citizen_gets_the_outcome(gateway, clock):
    code = open_ticket(gateway, GARBAGE_REGION_2)
    unit = unit_account(gateway, "khadamat2", "urban_services", 2)
    tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "خدمات شهری منطقه ۲", "", clock())
    tickets.change_status(gateway.ctx, unit, code, "in_progress", "", clock())
    with pytest.raises(Refused):
        tickets.change_status(gateway.ctx, unit, code, "needs_info", "", clock())
    with pytest.raises(Refused):
        tickets.refer_to_unit(gateway.ctx, unit, code, "urban_services:3", "", clock())
    with pytest.raises(Refused):
        tickets.reply(gateway.ctx, unit, code, "سلام", clock())
    with pytest.raises(Refused):
        tickets.change_status(gateway.ctx, unit, code, "not_doable", "", clock())  # a reason is needed
    done = tickets.change_status(gateway.ctx, unit, code, "done", "زباله‌ها جمع شد", clock())
    assert done.status == "done"
    assert "انجام شد" in outbox_texts(gateway)[-1] or "۳۱" in outbox_texts(gateway)[-1]
    assert queue(gateway.ctx, unit, QueueFilters(), clock()).rows[0]["status"] == "done"


def test_a_unit_sends_a_ticket_back_with_a_reason_and_the_citizen_is_not_told(gateway, clock):
    code = open_ticket(gateway, GARBAGE_REGION_2)
    unit = unit_account(gateway, "khadamat2", "urban_services", 2)
    tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services:2", "", clock())
    sent_before = len(outbox_texts(gateway))
    with pytest.raises(Refused):
        tickets.return_to_centre(gateway.ctx, unit, code, "  ", clock())
    back = tickets.return_to_centre(gateway.ctx, unit, code, "این کار فضای سبز است", clock())
    assert back.status == "registered" and back.unit is None and back.unread
    assert len(outbox_texts(gateway)) == sent_before
    assert queue(gateway.ctx, unit, QueueFilters(), clock()).rows == []
    view = ticket_view(gateway.ctx, OPERATOR, code, clock())
    assert any(i.get("action") == "returned" and "فضای سبز" in i["text"] for i in view["items"])
    again = tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services:2", "", clock())
    assert again.status == "referred"


def test_re_referral_moves_the_unit_without_a_second_sms(gateway, clock):
    code = open_ticket(gateway, GARBAGE_REGION_2)
    tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services", "", clock())
    sent = len(outbox_texts(gateway))
    with pytest.raises(Refused):
        tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services", "", clock())
    with pytest.raises(Refused):
        tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "no_such_unit", "", clock())
    clock.advance(hours=2)
    moved = tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services:2", "", clock())
    assert moved.unit == "urban_services:2" and moved.referred_at == clock()
    assert len(outbox_texts(gateway)) == sent


def test_assignment_and_my_work(gateway, clock):
    code = open_ticket(gateway, GARBAGE_REGION_2)
    open_ticket(gateway, POTHOLE_REGION_4, "09130000000")
    zahra = viewer_of(create_staff(gateway.sessions, "zahra", "long-enough-1", "operator", None, clock()))
    create_staff(gateway.sessions, "op4", "long-enough-1", "operator", 4, clock())
    with pytest.raises(Refused):
        tickets.assign(gateway.ctx, OPERATOR, code, "op4", clock())   # region 4 cannot see a region 2 ticket
    with pytest.raises(Refused):
        tickets.assign(gateway.ctx, OPERATOR, code, "nobody", clock())
    assert tickets.assign(gateway.ctx, OPERATOR, code, "zahra", clock()).assignee_id == zahra.id
    mine = queue(gateway.ctx, zahra, QueueFilters(assignee_id=zahra.id), clock())
    assert [r["code"] for r in mine.rows] == [code] and sum(mine.counts.values()) == 1
    assert ticket_view(gateway.ctx, zahra, code, clock())["assignee"] == "zahra"
    assert "op4" not in ticket_view(gateway.ctx, zahra, code, clock())["colleagues"]
    tickets.assign(gateway.ctx, OPERATOR, code, "", clock())
    assert queue(gateway.ctx, zahra, QueueFilters(assignee_id=zahra.id), clock()).rows == []
    with gateway.sessions() as s:
        assert s.scalars(select(TicketEvent.note).where(TicketEvent.action == "assigned")).all() == ["zahra", "—"]


def test_internal_notes_never_reach_the_citizen(gateway, clock):
    code = open_ticket(gateway, GARBAGE_REGION_2)
    unit = unit_account(gateway, "khadamat2", "urban_services", 2)
    tickets.refer_to_unit(gateway.ctx, OPERATOR, code, "urban_services:2", "", clock())
    secret = "یادداشت داخلی: پیمانکار منطقه دیر آمد"
    with gateway.sessions() as s:
        before = s.scalar(select(func.count(OutboundMessage.id)))
    tickets.add_note(gateway.ctx, OPERATOR, code, secret, clock())
    tickets.add_note(gateway.ctx, unit, code, "فردا صبح اعزام می‌شود", clock())
    with pytest.raises(Refused):
        tickets.add_note(gateway.ctx, OPERATOR, code, " \x00 ", clock())
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(OutboundMessage.id))) == before
    assert all("پیمانکار" not in text for text in outbox_texts(gateway))
    view = ticket_view(gateway.ctx, OPERATOR, code, clock())
    assert [n["text"] for n in view["notes"]] == [secret, "فردا صبح اعزام می‌شود"]
    assert all(i.get("action") != "staff_note" for i in view["items"])


def test_unit_accounts_must_name_a_unit_the_city_lists(gateway, clock):
    with pytest.raises(StaffError):
        create_staff(gateway.sessions, "u1", "long-enough-1", "unit", None, clock(), city=gateway.city)
    with pytest.raises(StaffError):
        create_staff(gateway.sessions, "u2", "long-enough-1", "unit", 9, clock(), department="urban_services",
                     city=gateway.city)
    user = create_staff(gateway.sessions, "u3", "long-enough-1", "unit", None, clock(), department="transport",
                        city=gateway.city)
    assert viewer_of(user).unit == "transport"
    operator = create_staff(gateway.sessions, "u4", "long-enough-1", "operator", None, clock(),
                            department="transport")
    assert operator.department is None


def test_linked_reports_follow_their_primary_to_the_unit(gateway, clock):
    first = open_ticket(gateway, GARBAGE_REGION_2)
    second = open_ticket(gateway, GARBAGE_REGION_2, "09130000000")
    with gateway.sessions() as s:
        linked = s.scalar(select(Ticket.linked_to_id).where(Ticket.tracking_code == second))
    assert linked is not None, "the same report from a second citizen is linked to the first"
    unit = unit_account(gateway, "khadamat2", "urban_services", 2)
    tickets.refer_to_unit(gateway.ctx, OPERATOR, first, "urban_services:2", "", clock())
    assert {r["code"] for r in queue(gateway.ctx, unit, QueueFilters(), clock()).rows} == {first, second}
    tickets.change_status(gateway.ctx, unit, first, "done", "", clock())
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.tracking_code == second)) == "done"


def test_a_new_role_of_unit_needs_its_department_and_ends_the_sessions(gateway, clock):
    from sms_gateway.services.staff import session_id_of, set_role

    user = create_staff(gateway.sessions, "ali", "long-enough-1", "operator", 2, clock())
    before = session_id_of(gateway.sessions, user.id)
    with pytest.raises(StaffError):
        set_role(gateway.sessions, user.id, "unit", 2, None, gateway.city)
    set_role(gateway.sessions, user.id, "unit", 2, "urban_services", gateway.city)
    assert session_id_of(gateway.sessions, user.id) != before
    with gateway.sessions() as s:
        from sms_gateway.adapters.models import StaffUser

        assert viewer_of(s.get(StaffUser, user.id)).unit == "urban_services:2"
    set_role(gateway.sessions, user.id, "operator", 2, "urban_services", gateway.city)
    with gateway.sessions() as s:
        assert s.get(StaffUser, user.id).department is None


def test_a_units_overdue_view_runs_on_its_own_clock(gateway, clock):
    late_referral = open_ticket(gateway, GARBAGE_REGION_2)                       # garbage: 24 h
    unit = unit_account(gateway, "khadamat2", "urban_services", 2)
    clock.advance(hours=20)
    tickets.refer_to_unit(gateway.ctx, OPERATOR, late_referral, "urban_services:2", "", clock())
    clock.advance(hours=10)  # 30 h after opening, 10 h after the referral
    assert [r["code"] for r in queue(gateway.ctx, OPERATOR, QueueFilters(overdue=True), clock()).rows] == \
        [late_referral]                                                          # the citizen's promise is late
    assert queue(gateway.ctx, unit, QueueFilters(overdue=True), clock()).rows == []  # the unit's is not
    clock.advance(hours=15)
    rows = queue(gateway.ctx, unit, QueueFilters(overdue=True), clock()).rows
    assert [r["code"] for r in rows] == [late_referral] and rows[0]["days_late"] == 0
    assert rows[0]["due_at"] == rows[0]["unit_due_at"] and rows[0]["unit_overdue"]
