"""Kavenegar without push: polled inbound messages dedupe with the webhook path; delivery reports
update the outbound row."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import InboundMessage, OutboundMessage, Ticket
from sms_gateway.scheduler import poll_inbound
from sms_gateway.web import create_app
from tests.conftest import _empty_tables
from tests.fakes import FakeProviderApi

KAVE_SENT = {"return": {"status": 200, "message": "تایید شد"}, "entries": [{"messageid": 555001, "status": 1}]}
RECEIVED = {"return": {"status": 200, "message": "تایید شد"}, "entries": [
    {"messageid": 9001, "message": "زباله ها جمع نشده تو طاهرآباد", "sender": "09121234567",
     "receptor": "10007000137", "date": 1764000000},
    {"messageid": 9002, "message": "چاله عمیق تو خیابون فین", "sender": "09351112233",
     "receptor": "10007000137", "date": 1764000001},
    {"message": "بدون شناسه", "sender": "09351112233"},
]}


@pytest.fixture
def api():
    with FakeProviderApi(default=(200, KAVE_SENT)) as fake:
        yield fake


@pytest.fixture
def kave_app(settings, clock, api):
    app = create_app(settings.replace(provider="kavenegar").with_section("kavenegar", api_url=api.url),
                     clock=clock)
    yield app
    _empty_tables(app.extensions["sms_gateway"].engine)
    app.extensions["sms_gateway"].engine.dispose()


def count(app, model) -> int:
    with app.extensions["sms_gateway"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_polled_messages_become_tickets_once_and_the_webhook_copy_is_a_duplicate(kave_app, api):
    gateway = kave_app.extensions["sms_gateway"]
    api.answers = [(200, RECEIVED)]
    assert poll_inbound(gateway) == 2
    assert count(kave_app, Ticket) == 2 and count(kave_app, InboundMessage) == 2
    receive = [r for r in api.requests if r["path"].endswith("sms/receive.json")]
    assert receive[0]["body"] == {"linenumber": "10007000137", "isread": "0"}
    assert len([r for r in api.requests if r["path"].endswith("sms/send.json")]) == 2
    # the same message pushed to the webhook afterwards changes nothing
    response = kave_app.test_client().post("/webhooks/kavenegar/kave-token-0123456789abcdef/sms", data={
        "messageid": "9001", "from": "09121234567", "to": "10007000137",
        "message": "زباله ها جمع نشده تو طاهرآباد"})
    assert response.status_code == 200
    assert count(kave_app, Ticket) == 2 and count(kave_app, InboundMessage) == 2
    api.answers = [(200, RECEIVED)]
    assert poll_inbound(gateway) == 0


def test_polling_survives_a_provider_error(kave_app, api):
    api.answers = [(200, {"return": {"status": 403, "message": "invalid key"}, "entries": None})]
    assert poll_inbound(kave_app.extensions["sms_gateway"]) == 0
    assert count(kave_app, InboundMessage) == 0


def test_delivery_reports_update_the_outbound_message(kave_app, api):
    client = kave_app.test_client()
    client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/sms", data={
        "messageid": "7001", "from": "09121234567", "to": "10007000137", "message": "چاله عمیق تو خیابون فین"})
    with kave_app.extensions["sms_gateway"].sessions() as s:
        message = s.scalar(select(OutboundMessage))
    assert (message.status, message.provider_message_id) == ("sent", "555001")
    assert client.post("/webhooks/kavenegar/wrong/status", data={"messageid": "555001", "status": "10"}
                       ).status_code == 403
    assert client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/status", data={"messageid": "555001", "status": "10"}
                       ).status_code == 200
    assert client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/status", data={"messageid": "404", "status": "10"}
                       ).status_code == 404
    assert client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/status", data={"status": "10"}).status_code == 400
    with kave_app.extensions["sms_gateway"].sessions() as s:
        assert s.get(OutboundMessage, message.id).status == "delivered"


BAD_BATCH = {"return": {"status": 200, "message": "تایید شد"}, "entries": [
    {"messageid": 9101, "message": "زباله ها جمع نشده تو طاهرآباد", "sender": "09121234567", "receptor": "10007000137"},
    {"messageid": 9102, "message": "پیام تبلیغاتی", "sender": "Kavenegar", "receptor": "10007000137"},
    "not an entry",
    {"messageid": 9103, "message": "این یکی خراب می‌شود", "sender": "09351112233", "receptor": "10007000137"},
    {"messageid": 9104, "message": "چاله عمیق تو خیابون فین", "sender": "09351112233", "receptor": "10007000137"},
    {"messageid": 9105, "message": "جوی آب پر از لجن تو محله فین", "sender": "0912 000 1111", "receptor": "10007000137"},
]}


def test_one_bad_polled_entry_is_logged_and_skipped_and_the_batch_goes_on(kave_app, api, monkeypatch, caplog):
    """Issue 14, item 11: a sender «Kavenegar», an entry that is not an object and an entry whose storing
    raises something nobody expected each cost only themselves."""
    import logging

    from sms_gateway import scheduler

    real = scheduler.intake.receive

    def receive(ctx, message, now, reply_inline):
        if message.message_id == "9103":
            raise RuntimeError("something nobody expected")
        return real(ctx, message, now, reply_inline)

    monkeypatch.setattr(scheduler.intake, "receive", receive)
    api.answers = [(200, BAD_BATCH)]
    with caplog.at_level(logging.WARNING):
        assert poll_inbound(kave_app.extensions["sms_gateway"]) == 3
    with kave_app.extensions["sms_gateway"].sessions() as s:
        stored = sorted(s.scalars(select(InboundMessage.provider_message_id)))
    assert stored == ["9101", "9104", "9105"] and count(kave_app, Ticket) == 3
    assert "9102" in caplog.text and "9103" in caplog.text and "not an object" in caplog.text
    assert "RuntimeError" in caplog.text


def test_the_database_down_mid_batch_stops_it_without_stopping_the_scheduler(kave_app, api, monkeypatch, caplog):
    """What cannot be stored now is not skipped as bad: polling stops, says so, and the next poll goes on."""
    import logging

    from sqlalchemy.exc import OperationalError

    from sms_gateway import scheduler

    def receive(ctx, message, now, reply_inline):
        raise OperationalError("INSERT …", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(scheduler.intake, "receive", receive)
    api.answers = [(200, RECEIVED)]
    with caplog.at_level(logging.WARNING):
        assert poll_inbound(kave_app.extensions["sms_gateway"]) == 0
    assert "database" in caplog.text
