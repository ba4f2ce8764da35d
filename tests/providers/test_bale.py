"""The Bale bot end to end: signed-by-token updates in through the webhook, answers and follow-ups out
through a local fake of Bale's Bot API, SMS when Bale fails, and a shared contact card linking the chat
to the citizen's SMS number. Both databases."""
from __future__ import annotations

import copy
import itertools
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.logs import configure
from sms_gateway.adapters.models import Citizen, Contact, InboundMessage, OutboundMessage, Ticket, TicketEvent
from sms_gateway.domain.staff import command_line_viewer
from sms_gateway.domain.text import persian_digits
from sms_gateway.scheduler import run_due
from sms_gateway.services.queue import QueueFilters, queue
from sms_gateway.settings import SettingsError, settings_from_mapping
from sms_gateway.web import create_app
from tests.conftest import _empty_tables
from tests.fakes import FakeBaleApi
from tests.support import deliver, set_status

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bale"
BOT_TOKEN = "1722879998:R6vZeQFAsTestOnlyBotToken2GdiSRbu"
HOOK_TOKEN = "bale-hook-0123456789abcdef-XYZ"
CHAT = 1045871203          # the chat (and user) id in the fixtures
PHONE = "09121234567"      # the number in update_contact_own.json
REPORT = "سه روزه آشغالای کوچه ما رو نبردن، محله فین"
_update_ids = itertools.count(900_001)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def text_update(text: str, chat: int = CHAT) -> dict:
    """update_text.json with another text (and chat), under a new update_id."""
    update = copy.deepcopy(fixture("update_text"))
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["text"], message["chat"]["id"], message["from"]["id"] = text, chat, chat
    return update


def contact_update(phone: str = "989121234567", user_id: int = CHAT, chat: int = CHAT) -> dict:
    update = copy.deepcopy(fixture("update_contact_own"))
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["chat"]["id"], message["from"]["id"] = chat, chat
    message["contact"].update(phone_number=phone, user_id=user_id)
    return update


@pytest.fixture
def bale_api():
    with FakeBaleApi(BOT_TOKEN) as api:
        yield api


@pytest.fixture
def bale_app(settings, clock, bale_api):
    app = create_app(settings.with_section("bale", bot_token=BOT_TOKEN, webhook_token=HOOK_TOKEN,
                                           api_url=bale_api.url), clock=clock)
    yield app
    _empty_tables(app.extensions["sms_gateway"].engine)
    app.extensions["sms_gateway"].engine.dispose()


@pytest.fixture
def gateway(bale_app):
    return bale_app.extensions["sms_gateway"]


@pytest.fixture
def client(bale_app):
    return bale_app.test_client()


@pytest.fixture
def sms_sent(gateway):
    """(number, text) of every SMS the console provider sent."""
    return gateway.providers["console"].sent


def post(client, update, token: str = HOOK_TOKEN):
    return client.post(f"/webhooks/bale/{token}", json=update)


def count(gateway, model) -> int:
    with gateway.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def one_ticket(gateway) -> Ticket:
    with gateway.sessions() as s:
        return s.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def report_on_bale(client, gateway, text: str = REPORT) -> Ticket:
    assert post(client, text_update(text)).status_code == 200
    return one_ticket(gateway)


# --- in and out ---------------------------------------------------------------------------------------

def test_an_update_opens_a_bale_ticket_and_the_acknowledgement_is_a_send_message_to_the_chat(
        client, gateway, bale_api, sms_sent):
    response = post(client, fixture("update_text"))
    assert response.status_code == 200 and response.data == b"OK"
    ticket = one_ticket(gateway)
    assert (ticket.channel, ticket.category, ticket.neighbourhood) == ("bale", "garbage", "فین")
    request = bale_api.requests[-1]
    assert request["path"] == f"/bot{BOT_TOKEN}/sendMessage"
    assert request["headers"]["Content-Type"] == "application/json"
    assert set(request["body"]) == {"chat_id", "text"} and request["body"]["chat_id"] == CHAT
    assert persian_digits(ticket.tracking_code) in request["body"]["text"]
    with gateway.sessions() as s:
        contact = s.get(Contact, ticket.contact_id)
        assert (contact.channel, contact.address) == ("bale", str(CHAT))
        inbound = s.scalar(select(InboundMessage))
        assert (inbound.provider, inbound.provider_message_id, inbound.channel) == ("bale", "731201", "bale")
        assert inbound.raw_payload == fixture("update_text")
        out = s.scalar(select(OutboundMessage))
        assert (out.status, out.channel, out.provider, out.to_address) == ("sent", "bale", "bale", str(CHAT))
        assert out.provider_message_id == "5001"
    assert sms_sent == [], "nothing went by SMS"


def test_bale_retrying_an_update_creates_nothing_and_sends_nothing_again(client, gateway, bale_api):
    update = fixture("update_text")
    for _ in range(3):
        assert post(client, update).status_code == 200
    assert count(gateway, Ticket) == 1 and count(gateway, InboundMessage) == 1 and len(bale_api.sent) == 1


def test_a_status_change_is_followed_up_on_bale(client, gateway, bale_api, sms_sent, clock):
    ticket = report_on_bale(client, gateway)
    set_status(gateway, ticket.tracking_code, "referred")
    sent = run_due(gateway, clock())
    assert [(s.to, s.kind) for s in sent] == [(str(CHAT), "referred")]
    chat_id, text = bale_api.sent[-1]
    assert chat_id == CHAT and persian_digits(ticket.tracking_code) in text and "ارجاع" in text
    assert sms_sent == []


def test_a_staff_reply_to_a_bale_ticket_goes_to_the_chat(client, gateway, bale_api, clock):
    from sms_gateway.services import tickets

    ticket = report_on_bale(client, gateway)
    outbound_id = tickets.reply(gateway.ctx, command_line_viewer("op1"), ticket.tracking_code,
                                "همکاران ما فردا صبح مراجعه می‌کنند", clock())
    assert gateway.ctx.outbox.deliver(gateway.sessions, outbound_id, clock()) == "sent"
    assert bale_api.sent[-1] == (CHAT, "همکاران ما فردا صبح مراجعه می‌کنند")


def test_an_identity_bound_request_on_bale_gets_the_authenticated_channel_and_no_ticket(client, gateway, bale_api):
    assert post(client, text_update("برای گرفتن پروانه ساختمانی چه مدارکی لازمه؟")).status_code == 200
    assert count(gateway, Ticket) == 0
    chat_id, text = bale_api.sent[-1]
    assert chat_id == CHAT and gateway.city.authenticated_channel in text
    with gateway.sessions() as s:
        assert s.scalar(select(OutboundMessage.kind)) == "identity_required"


def test_start_is_greeted_with_the_question_not_taken_as_opting_in(client, gateway, bale_api):
    assert post(client, text_update("/start")).status_code == 200
    assert count(gateway, Ticket) == 0
    assert bale_api.sent[-1][1] == gateway.ctx.texts.render("ask_what")


# --- Bale failing -------------------------------------------------------------------------------------

def test_bale_refusing_for_good_sends_the_same_text_by_sms_to_the_linked_number(
        client, gateway, bale_api, sms_sent, clock):
    assert post(client, fixture("update_contact_own")).status_code == 200
    ticket = report_on_bale(client, gateway)
    bale_api.failing = (403, "Forbidden: bot was blocked by the user")
    set_status(gateway, ticket.tracking_code, "referred")
    sent = run_due(gateway, clock())
    assert [(s.to, s.kind, s.status) for s in sent] == [(str(CHAT), "referred", "failed"),
                                                       ("+989121234567", "referred", "sent")]
    assert sent[0].text == sent[1].text
    assert sms_sent[-1] == ("+989121234567", sent[0].text)
    with gateway.sessions() as s:
        failed, by_sms = s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "referred")
                                   .order_by(OutboundMessage.id)).all()
        assert (failed.channel, failed.status, failed.attempts) == ("bale", "failed", 1)
        assert "403" in failed.last_error and "blocked" in failed.last_error
        assert (by_sms.channel, by_sms.provider, by_sms.ticket_id, by_sms.automated) == ("sms", "console", ticket.id,
                                                                                       True)


def test_bale_unreachable_is_retried_then_the_text_goes_by_sms(settings, clock, bale_api):
    app = create_app(settings.replace(max_send_attempts=3).with_section(
        "bale", bot_token=BOT_TOKEN, webhook_token=HOOK_TOKEN, api_url=bale_api.url), clock=clock)
    gateway = app.extensions["sms_gateway"]
    try:
        client = app.test_client()
        post(client, fixture("update_contact_own"))
        ticket = report_on_bale(client, gateway)
        bale_api.failing = (502, "Bad Gateway")
        set_status(gateway, ticket.tracking_code, "referred")
        statuses = []
        for _ in range(4):
            statuses += [(s.to, s.status) for s in run_due(gateway, clock())]
            clock.advance(minutes=20)
        assert statuses == [(str(CHAT), "queued"), (str(CHAT), "queued"), (str(CHAT), "failed"),
                            ("+989121234567", "sent")]
        assert gateway.providers["console"].sent[-1][0] == "+989121234567"
    finally:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()


def test_without_a_shared_number_a_failed_bale_message_stays_failed(client, gateway, bale_api, sms_sent, clock):
    ticket = report_on_bale(client, gateway)
    bale_api.failing = (403, "Forbidden: bot was blocked by the user")
    set_status(gateway, ticket.tracking_code, "referred")
    assert [s.status for s in run_due(gateway, clock())] == ["failed"]
    assert sms_sent == [] and count(gateway, OutboundMessage) == 2  # the acknowledgement and the failed one


def test_a_bot_no_longer_configured_leaves_its_follow_ups_to_sms(settings, clock, bale_api, client, gateway):
    post(client, fixture("update_contact_own"))
    ticket = report_on_bale(client, gateway)
    without_bale = create_app(settings, clock=clock).extensions["sms_gateway"]  # the same database, no [bale]
    try:
        set_status(without_bale, ticket.tracking_code, "referred")
        sent = run_due(without_bale, clock())
        assert [(s.to, s.status) for s in sent] == [(str(CHAT), "failed"), ("+989121234567", "sent")]
        assert without_bale.providers["console"].sent == [("+989121234567", sent[0].text)], \
            "the chat id never went to the SMS provider"
    finally:
        without_bale.engine.dispose()


# --- linking a shared contact -------------------------------------------------------------------------

def test_sharing_their_contact_links_the_chat_to_their_earlier_sms_citizen(client, gateway, bale_api, clock):
    by_sms = deliver(gateway, "چاله بزرگ تو خیابون طاهرآباد", sender=PHONE)
    on_bale = report_on_bale(client, gateway)
    with gateway.sessions() as s:
        sms_citizen = s.scalar(select(Ticket.citizen_id).where(Ticket.tracking_code == by_sms.ticket_code))
    assert on_bale.citizen_id != sms_citizen

    assert post(client, fixture("update_contact_own")).status_code == 200
    assert bale_api.sent[-1] == (CHAT, gateway.ctx.texts.render("phone_linked", mobile=PHONE))
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.citizen_id).where(Ticket.id == on_bale.id)) == sms_citizen
        bale_contact = s.scalar(select(Contact).where(Contact.channel == "bale"))
        assert bale_contact.citizen_id == sms_citizen
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.channel == "sms")) == 1
        assert set(s.scalars(select(InboundMessage.citizen_id))) == {sms_citizen}
        assert set(s.scalars(select(OutboundMessage.citizen_id))) == {sms_citizen}
        assert s.scalar(select(TicketEvent.note).where(TicketEvent.ticket_id == on_bale.id,
                                                       TicketEvent.action == "note")).startswith("شهروند شماره")
        share = s.scalar(select(InboundMessage).where(InboundMessage.provider_message_id == "731202"))
        assert (share.intent, share.ticket_id, share.citizen_id) == ("shared_contact", None, sms_citizen)
    # Staff searching the number find both requests; the Bale request's code answers a status query by SMS.
    page = queue(gateway.ctx, command_line_viewer(), QueueFilters(q=PHONE), clock())
    assert {row["code"] for row in page.rows} == {by_sms.ticket_code, on_bale.tracking_code}
    answer = deliver(gateway, f"پیگیری {on_bale.tracking_code}", sender=PHONE)
    assert answer.reply.startswith(f"درخواست {persian_digits(on_bale.tracking_code)}،")


def test_a_contact_share_whose_reading_failed_links_when_read_again(client, gateway, bale_api, monkeypatch, clock):
    from sms_gateway.services import citizens, intake

    def explode(*args, **kwargs):
        raise RuntimeError("linking failed")

    by_sms = deliver(gateway, "چاله بزرگ تو خیابون طاهرآباد", sender=PHONE)
    monkeypatch.setattr(citizens, "link_phone", explode)
    assert post(client, fixture("update_contact_own")).status_code == 200
    with gateway.sessions() as s:
        assert s.scalar(select(InboundMessage.state).where(InboundMessage.provider == "bale")) == "failed"
    monkeypatch.undo()
    assert intake.retry_failed(gateway.ctx, clock()) == 1
    with gateway.sessions() as s:
        sms_citizen = s.scalar(select(Ticket.citizen_id).where(Ticket.tracking_code == by_sms.ticket_code))
        assert s.scalar(select(Contact.citizen_id).where(Contact.channel == "bale")) == sms_citizen
    assert bale_api.sent[-1] == (CHAT, gateway.ctx.texts.render("phone_linked", mobile=PHONE))


def test_sharing_a_new_number_adds_it_to_the_bale_citizen(client, gateway, bale_api):
    on_bale = report_on_bale(client, gateway)
    post(client, contact_update(phone="+98 912 123 4567"))
    with gateway.sessions() as s:
        contact = s.scalar(select(Contact).where(Contact.channel == "sms"))
        assert (contact.address, contact.citizen_id) == ("+989121234567", on_bale.citizen_id)
        assert s.scalar(select(func.count()).select_from(Citizen)) == 1
    later = deliver(gateway, "پیگیری " + on_bale.tracking_code, sender=PHONE)
    assert later.reply.startswith(f"درخواست {persian_digits(on_bale.tracking_code)}،"), "the number is theirs"


def test_sharing_the_same_contact_again_changes_nothing(client, gateway, bale_api):
    deliver(gateway, "چاله بزرگ تو خیابون طاهرآباد", sender=PHONE)
    post(client, contact_update())
    post(client, contact_update())
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(Contact.citizen_id)))) == 1
    assert [text for _, text in bale_api.sent].count(gateway.ctx.texts.render("phone_linked", mobile=PHONE)) == 2


def test_a_contact_card_of_someone_else_links_nothing(client, gateway, bale_api):
    deliver(gateway, "چاله بزرگ تو خیابون طاهرآباد", sender="09359876543")  # the card's number writes by SMS
    assert post(client, fixture("update_contact_other")).status_code == 200
    with gateway.sessions() as s:
        bale = s.scalar(select(Contact).where(Contact.channel == "bale"))
        sms = s.scalar(select(Contact).where(Contact.channel == "sms"))
        assert bale.citizen_id != sms.citizen_id
        assert s.scalar(select(func.count()).select_from(Contact)) == 2
    assert bale_api.sent[-1][1] == gateway.ctx.texts.render("ask_what")


def test_a_card_without_the_senders_id_links_nothing(client, gateway):
    update = contact_update(phone="989359876543")
    del update["message"]["contact"]["user_id"]  # a card typed in by hand
    post(client, update)
    with gateway.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.channel == "sms")) == 0


def test_a_number_that_is_not_an_iranian_mobile_is_not_linked_and_they_are_told(client, gateway, bale_api):
    post(client, contact_update(phone="+14155550100"))
    with gateway.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.channel == "sms")) == 0
    assert bale_api.sent[-1][1] == gateway.ctx.texts.render("phone_not_linked")


def test_an_opt_out_on_bale_holds_for_the_linked_number(client, gateway, bale_api, sms_sent, clock):
    by_sms = deliver(gateway, "چاله بزرگ تو خیابون طاهرآباد", sender=PHONE)
    post(client, text_update("لغو"))
    post(client, contact_update())
    set_status(gateway, by_sms.ticket_code, "referred")
    assert [s.status for s in run_due(gateway, clock())] == []
    with gateway.sessions() as s:
        assert s.scalar(select(OutboundMessage.status).where(OutboundMessage.kind == "referred")) == "suppressed"


# --- refusals -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [f"/webhooks/bale/{HOOK_TOKEN[:-1]}", "/webhooks/bale/wrong", "/webhooks/bale",
                                  f"/webhooks/bale/{HOOK_TOKEN}x"])
def test_a_forged_or_missing_token_is_403_and_stores_nothing(client, gateway, bale_api, path):
    response = client.post(path, json=fixture("update_text"))
    assert response.status_code == 403
    assert count(gateway, InboundMessage) == 0 and bale_api.requests == []


@pytest.mark.parametrize("body,reason", [
    (b"{not json", "not valid JSON"), (b"", "not valid JSON"), (b"[1, 2]", "JSON object"), (b'"hi"', "JSON object"),
    (b'{"message": {"chat": {"id": 1}, "text": "x"}}', "update_id"),
    (b'{"update_id": "7", "message": {"chat": {"id": 1}, "text": "x"}}', "update_id"),
    (b'{"update_id": 7, "message": {"text": "x"}}', "message.chat.id"),
    (b'{"update_id": 7, "message": {"chat": {"id": null}, "text": "x"}}', "message.chat.id"),
])
def test_a_malformed_update_is_400_with_the_reason_and_stores_nothing(client, gateway, body, reason):
    response = client.post(f"/webhooks/bale/{HOOK_TOKEN}", data=body, content_type="application/json")
    assert response.status_code == 400 and reason in response.get_json()["error"]
    assert count(gateway, InboundMessage) == 0


@pytest.mark.parametrize("name", ["update_edited_message", "update_callback_query", "update_group_message"])
def test_updates_without_a_private_message_are_acknowledged_and_ignored(client, gateway, bale_api, name):
    response = post(client, fixture(name))
    assert response.status_code == 200
    assert count(gateway, InboundMessage) == 0 and count(gateway, Ticket) == 0 and bale_api.requests == []


def test_only_post_is_routed(client):
    assert client.get(f"/webhooks/bale/{HOOK_TOKEN}").status_code == 405


# --- secrets ------------------------------------------------------------------------------------------

class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line():
    """The app's own logging set up at DEBUG, every formatted line (with its extra fields) kept."""
    root, urllib3 = logging.getLogger(), logging.getLogger("urllib3")
    saved = root.handlers[:], root.level, urllib3.level
    configure("json", logging.DEBUG)
    records = _Records()
    records.setFormatter(root.handlers[0].formatter)
    root.addHandler(records)
    yield records.lines
    handlers, level, urllib3_level = saved
    root.handlers[:] = handlers
    root.setLevel(level)
    urllib3.setLevel(urllib3_level)


def test_neither_token_reaches_a_log_or_the_staff_pages_data(settings, clock, bale_api, every_log_line):
    app = create_app(settings.with_section("bale", bot_token=BOT_TOKEN, webhook_token=HOOK_TOKEN,
                                           api_url=bale_api.url), clock=clock)
    gateway = app.extensions["sms_gateway"]
    try:
        client = app.test_client()
        post(client, text_update(REPORT))                      # sent
        bale_api.answers = [(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})]
        post(client, text_update("چاله بزرگ تو خیابون طاهرآباد"))  # refused
        bale_api.answers = [(502, "<html>Bad Gateway</html>")]
        post(client, text_update("چراغ کوچه خاموشه، محله فین"))    # not JSON
        unreachable = create_app(settings.with_section("bale", bot_token=BOT_TOKEN, webhook_token=HOOK_TOKEN,
                                                       api_url="http://127.0.0.1:9"), clock=clock)
        post(unreachable.test_client(), text_update("جوی آب پر از لجن، محله فین"))  # nobody listening
        unreachable.extensions["sms_gateway"].engine.dispose()
        post(client, text_update("x"), token="wrong-token")
        logged = "\n".join(every_log_line)
        assert "sent outbound" in logged and "bale 401: Unauthorized" in logged, "the sends were logged"
        assert '"path": "/webhooks/bale/***"' in logged
        assert BOT_TOKEN not in logged and BOT_TOKEN.split(":")[1] not in logged
        assert HOOK_TOKEN not in logged
        with gateway.sessions() as s:
            errors = [e for e in s.scalars(select(OutboundMessage.last_error)) if e]
        assert len(errors) == 3 and not any(BOT_TOKEN.split(":")[1] in e for e in errors)
        assert any("unreachable: ConnectionError" in e for e in errors)
    finally:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()


# --- settings -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("section,key", [
    ({"bot_token": BOT_TOKEN, "webhook_token": "short-token"}, "bale.webhook_token"),
    ({"bot_token": BOT_TOKEN}, "bale.webhook_token"),
    ({"webhook_token": HOOK_TOKEN}, "bale.bot_token"),
])
def test_a_short_or_missing_bale_secret_stops_startup_naming_the_key(section, key):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        settings_from_mapping({"bale": section})


def test_bale_settings_from_the_file_and_an_unconfigured_bot_has_no_webhook(database_url, clock):
    s = settings_from_mapping({"database_url": database_url, "secret_key": "k" * 40,
                               "bale": {"bot_token": BOT_TOKEN, "webhook_token": HOOK_TOKEN}})
    assert (s.bale.api_url, s.bale.configured) == ("https://tapi.bale.ai", True)
    app = create_app(settings_from_mapping({"database_url": database_url}), clock=clock)
    assert app.test_client().post(f"/webhooks/bale/{HOOK_TOKEN}", json=fixture("update_text")).status_code == 404
    app.extensions["sms_gateway"].engine.dispose()
