from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_URL, TWILIO_TOKEN

_counter = iter(range(10**9))


def twilio_params(body: str, sender: str = "+989121234567", sid: str | None = None) -> dict:
    return {"MessageSid": sid or f"SM{next(_counter):032d}", "AccountSid": "AC" + "0" * 32,
            "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0"}


def post_twilio(client, params: dict, path: str = "/webhooks/twilio/sms", token: str = TWILIO_TOKEN,
                signature: str | None = None):
    """POST a form signed exactly as Twilio signs it, against the public URL."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})
