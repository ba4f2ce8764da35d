"""The citizen web page (issue 15, item 3) through Flask's test client with CSRF on, on both databases:
/report sends a one-time code by SMS (only its keyed hash stored, never its text in the outbox), the
right code files a ticket of channel web answered by SMS; wrong, expired and spent codes; the limits per
number and per address; /status answers the same for a wrong code and a wrong number."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import InboundMessage, OutboundMessage, Ticket, WebRateLimit, WebVerification
from sms_gateway.domain.text import persian_digits, to_latin_digits
from sms_gateway.scheduler import run_due
from tests.support import deliver, set_status

PHONE = "09121234567"
TEXT = "سه روز است زباله‌های کوچه ما را نبرده‌اند"


def csrf(client, path="/report") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def ask_code(client, text=TEXT, place="فین", phone=PHONE, address="10.0.0.1"):
    return client.post("/report", data={"text": text, "place": place, "phone": phone, "csrf_token": csrf(client)},
                       environ_base={"REMOTE_ADDR": address})


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def sent_code(gateway) -> str:
    """The code as the SMS panel was handed it (the outbox keeps only a masked copy)."""
    to, text = gateway.providers["console"].sent[-1]
    return to_latin_digits(re.search(r"کد تأیید ([۰-۹]{6})", text).group(1))


def confirm(client, token, code):
    return client.post("/report/confirm", data={"token": token, "code": code, "csrf_token": csrf(client)})


def status(client, code, phone=PHONE, address="10.0.0.9"):
    return client.post("/status", data={"code": code, "phone": phone, "csrf_token": csrf(client, "/status")},
                       environ_base={"REMOTE_ADDR": address})


def count(gateway, model, *where) -> int:
    with gateway.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_the_pages_are_persian_rtl_for_a_phone_with_nothing_from_elsewhere(client):
    for path in ("/report", "/status"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and 'dir="rtl"' in page and 'lang="fa"' in page
        assert 'name="viewport" content="width=device-width' in page and 'name="csrf_token"' in page
        assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_forms_without_the_csrf_token_are_refused(client, gateway):
    assert client.post("/report", data={"text": TEXT, "phone": PHONE}).status_code == 400
    assert client.post("/status", data={"code": "12345678", "phone": PHONE}).status_code == 400
    assert gateway.providers["console"].sent == []


def test_a_confirmed_report_is_a_web_ticket_answered_by_sms(client, gateway, clock):
    page = ask_code(client)
    assert page.status_code == 200 and "0912***4567" in page.get_data(as_text=True).translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    code = sent_code(gateway)
    with gateway.sessions() as s:
        v = s.scalar(select(WebVerification))
        sms = s.scalar(select(OutboundMessage))
    assert code not in v.code_hash and len(v.code_hash) == 64 and v.phone == "+989121234567"
    assert (sms.kind, sms.status, sms.to_address) == ("verification_code", "sent", "+989121234567")
    assert persian_digits(code) not in sms.text and "••••••" in sms.text  # the outbox never holds the code
    assert count(gateway, Ticket) == 0

    done = confirm(client, token_of(page), code)
    body = done.get_data(as_text=True)
    tracking = to_latin_digits(re.search(r'id="tracking-code">([۰-۹]{8})<', body).group(1))
    with gateway.sessions() as s:
        t = s.scalar(select(Ticket))
        inbound = s.scalar(select(InboundMessage))
        ack = s.scalar(select(OutboundMessage).where(OutboundMessage.kind == "ack"))
    assert (t.tracking_code, t.channel, t.category, t.neighbourhood) == (tracking, "web", "garbage", "فین")
    assert (inbound.provider, inbound.channel, inbound.sender) == ("web", "web", "+989121234567")
    assert (ack.to_address, ack.channel, ack.status) == ("+989121234567", "sms", "sent")
    assert persian_digits(tracking) in ack.text

    again = confirm(client, token_of(page), code)  # the same form sent twice: the same answer, one ticket
    assert persian_digits(tracking) in again.get_data(as_text=True) and count(gateway, Ticket) == 1

    clock.advance(hours=1)
    set_status(gateway, tracking, "in_progress")
    run_due(gateway, clock())
    with gateway.sessions() as s:
        last = s.execute(select(OutboundMessage.kind, OutboundMessage.to_address, OutboundMessage.status)
                         .order_by(OutboundMessage.id.desc())).first()
    assert tuple(last) == ("in_progress", "+989121234567", "sent")


def test_a_wrong_code_counts_down_and_then_the_code_is_spent(client, gateway):
    page = ask_code(client)
    code, token = sent_code(gateway), token_of(page)
    wrong = "000000" if code != "000000" else "111111"
    first = confirm(client, token, wrong)
    assert first.status_code == 400 and "کد نادرست است؛ ۴ بار دیگر" in first.get_data(as_text=True)
    for _ in range(3):
        confirm(client, token, wrong)
    last = confirm(client, token, wrong)
    assert last.status_code == 400 and "تلاش‌ها تمام شد" in last.get_data(as_text=True)
    spent = confirm(client, token, code)  # the right code, too late
    assert spent.status_code == 400 and "دیگر پذیرفته نمی‌شود" in spent.get_data(as_text=True)
    assert count(gateway, Ticket) == 0 and count(gateway, InboundMessage) == 0


def test_a_code_expires_after_its_minutes(client, gateway, clock):
    page = ask_code(client)
    code, token = sent_code(gateway), token_of(page)
    clock.advance(minutes=10, seconds=1)
    late = confirm(client, token, code)
    assert late.status_code == 400 and "دیگر پذیرفته نمی‌شود" in late.get_data(as_text=True)
    assert confirm(client, "no-such-token", code).status_code == 400
    assert count(gateway, Ticket) == 0


def test_codes_are_limited_per_number_and_per_address_with_persian_messages(client, gateway, clock):
    for n in range(3):
        assert ask_code(client, address=f"10.0.1.{n}").status_code == 200
    refused = ask_code(client, address="10.0.1.9")
    assert refused.status_code == 429 and "برای این شماره کد زیاد فرستاده شد" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) == 3600
    for n in range(7):  # the address asked 0 so far; ten numbers from one address, then no more
        assert ask_code(client, phone=f"0912000000{n}", address="10.0.2.1").status_code == 200
    for n in range(7, 10):
        assert ask_code(client, phone=f"0912000000{n}", address="10.0.2.1").status_code == 200
    by_address = ask_code(client, phone="09130000000", address="10.0.2.1")
    assert by_address.status_code == 429 and "از این نشانی" in by_address.get_data(as_text=True)
    assert len(gateway.providers["console"].sent) == 13
    with gateway.sessions() as s:
        keys = s.scalars(select(WebRateLimit.key)).all()
    assert all(len(k) == 64 and "912" not in k for k in keys)  # no number in clear in the counters
    clock.advance(minutes=61)
    assert ask_code(client, address="10.0.1.9").status_code == 200


def test_limits_are_settings(settings, clock):
    from sms_gateway.web import create_app

    app = create_app(settings.replace(web_codes_per_number=1, web_code_minutes=2), clock=clock)
    client = app.test_client()
    try:
        first = ask_code(client)
        assert first.status_code == 200 and "تا ۲ دقیقه دیگر" in first.get_data(as_text=True)
        assert ask_code(client).status_code == 429
    finally:
        from tests.conftest import _empty_tables

        _empty_tables(app.extensions["sms_gateway"].engine)
        app.extensions["sms_gateway"].engine.dispose()


@pytest.mark.parametrize("fields, message", [({"phone": "12345"}, "شماره همراه"), ({"text": "  "}, "متن درخواست"),
                                             ({"phone": "02155551234"}, "شماره همراه")])
def test_a_report_that_cannot_be_sent_says_why_and_sends_nothing(client, gateway, fields, message):
    response = ask_code(client, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert gateway.providers["console"].sent == [] and count(gateway, WebVerification) == 0


def test_an_identity_bound_report_opens_no_ticket_and_names_the_channel(client, gateway):
    page = ask_code(client, text="برای گرفتن پروانه ساخت چه مدارکی لازم است", place="")
    done = confirm(client, token_of(page), sent_code(gateway)).get_data(as_text=True)
    assert 'id="outcome"' in done and gateway.city.authenticated_channel in done
    assert count(gateway, Ticket) == 0


def test_status_needs_the_code_and_the_number_it_was_filed_with(client, gateway, clock):
    code = deliver(gateway, "چاله عمیق تو خیابون فین", sender=PHONE).ticket_code
    set_status(gateway, code, "in_progress")
    found = status(client, persian_digits(code)).get_data(as_text=True)
    assert 'id="status-result"' in found and "در حال انجام" in found and "۱۴۰۵/۰۹/۰۳" in found
    wrong_phone = status(client, code, phone="09350000000")
    wrong_code = status(client, "12345678")
    bad_phone = status(client, code, phone="abc")
    answers = [wrong_phone, wrong_code, bad_phone]
    assert {r.status_code for r in answers} == {200}
    # the same page for each, but for the form's CSRF token (signed with the second it was made in)
    assert len({re.sub(r'name="csrf_token" value="[^"]*"', "", r.get_data(as_text=True)) for r in answers}) == 1
    assert 'id="not-found"' in wrong_phone.get_data(as_text=True)


def test_status_look_ups_are_limited_per_address(client, gateway):
    for _ in range(30):
        assert status(client, "12345678", address="10.9.9.9").status_code == 200
    refused = status(client, "12345678", address="10.9.9.9")
    assert refused.status_code == 429 and "پیگیری‌ها از این نشانی زیاد بود" in refused.get_data(as_text=True)
    assert status(client, "12345678", address="10.9.9.8").status_code == 200


def test_the_scheduler_forgets_expired_reports_and_old_counters(client, gateway, clock):
    ask_code(client)
    assert count(gateway, WebVerification) == 1 and count(gateway, WebRateLimit) == 2
    clock.advance(minutes=30)
    run_due(gateway, clock())
    assert count(gateway, WebVerification) == 1  # expired 20 minutes ago: a form sent again still gets an answer
    clock.advance(minutes=41)
    run_due(gateway, clock())
    assert count(gateway, WebVerification) == 0 and count(gateway, WebRateLimit) == 0


def test_a_blocked_number_is_sent_no_code(settings, clock):
    from sms_gateway.web import create_app
    from tests.conftest import _empty_tables

    app = create_app(settings.replace(blocked_numbers=("09121234567",)), clock=clock)
    try:
        response = ask_code(app.test_client())
        assert response.status_code == 400 and "پذیرفته نمی‌شود" in response.get_data(as_text=True)
        assert app.extensions["sms_gateway"].providers["console"].sent == []
    finally:
        _empty_tables(app.extensions["sms_gateway"].engine)
        app.extensions["sms_gateway"].engine.dispose()


def test_concurrent_code_requests_for_one_number_send_exactly_its_allowance(gateway):
    import threading

    from sms_gateway.services.web_reports import TooMany, WebRules, request_code

    rules, barrier, outcomes, errors = WebRules.from_settings(gateway.settings), threading.Barrier(8), [], []

    def ask(n):
        barrier.wait()
        try:
            request_code(gateway.ctx, rules, PHONE, TEXT, "", f"10.1.0.{n}", gateway.clock())
            outcomes.append("sent")
        except TooMany:
            outcomes.append("limited")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(outcomes) == ["limited"] * 5 + ["sent"] * 3
    assert len(gateway.providers["console"].sent) == 3 and count(gateway, WebVerification) == 3
