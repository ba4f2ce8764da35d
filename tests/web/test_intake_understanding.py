"""Intake acting on what it understood: tickets carry category and place; special intents answer at once."""
from sqlalchemy import select

from sms_gateway.adapters.models import Citizen, OutboundMessage, Ticket


def _say(client, text, sender="09121234567"):
    response = client.post("/webhooks/console/sms", json={"from": sender, "text": text})
    assert response.status_code == 200
    return response.get_json()["reply"]


def _tickets(gateway):
    with gateway.sessions() as s:
        return s.scalars(select(Ticket).order_by(Ticket.id)).all()


def test_report_ticket_gets_category_place_and_region(client, gateway):
    _say(client, "سه روزه آشغالای کوچه ما رو نبردن، محله فین")
    ticket = _tickets(gateway)[0]
    assert (ticket.intent, ticket.category, ticket.neighbourhood, ticket.region) == ("report", "garbage", "فین", 4)


def test_place_with_unknown_region_is_kept_without_region(client, gateway):
    _say(client, "لامپای کوچه ۳ لتحر سوخته")
    ticket = _tickets(gateway)[0]
    assert ticket.neighbourhood == "لتحر" and ticket.region is None


def test_emergency_answers_with_number_and_opens_flagged_ticket(client, gateway):
    reply = _say(client, "آتیش گرفته انبار چوب نزدیک میدان قطب!!! زود بیایید")
    assert "۱۲۵" in reply and "آتش‌نشانی" in reply
    gas = _say(client, "بوی گاز خیلی شدید تو کوچه، فوری")
    assert "۱۹۴" in gas
    hurt = _say(client, "تصادف شده یه نفر زخمیه آمبولانس بفرستید")
    assert "۱۱۵" in hurt
    tickets = _tickets(gateway)
    assert len(tickets) == 3 and all(t.emergency and t.intent == "emergency" for t in tickets)
    assert tickets[0].neighbourhood == "قطب راوندی"


def test_identity_required_opens_no_ticket_and_names_the_channel(client, gateway):
    reply = _say(client, "برای گرفتن پروانه ساختمانی چه مدارکی لازمه؟")
    assert "احراز هویت" in reply
    assert _tickets(gateway) == []
    with gateway.sessions() as s:
        assert s.scalar(select(OutboundMessage.kind)) == "identity_required"


def test_opt_out_confirmed_once_and_opt_in(client, gateway):
    assert "قطع شد" in _say(client, "لغو ۱۱")
    assert _say(client, "١١") is None
    with gateway.sessions() as s:
        assert s.scalar(select(Citizen.opted_out)) is True
    assert "فعال شد" in _say(client, "12")
    with gateway.sessions() as s:
        assert s.scalar(select(Citizen.opted_out)) is False
    assert _tickets(gateway) == []


def test_place_outside_the_city_is_told_politely(client, gateway):
    reply = _say(client, "جاده قمصر پر از چاله است")
    assert "قمصر" in reply and "کاشان نیست" in reply
    assert _tickets(gateway) == []


def test_greeting_gets_question_not_ticket(client, gateway):
    assert "بنویسید" in _say(client, "سلام وقت بخیر")
    assert _tickets(gateway) == []
