"""Kavenegar and Melipayamak: token webhooks in, replies out through a local fake of their APIs."""
import logging

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import InboundMessage, OutboundMessage, Ticket
from sms_gateway.web import create_app
from tests.fakes import FakeProviderApi
from tests.support import carries_code

KAVE_OK = {"return": {"status": 200, "message": "تایید شد"},
           "entries": [{"messageid": 8792343, "status": 1, "receptor": "09121234567"}]}


@pytest.fixture
def panel_api():
    with FakeProviderApi() as api:
        yield api


@pytest.fixture
def panel_app(settings, clock, panel_api):
    s = settings.with_section("kavenegar", api_url=panel_api.url).with_section("melipayamak", api_url=panel_api.url)
    app = create_app(s, clock=clock)
    yield app
    from tests.conftest import _empty_tables
    _empty_tables(app.extensions["sms_gateway"].engine)
    app.extensions["sms_gateway"].engine.dispose()


def _count(app, model):
    with app.extensions["sms_gateway"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("fields", [("from", "to"), ("sender", "receptor")])
def test_kavenegar_inbound_with_either_field_names_replies_through_send_api(panel_app, panel_api, method, fields):
    panel_api.default = (200, KAVE_OK)
    params = {fields[0]: "09121234567", fields[1]: "10007000137", "message": "آشغال ها جمع نشده",
              "messageid": "55501"}
    client = panel_app.test_client()
    url = "/webhooks/kavenegar/kave-token-0123456789abcdef/sms"
    response = client.get(url, query_string=params) if method == "GET" else client.post(url, data=params)
    assert response.status_code == 200 and response.data == b"OK"
    sent = panel_api.requests[-1]
    assert sent["path"] == "/v1/kave-key-SECRET/sms/send.json"
    assert sent["body"]["receptor"] == "+989121234567" and carries_code(sent["body"]["message"])
    assert sent["body"]["sender"] == "10007000137" and sent["body"]["localid"]
    with panel_app.extensions["sms_gateway"].sessions() as s:
        out = s.scalar(select(OutboundMessage))
        assert out.status == "sent" and out.provider_message_id == "8792343" and out.provider == "kavenegar"


def test_kavenegar_wrong_or_missing_token_is_403(panel_app):
    client = panel_app.test_client()
    params = {"from": "09121234567", "message": "x", "messageid": "1"}
    assert client.get("/webhooks/kavenegar/wrong/sms", query_string=params).status_code == 403
    assert client.get("/webhooks/kavenegar/kave-token-12/sms", query_string=params).status_code == 403
    assert _count(panel_app, InboundMessage) == 0


def test_kavenegar_retry_is_harmless(panel_app, panel_api):
    panel_api.default = (200, KAVE_OK)
    client = panel_app.test_client()
    params = {"from": "09121234567", "message": "جوی آب پر از لجن", "messageid": "777"}
    for _ in range(3):
        assert client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/sms", data=params).status_code == 200
    assert _count(panel_app, Ticket) == 1 and len(panel_api.requests) == 1


def test_kavenegar_error_code_is_logged_clearly_without_the_key(panel_app, panel_api, caplog):
    panel_api.default = (200, {"return": {"status": 418, "message": "اعتبار کافی نیست"}, "entries": None})
    client = panel_app.test_client()
    with caplog.at_level(logging.INFO):
        response = client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/sms",
                               data={"from": "09121234567", "message": "چاله", "messageid": "9"})
    assert response.status_code == 200, "the citizen's message is stored even when the reply fails"
    assert "418 insufficient credit" in caplog.text
    assert "kave-key-SECRET" not in caplog.text
    with panel_app.extensions["sms_gateway"].sessions() as s:
        out = s.scalar(select(OutboundMessage))
        assert out.status == "queued" and out.attempts == 1 and "418" in out.last_error
        assert out.due_at > out.created_at, "retried later with backoff"


def test_kavenegar_missing_fields_is_400(panel_app):
    client = panel_app.test_client()
    response = client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/sms", data={"from": "0912", "message": "x"})
    assert response.status_code == 400 and "messageid" in response.get_json()["error"]


def test_melipayamak_get_answers_ok_and_sends_reply(panel_app, panel_api):
    panel_api.default = (200, {"recId": 3741437414, "status": "ارسال موفق بود"})
    client = panel_app.test_client()
    params = {"from": "09351112233", "to": "10007000137", "body": "سگ های ولگرد تو پارک"}
    response = client.get("/webhooks/melipayamak/meli-token-0123456789abcdef/sms", query_string=params)
    assert response.status_code == 200 and response.data == b"OK"
    sent = panel_api.requests[-1]
    assert sent["path"] == "/api/send/simple/meli-key-SECRET"
    assert sent["body"]["to"] == "+989351112233" and carries_code(sent["body"]["text"])
    again = client.get("/webhooks/melipayamak/meli-token-0123456789abcdef/sms", query_string=params)
    assert again.data == b"OK" and _count(panel_app, Ticket) == 1, "a forwarding retry is not a new report"


def test_melipayamak_refusal_marks_message_failed(panel_app, panel_api):
    panel_api.default = (200, {"recId": 0, "status": "نام کاربری یا رمز عبور اشتباه است"})
    client = panel_app.test_client()
    client.get("/webhooks/melipayamak/meli-token-0123456789abcdef/sms", query_string={"from": "09351112233", "body": "چاله"})
    with panel_app.extensions["sms_gateway"].sessions() as s:
        assert s.scalar(select(OutboundMessage.status)) == "failed"


def test_melipayamak_wrong_token_403(panel_app):
    client = panel_app.test_client()
    r = client.get("/webhooks/melipayamak/nope/sms", query_string={"from": "0935", "body": "x"})
    assert r.status_code == 403


def test_unconfigured_provider_webhook_is_404(database_url, clock, caplog):
    from sms_gateway.settings import Settings
    with caplog.at_level(logging.INFO):
        app = create_app(Settings(database_url=database_url), clock=clock)
    client = app.test_client()
    assert client.get("/webhooks/kavenegar/x/sms").status_code == 404
    assert client.get("/webhooks/melipayamak/x/sms").status_code == 404
    assert client.post("/webhooks/twilio/sms").status_code == 404
    assert "kavenegar is not configured" in caplog.text
    app.extensions["sms_gateway"].engine.dispose()
