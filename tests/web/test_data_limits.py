"""Nothing a citizen, a provider or a staff member sends can jam a message (issue 14, item 10): NUL bytes
and over-long fields are cleaned or capped before they reach the database, on every way in (every
provider's webhook and delivery report, staff replies, notes and searches, logins, Open311, Bale), and a
data error is never reported as an outage. PostgreSQL refuses NUL in text, SQLite does not: both run."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from sms_gateway.adapters.models import InboundMessage, OutboundMessage, Ticket, TicketEvent
from sms_gateway.services import api_keys
from sms_gateway.services.staff import create_staff
from sms_gateway.web import create_app
from tests.conftest import KAVE_TOKEN, MELI_TOKEN, _empty_tables
from tests.web.helpers import post_twilio, twilio_params

BALE_HOOK = "bale-hook-0123456789abcdef-XYZ"
NUL_TEXT = "زباله\x00 ها جمع نشده تو محله\x00 فین"
LONG_ID = "id-" + "x" * 300
PASSWORD = "correct-horse-137"


@pytest.fixture
def app(settings, clock):
    s = settings.with_section("bale", bot_token="1722879998:R6vZeQFAsTestOnlyBotToken2GdiSRbu",
                              webhook_token=BALE_HOOK, api_url="http://127.0.0.1:9")
    app = create_app(s, clock=clock)
    app.config["TESTING"] = True
    yield app
    _empty_tables(app.extensions["sms_gateway"].engine)
    app.extensions["sms_gateway"].engine.dispose()


def _kavenegar(client, text, message_id, sender="09121234567"):
    return client.post(f"/webhooks/kavenegar/{KAVE_TOKEN}/sms",
                       data={"messageid": message_id, "from": sender, "to": "10007000137\x00", "message": text})


def _melipayamak(client, text, message_id, sender="09121234567"):
    return client.get(f"/webhooks/melipayamak/{MELI_TOKEN}/sms",
                      query_string={"from": sender, "to": "10007000137", "body": text, "id": message_id})


def _twilio(client, text, message_id, sender="+989121234567"):
    return post_twilio(client, {**twilio_params(text, sender=sender, sid=message_id), "Extra\x00": "a\x00b"})


def _bale(client, text, message_id, sender=None):
    update = {"update_id": 731201 if message_id == LONG_ID else abs(hash(message_id)) % 10**9,
              "message": {"message_id": 18, "date": 1764061200, "from": {"id": 1045871203, "first_name": "م\x00ریم"},
                          "chat": {"id": 1045871203, "type": "private"}, "text": text}}
    return client.post(f"/webhooks/bale/{BALE_HOOK}", data=json.dumps(update), content_type="application/json")


def _console(client, text, message_id, sender="09121234567"):
    return client.post("/webhooks/console/sms", json={"id": message_id, "from": sender, "text": text})


WEBHOOKS = {"kavenegar": _kavenegar, "melipayamak": _melipayamak, "twilio": _twilio, "bale": _bale,
            "console": _console}


def _inbound(app):
    with app.extensions["sms_gateway"].sessions() as s:
        return s.scalars(select(InboundMessage)).all()


@pytest.mark.parametrize("provider", sorted(WEBHOOKS))
def test_nul_bytes_and_an_over_long_message_id_are_stored_once_and_answered(app, provider):
    client = app.test_client()
    first = WEBHOOKS[provider](client, NUL_TEXT, LONG_ID + "\x00")
    assert first.status_code == 200, first.get_data(as_text=True)
    again = WEBHOOKS[provider](client, NUL_TEXT, LONG_ID + "\x00")
    assert again.status_code == 200 and again.get_data() == first.get_data(), "a retry gets the stored answer"
    [message] = _inbound(app)
    assert message.state == "processed" and "\x00" not in message.text and "\x00" not in json.dumps(message.raw_payload)
    assert len(message.provider_message_id) <= 100 and "فین" in message.text
    with app.extensions["sms_gateway"].sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 1


@pytest.mark.parametrize("provider", ["kavenegar", "melipayamak", "twilio", "console"])
def test_two_over_long_ids_sharing_their_first_100_characters_are_two_messages(app, provider):
    client = app.test_client()
    for n, text in enumerate(["زباله ها جمع نشده تو محله فین", "چاله عمیق تو خیابون فین"]):
        assert WEBHOOKS[provider](client, text, LONG_ID + str(n)).status_code == 200
    assert len(_inbound(app)) == 2


@pytest.mark.parametrize("provider", ["kavenegar", "melipayamak", "twilio", "console"])
def test_a_sender_with_nul_or_an_absurd_length_is_a_clear_400_or_stored(app, provider):
    client = app.test_client()
    for sender in ("0912\x001234567", "0912" + "1" * 500):
        response = WEBHOOKS[provider](client, "چاله", f"s-{len(sender)}", sender=sender)
        assert response.status_code in (200, 400), response.get_data(as_text=True)
    for message in _inbound(app):
        assert "\x00" not in message.sender and len(message.sender) <= 64


@pytest.mark.parametrize("provider", ["kavenegar", "melipayamak", "twilio"])
def test_a_delivery_report_with_nul_or_an_over_long_id_is_answered_not_503(app, provider):
    client = app.test_client()
    ids = ("55\x0001", "9" * 300)
    for message_id in ids:
        if provider == "twilio":
            response = post_twilio(client, {"MessageSid": message_id, "MessageStatus": "delivered\x00"},
                                   path="/webhooks/twilio/status")
        else:
            token = KAVE_TOKEN if provider == "kavenegar" else MELI_TOKEN
            field = "messageid" if provider == "kavenegar" else "recId"
            response = client.post(f"/webhooks/{provider}/{token}/status",
                                   data={field: message_id, "status": "10\x00"})
        assert response.status_code == 404, (message_id, response.status_code, response.get_data(as_text=True))


# --- staff: replies, notes, searches, logins ---------------------------------------------------------

def _csrf(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def staff_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    gateway = app.extensions["sms_gateway"]
    create_staff(gateway.sessions, "admin", PASSWORD, "admin", None, gateway.clock())
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": _csrf(client, "/login")})
    return client


def _code(app) -> str:
    reply = app.test_client().post("/webhooks/console/sms", json={"from": "09121234567",
                                                                  "text": "چاله عمیق تو خیابون فین"}).get_json()["reply"]
    return re.search(r"[۰-۹]{8}", reply).group(0).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))


def test_a_staff_reply_and_a_note_with_nul_are_stored_clean(app, staff_client):
    code = _code(app)
    page = f"/tickets/{code}"
    reply = staff_client.post(f"{page}/reply", data={"body": "سلام\x00 پیگیری شد", "csrf_token": _csrf(staff_client, page)})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    status = staff_client.post(f"{page}/status", data={"status": "referred", "note": "ارجاع\x00 شد",
                                                       "csrf_token": _csrf(staff_client, page)})
    assert status.status_code == 302, status.get_data(as_text=True)
    with app.extensions["sms_gateway"].sessions() as s:
        texts = s.scalars(select(OutboundMessage.text)).all() + s.scalars(select(TicketEvent.note)).all()
    assert "سلام پیگیری شد" in texts and any(t.endswith(": ارجاع شد") for t in texts)
    assert not any("\x00" in t for t in texts)


@pytest.mark.parametrize("path", ["/tickets?q=0912%001234567", "/tickets?q=" + "۱" * 5000,
                                  "/tickets?neighbourhood=%00&category=%00&status=%00", "/tickets/1234%005678",
                                  "/tickets.csv?q=%00", "/reports?from=%00"])
def test_staff_pages_given_nul_or_over_long_arguments_answer_without_a_data_error(app, staff_client, path):
    response = staff_client.get(path)
    assert response.status_code in (200, 302, 400, 404), (path, response.status_code)


def test_staff_forms_with_nul_are_refused_or_cleaned_never_a_data_error(app, staff_client):
    token = _csrf(staff_client, "/staff")
    created = staff_client.post("/staff", data={"action": "create", "new_username": "op\x00x" + "y" * 200,
                                                "new_password": PASSWORD, "role": "operator", "csrf_token": token})
    assert created.status_code == 302
    canned = staff_client.post("/canned", data={"title": "سلام\x00" + "ع" * 200, "body": "متن\x00",
                                                "csrf_token": _csrf(staff_client, "/canned")})
    assert canned.status_code == 302
    fresh = app.test_client()
    login = fresh.post("/login", data={"username": "ad\x00min" + "n" * 300, "password": "x\x00",
                                       "csrf_token": _csrf(fresh, "/login")})
    assert login.status_code in (401, 429), login.status_code


# --- Open311 ----------------------------------------------------------------------------------------

def test_an_open311_request_with_nul_in_every_field_opens_its_ticket(app):
    gateway = app.extensions["sms_gateway"]
    key = api_keys.create_key(gateway.sessions, "website", gateway.clock())
    client = app.test_client()
    form = {"api_key": key, "service_code": "garbage", "description": "سه روز است\x00 زباله‌ها را نبرده‌اند",
            "address_string": "کوچه\x00 رجایی، محله فین", "phone": "09121234567", "first_name": "مریم\x00"}
    response = client.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "abc"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()[0]["service_request_id"]
    too_long = client.post("/open311/v2/requests.json", data={**form, "address_string": "ب" * 3000})
    assert too_long.status_code == 400, "an over-long field is a clear 400 in the spec's form"
    for query in ("?service_request_id=1234%005678", "?service_code=%00", "?status=open%00"):
        assert client.get("/open311/v2/requests.json" + query).status_code in (200, 400)
    assert client.get("/open311/v2/requests/1234%00.json").status_code in (400, 404)
    assert client.get("/open311/v2/tokens/ab%00c.json").status_code in (400, 404)
    assert client.get("/open311/v2/services.json?api_key=%00").status_code == 403


# --- a data error is a fault of ours, never an outage --------------------------------------------------

def _raise_data_error():
    raise DataError("INSERT …", {}, ValueError("A string literal cannot contain NUL (0x00) characters."))


@pytest.mark.parametrize("path", ["/webhooks/boom", "/boom", "/open311/v2/boom"])
def test_a_data_error_is_never_answered_as_the_database_being_down(settings, clock, path):
    app = create_app(settings, clock=clock)
    app.add_url_rule(path, "boom", _raise_data_error)
    response = app.test_client().get(path)
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert "پایگاه داده در دسترس نیست" not in response.get_data(as_text=True)
    assert "unavailable" not in response.get_data(as_text=True)
    app.extensions["sms_gateway"].engine.dispose()

