import json

import pytest
from sms_gateway.providers.base import SendError
from sms_gateway.providers.twilio import TwilioProvider
from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage
from sms_gateway.web import create_app
from tests.fakes import FakeProviderApi
from tests.support import carries_code


def test_console_webhook_round_trips_json(client, gateway):
    response = client.post("/webhooks/console/sms", json={"from": "09121234567", "text": "لامپ کوچه سوخته"})
    assert response.status_code == 200
    assert carries_code(response.get_json()["reply"])
    with gateway.sessions() as s:
        assert s.scalar(select(OutboundMessage.provider)) == "console"


@pytest.mark.parametrize("body,reason", [(b"not json", "JSON"), (b"[1,2]", "object"),
                                         (json.dumps({"from": "0912"}).encode(), "text"),
                                         (json.dumps({"text": "x"}).encode(), "from"),
                                         (json.dumps({"from": "hello", "text": "x"}).encode(), "phone")])
def test_console_bad_input_is_400_with_reason(client, body, reason):
    response = client.post("/webhooks/console/sms", data=body, content_type="application/json")
    assert response.status_code == 400 and reason in response.get_json()["error"]


def test_console_webhook_disabled_for_other_outbound_providers(settings, clock):
    app = create_app(settings.replace(provider="kavenegar"), clock=clock)
    assert app.test_client().post("/webhooks/console/sms", json={"from": "0912", "text": "x"}).status_code == 404
    app.extensions["sms_gateway"].engine.dispose()


def test_twilio_send_uses_rest_api_with_status_callback(settings):
    with FakeProviderApi(default=(201, {"sid": "SM" + "a" * 32, "status": "queued"})) as api:
        provider = TwilioProvider(settings.with_section("twilio", api_url=api.url))
        result = provider.send("+989121234567", "سلام", "42")
        assert result.provider_message_id == "SM" + "a" * 32
        request = api.requests[0]
        assert request["path"] == f"/2010-04-01/Accounts/{settings.twilio.account_sid}/Messages.json"
        assert request["body"]["StatusCallback"] == "https://sms.kashan.example/webhooks/twilio/status"
        assert request["body"]["Body"] == "سلام" and request["body"]["To"] == "+989121234567"
        api.default = (400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
        with pytest.raises(SendError) as err:
            provider.send("+98", "x", "43")
        assert not err.value.retryable and "21211" in str(err.value)
