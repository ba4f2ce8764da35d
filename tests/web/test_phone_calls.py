"""Phone calls typed in by staff (issue 15, item 1), through the dashboard with CSRF on and through
`sms-gateway tickets create`, both calling services.calls.file_call: the ticket is an SMS ticket of
channel phone, the caller gets the code and every follow-up by SMS with the usual opt-out, emergencies
and identity-bound requests keep their handling, and region-bound staff file only in their region."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import Citizen, InboundMessage, OutboundMessage, Ticket, TicketEvent
from sms_gateway.domain.text import persian_digits
from sms_gateway.scheduler import run_due
from sms_gateway.services.staff import create_staff
from tests.support import deliver, set_status
from tests.web.test_dashboard import PASSWORD, csrf, login

CALLER = "09131112233"
GARBAGE_FIN = "زنگ زده میگه سه روزه زباله های کوچه شون تو فین رو نبردن"
BIN = Path(sys.executable).parent / "sms-gateway"


@pytest.fixture
def staff(gateway):
    for username, role, region in [("op", "operator", None), ("op2", "operator", 2), ("admin", "admin", None)]:
        create_staff(gateway.sessions, username, PASSWORD, role, region, gateway.clock())


def call(client, text=GARBAGE_FIN, phone=CALLER, action="file", **fields):
    token = csrf(client, "/calls/new")
    return client.post("/calls/new", data={"phone": phone, "text": text, "action": action, "csrf_token": token,
                                           **fields})


def outbox(gateway):
    with gateway.sessions() as s:
        return s.execute(select(OutboundMessage.to_address, OutboundMessage.channel, OutboundMessage.kind,
                                OutboundMessage.status, OutboundMessage.text).order_by(OutboundMessage.id)).all()


def test_the_page_is_in_the_nav_needs_a_login_and_csrf(client, staff):
    assert client.get("/calls/new").status_code == 302
    login(client, "op")
    page = client.get("/calls/new").get_data(as_text=True)
    assert 'href="/calls/new"' in client.get("/tickets").get_data(as_text=True)
    assert "ثبت تماس تلفنی" in page and 'name="csrf_token"' in page and 'name="call_id"' in page
    refused = client.post("/calls/new", data={"phone": CALLER, "text": GARBAGE_FIN, "action": "file"})
    assert refused.status_code == 400


def test_reading_the_text_prefills_category_and_place_and_files_nothing(client, gateway, staff):
    login(client, "op")
    page = call(client, action="preview").get_data(as_text=True)
    assert re.search(r'<option value="garbage" selected>', page)
    assert 'name="neighbourhood" list="places" value="فین"' in page
    assert "منطقه ۴" in page
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0 and s.scalar(select(func.count(InboundMessage.id))) == 0
    chosen = call(client, action="preview", category="asphalt").get_data(as_text=True)
    assert '<option value="asphalt" selected>' in chosen  # the operator's choice stays


def test_a_call_is_an_sms_ticket_of_channel_phone_and_the_caller_gets_the_code_by_sms(client, gateway, staff):
    login(client, "op")
    response = call(client)
    assert response.status_code == 302
    code = response.headers["Location"].rsplit("/", 1)[1]
    with gateway.sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.tracking_code == code))
        inbound = s.scalar(select(InboundMessage).where(InboundMessage.ticket_id == t.id))
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == t.id)).all()
    assert (t.channel, t.category, t.neighbourhood, t.region, t.status) == ("phone", "garbage", "فین", 4, "registered")
    assert (inbound.provider, inbound.channel, inbound.sender, inbound.raw_payload["staff"]) == \
        ("phone", "phone", "+989131112233", "op")
    assert any("تماس تلفنی" in n and "op" in n for n in notes)
    sms = outbox(gateway)
    assert [(r.to_address, r.channel, r.kind, r.status) for r in sms] == [("+989131112233", "sms", "ack", "sent")]
    assert persian_digits(code) in sms[0].text
    assert gateway.providers["console"].sent == [("+989131112233", sms[0].text)]
    page = client.get(f"/tickets/{code}").get_data(as_text=True)
    assert "کد رهگیری با پیامک" in page and 'class="channel ch-phone"' in page and "تلفن" in page


def test_the_operators_choices_win_and_a_form_sent_twice_files_once(client, gateway, staff):
    login(client, "op")
    first = call(client, text="یه مشکلی تو محله هست", category="street_lighting", neighbourhood="فین", call_id="abc123")
    again = call(client, text="یه مشکلی تو محله هست", category="street_lighting", neighbourhood="فین", call_id="abc123")
    assert first.headers["Location"] == again.headers["Location"]
    with gateway.sessions() as s:
        rows = s.execute(select(Ticket.category, Ticket.neighbourhood, Ticket.region)).all()
    assert rows == [("street_lighting", "فین", 4)] and len(outbox(gateway)) == 1


def test_follow_ups_go_by_sms_and_stop_on_opt_out(client, gateway, staff, clock):
    login(client, "op")
    code = call(client).headers["Location"].rsplit("/", 1)[1]
    clock.advance(hours=1)
    set_status(gateway, code, "in_progress")
    run_due(gateway, clock())
    assert [(r.to_address, r.kind, r.status) for r in outbox(gateway)][-1] == ("+989131112233", "in_progress", "sent")
    deliver(gateway, "لغو ۱۱", sender=CALLER)  # the caller opts out by SMS, as anyone does
    clock.advance(hours=1)
    set_status(gateway, code, "done")
    run_due(gateway, clock())
    assert [(r.kind, r.status) for r in outbox(gateway)][-1] == ("done", "suppressed")
    with gateway.sessions() as s:
        assert s.scalar(select(Citizen.opted_out)) is True


def test_an_emergency_call_is_flagged_and_answered_with_the_number(client, gateway, staff):
    login(client, "op")
    text = "خانم زنگ زد بوی گاز شدید تو کوچه میاد تو محله فین"
    preview = call(client, text=text, action="preview").get_data(as_text=True)
    assert 'id="call-emergency"' in preview
    code = call(client, text=text).headers["Location"].rsplit("/", 1)[1]
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.emergency).where(Ticket.tracking_code == code)) is True
    assert outbox(gateway)[0].kind == "emergency" and "۱۹۴" in outbox(gateway)[0].text


def test_an_identity_bound_call_opens_no_ticket_and_the_caller_is_told_the_channel(client, gateway, staff):
    login(client, "op")
    text = "میخواد بدونه برای پروانه ساخت چه مدارکی لازمه"
    assert 'id="call-identity"' in call(client, text=text, action="preview").get_data(as_text=True)
    page = call(client, text=text)
    assert page.status_code == 200 and 'id="call-outcome"' in page.get_data(as_text=True)
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0
    assert [(r.kind, r.status) for r in outbox(gateway)] == [("identity_required", "sent")]
    assert gateway.city.authenticated_channel in outbox(gateway)[0].text


@pytest.mark.parametrize("fields, message", [
    ({"phone": "123"}, "شماره همراه"), ({"phone": "02155551234"}, "شماره همراه"), ({"text": "   "}, "متن تماس خالی"),
    ({"category": "nope"}, "دسته ناشناخته"), ({"neighbourhood": "ناکجاآباد"}, "محله ناشناخته")])
def test_a_call_that_cannot_be_filed_says_why_and_keeps_what_was_typed(client, gateway, staff, fields, message):
    login(client, "op")
    response = call(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert (fields.get("text") or GARBAGE_FIN) in page or not fields.get("text", "x").strip()
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 0


def test_region_bound_staff_file_calls_of_their_region_only(client, gateway, staff):
    login(client, "op2")
    refused = call(client)  # فین is region 4
    assert refused.status_code == 400 and "در منطقه شما نیست" in refused.get_data(as_text=True)
    filed = call(client, text="زباله ها جمع نشده تو کوی بهارستان")  # region 2
    assert filed.status_code == 302
    assert client.get(filed.headers["Location"]).status_code == 200


def test_the_queue_shows_and_filters_by_channel(client, gateway, staff):
    deliver(gateway, "چاله عمیق تو خیابون فین", sender="09120000001")
    login(client, "op")
    code = call(client).headers["Location"].rsplit("/", 1)[1]
    everything = client.get("/tickets").get_data(as_text=True)
    assert everything.count('class="channel ch-') == 2 and "پیامک" in everything
    phone_only = client.get("/tickets?channel=phone").get_data(as_text=True)
    assert phone_only.count('class="channel ch-') == 1 and persian_digits(code) in phone_only
    assert 'option value="phone" selected' in phone_only


def _cli(env, *args):
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_command_line_files_a_call_through_the_same_service(gateway, database_url, tmp_path):
    (tmp_path / "none.toml").write_text("")
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=database_url, SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    made = _cli(env, "tickets", "create", "--phone", "۰۹۱۳۱۱۱۲۲۳۳", "--text", "چاله عمیق وسط خیابون",
                "--category", "asphalt", "--neighbourhood", "فین", "--channel", "phone", "--json",
                "--now", "2026-11-24T09:30:00Z")
    assert made.returncode == 0, made.stderr
    ticket = json.loads(made.stdout)
    assert (ticket["channel"], ticket["category"], ticket["neighbourhood"], ticket["region"], ticket["status"]) == \
        ("phone", "asphalt", "فین", 4, "registered")
    assert ticket["opened_at"] == "2026-11-24T09:30:00+00:00" and ticket["reply_status"] == "sent"
    assert persian_digits(ticket["code"]) in ticket["reply"]
    with gateway.sessions() as s:
        sms = s.execute(select(OutboundMessage.to_address, OutboundMessage.kind)).all()
        assert s.scalar(select(Ticket.channel)) == "phone"
    assert sms == [("+989131112233", "ack")]
    refused = _cli(env, "tickets", "create", "--phone", "123", "--text", "چاله", "--channel", "phone")
    assert refused.returncode != 0 and "شماره همراه" in refused.stderr
    other = _cli(env, "tickets", "create", "--phone", CALLER, "--text", "چاله", "--channel", "sms")
    assert other.returncode != 0


def test_with_background_senders_the_page_answers_before_the_sms_goes(settings, clock):
    """The web app's senders (send_threads > 0) send the caller's SMS once committed, off the request."""
    from sms_gateway.web import create_app
    from tests.conftest import _empty_tables

    app = create_app(settings.replace(send_threads=2), clock=clock)
    gateway, client = app.extensions["sms_gateway"], app.test_client()
    try:
        create_staff(gateway.sessions, "op", PASSWORD, "operator", None, clock())
        login(client, "op")
        response = call(client)
        assert response.status_code == 302
        assert gateway.sender.wait_idle(10)
        assert [(r.kind, r.status) for r in outbox(gateway)] == [("ack", "sent")]
    finally:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()


def test_the_page_asks_what_understanding_reads_as_the_operator_types(client, gateway, staff):
    login(client, "op")
    token = csrf(client, "/calls/new")
    read = client.post("/calls/understand", json={"text": GARBAGE_FIN}, headers={"X-CSRFToken": token})
    assert read.status_code == 200 and read.get_json() == {
        "category": "garbage", "neighbourhood": "فین", "region": 4, "region_label": gateway.city.region_name(4),
        "emergency": False, "emergency_service": None, "identity_bound": False}
    chosen = client.post("/calls/understand", json={"text": GARBAGE_FIN, "category": "asphalt",
                                                    "neighbourhood": "بهارستان"}, headers={"X-CSRFToken": token})
    assert (chosen.get_json()["category"], chosen.get_json()["region"]) == ("asphalt", 2)
    gas = client.post("/calls/understand", json={"text": "بوی گاز شدید تو کوچه میاد"}, headers={"X-CSRFToken": token})
    assert gas.get_json()["emergency"] is True and gas.get_json()["emergency_service"] == "194"
    assert client.post("/calls/understand", json={"text": GARBAGE_FIN}).status_code == 400  # no CSRF token
    assert client.post("/calls/understand", data="[1]", content_type="application/json",
                       headers={"X-CSRFToken": token}).get_json()["category"] is None
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 0
    client.post("/logout", data={"csrf_token": token})
    assert client.post("/calls/understand", json={"text": GARBAGE_FIN},
                       headers={"X-CSRFToken": token}).status_code in (302, 401)
