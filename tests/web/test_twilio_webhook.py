import re
import xml.etree.ElementTree as ET

from sqlalchemy import func, select

from sms_gateway.adapters.models import InboundMessage, OutboundMessage, Ticket, TicketEvent
from sms_gateway.domain.codes import damm_digit
from sms_gateway.domain.text import persian_digits
from tests.support import carries_code, phone_of
from tests.web.helpers import post_twilio, twilio_params

UNKNOWN_CODE = "1234567" + str(damm_digit("1234567"))  # could be one of ours; is nobody's


def _reply(response) -> str:
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/xml")
    message = ET.fromstring(response.data).find("Message")
    return message.text if message is not None else ""


def _count(gateway, model) -> int:
    with gateway.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _code(reply: str) -> str:
    latin = reply.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    return re.search(r"\d{8}", latin).group()


def test_signed_report_opens_ticket_and_answers_with_tracking_code(client, gateway):
    reply = _reply(post_twilio(client, twilio_params("چاله بزرگ وسط کوچه ۱۲ فین، ماشین‌ها آسیب میبینن")))
    code = _code(reply)
    assert carries_code(reply) and not re.search(r"[0-9]", reply), "Persian digits only"
    with gateway.sessions() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.tracking_code == code))
        assert ticket.status == "registered" and phone_of(s, ticket.citizen_id) == "+989121234567"
        assert s.scalar(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)) == "opened"
        inbound = s.scalar(select(InboundMessage))
        assert inbound.raw_payload["Body"].startswith("چاله") and inbound.ticket_id == ticket.id
        out = s.scalar(select(OutboundMessage))
        assert out.text == reply and out.segments == 1 and out.status == "sent" and out.kind == "ack"


def test_forged_missing_or_wrong_url_signature_is_refused_and_stores_nothing(client, gateway):
    params = twilio_params("زباله")
    assert post_twilio(client, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert client.post("/webhooks/twilio/sms", data=params).status_code == 403
    assert post_twilio(client, params, token="someone-elses-token").status_code == 403
    tampered = dict(params)
    signed = post_twilio.__globals__["RequestValidator"]("test-auth-token-0123456789abcdef") \
        .compute_signature("https://sms.kashan.example/webhooks/twilio/sms", params)
    tampered["Body"] = "متن دیگر"
    response = client.post("/webhooks/twilio/sms", data=tampered, headers={"X-Twilio-Signature": signed})
    assert response.status_code == 403
    assert b"Traceback" not in response.data
    assert _count(gateway, InboundMessage) == 0


def test_missing_fields_are_a_400_with_the_reason(client):
    params = twilio_params("x")
    del params["From"]
    response = post_twilio(client, params)
    assert response.status_code == 400 and "From" in response.get_json()["error"]
    params = twilio_params("x")
    del params["Body"]
    assert post_twilio(client, params).status_code == 400


def test_provider_retry_gets_same_answer_and_makes_nothing_new(client, gateway):
    params = twilio_params("لامپ تیر برق کوچه ما سوخته")
    first = _reply(post_twilio(client, params))
    second = _reply(post_twilio(client, params))
    assert first == second
    assert _count(gateway, Ticket) == 1 and _count(gateway, InboundMessage) == 1
    assert _count(gateway, OutboundMessage) == 1


def test_each_report_from_one_number_is_its_own_ticket(client, gateway):
    a = _code(_reply(post_twilio(client, twilio_params("جوی آب گرفته تو لتحر"))))
    b = _code(_reply(post_twilio(client, twilio_params("سگ ولگرد توی پارک طاهرآباد"))))
    assert a != b and _count(gateway, Ticket) == 2


def test_blank_text_gets_a_question_not_a_ticket(client, gateway):
    for body in ["", "   ", "\u200c\n"]:
        reply = _reply(post_twilio(client, twilio_params(body)))
        assert "بنویسید" in reply
    assert _count(gateway, Ticket) == 0 and _count(gateway, InboundMessage) == 3


def test_status_query_answers_owner_and_reveals_nothing_to_others(client, gateway):
    code = _code(_reply(post_twilio(client, twilio_params("سگ ولگرد تو پارک طاهرآباد به بچه ها حمله میکنه"))))
    persian_code = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    arabic_code = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for text in [f"پیگیری {persian_code}", arabic_code, f"کد رهگیری {code}"]:
        reply = _reply(post_twilio(client, twilio_params(text)))
        assert "ثبت شده" in reply and persian_code in reply
    stranger = _reply(post_twilio(client, twilio_params(f"پیگیری {code}", sender="+989359876543")))
    unknown = _reply(post_twilio(client, twilio_params(f"پیگیری {UNKNOWN_CODE}", sender="+989359876543")))
    assert "ثبت شده" not in stranger and "پیدا نشد" in stranger
    assert stranger.replace(persian_code, "X") == unknown.replace(persian_digits(UNKNOWN_CODE), "X")
    assert _count(gateway, Ticket) == 1


def test_body_over_64kb_is_413(client):
    params = twilio_params("ب" * 40000)
    assert post_twilio(client, params).status_code == 413


def test_long_text_is_stored_whole_and_truncated_for_processing(client, gateway):
    body = "زباله جمع نشده " * 200
    _reply(post_twilio(client, twilio_params(body)))
    with gateway.sessions() as s:
        inbound = s.scalar(select(InboundMessage))
        ticket = s.scalar(select(Ticket))
        assert inbound.text == body and inbound.truncated
        assert len(ticket.description) == 1600
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.action == "note")).all()
        assert any("کوتاه شد" in n for n in notes)


def test_status_callback_updates_outbound(client, gateway):
    _reply(post_twilio(client, twilio_params("آسفالت خراب")))
    with gateway.sessions.begin() as s:
        s.scalar(select(OutboundMessage)).provider_message_id = "SMout1"
    response = post_twilio(client, {"MessageSid": "SMout1", "MessageStatus": "delivered"},
                           path="/webhooks/twilio/status")
    assert response.status_code == 200
    with gateway.sessions() as s:
        assert s.scalar(select(OutboundMessage.status)) == "delivered"
    unknown = post_twilio(client, {"MessageSid": "SMnot-ours", "MessageStatus": "delivered"},
                          path="/webhooks/twilio/status")
    assert unknown.status_code == 404  # as for every provider
    bad = post_twilio(client, {"MessageSid": "SMout1", "MessageStatus": "failed"},
                      path="/webhooks/twilio/status", signature="forged")
    assert bad.status_code == 403


def test_signature_checked_against_public_url_not_internal_host(client):
    from twilio.request_validator import RequestValidator
    params = twilio_params("زباله")
    internal = RequestValidator("test-auth-token-0123456789abcdef").compute_signature(
        "http://localhost/webhooks/twilio/sms", params)
    assert post_twilio(client, params, signature=internal).status_code == 403
