"""One security test for every provider in the registry, from its recorded payload: a genuine delivery is
stored once (a replay changes nothing); a forged, unsigned or wrongly tokened one is refused and stores
nothing. A provider added to the registry without a case here fails the first test."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sms_gateway.providers import PROVIDERS
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from sms_gateway.adapters.models import InboundMessage
from sms_gateway.web import create_app
from tests.conftest import KAVE_TOKEN, MELI_TOKEN, PUBLIC_URL, TWILIO_TOKEN, _empty_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BALE_HOOK = "bale-hook-0123456789abcdef-XYZ"


def payload(provider: str) -> dict:
    name = "update_text" if provider == "bale" else "inbound"
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


def twilio(client, mode: str):
    p = payload("twilio")["params"]
    path = "/webhooks/twilio/sms"
    signature = {"genuine": RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, p),
                 "forged": RequestValidator("not-the-token").compute_signature(PUBLIC_URL + path, p),
                 "missing": None, "wrong_token": RequestValidator(TWILIO_TOKEN).compute_signature(
                     "https://other.example" + path, p)}[mode]
    return client.post(path, data=p, headers={"X-Twilio-Signature": signature} if signature else {})


def token_path(provider: str, token: str):
    def send(client, mode: str):
        p = payload(provider)
        given = {"genuine": token, "forged": token[:-1] + ("x" if token[-1] != "x" else "y"), "missing": "",
                 "wrong_token": "a" * len(token)}[mode]
        path = f"/webhooks/{provider}/{given}/sms" if given else f"/webhooks/{provider}//sms"
        return client.get(path, query_string=p["params"]) if p["method"] == "GET" else \
            client.post(path, data=p["params"])
    return send


def bale(client, mode: str):
    given = {"genuine": BALE_HOOK, "forged": BALE_HOOK[:-1] + "Q", "missing": "", "wrong_token": "b" * 30}[mode]
    return client.post(f"/webhooks/bale/{given}", json=payload("bale"))


def console(client, mode: str):
    return client.post("/webhooks/console/sms", json=payload("console")["json"])


SENDERS = {"twilio": twilio, "kavenegar": token_path("kavenegar", KAVE_TOKEN),
           "melipayamak": token_path("melipayamak", MELI_TOKEN), "bale": bale, "console": console}
SIGNED = sorted(set(PROVIDERS) - {"console"})  # the console is for development only and proves nothing


def test_every_provider_in_the_registry_is_covered_here():
    assert set(SENDERS) == set(PROVIDERS)
    for provider in PROVIDERS:
        assert payload(provider), provider


@pytest.fixture
def app(settings, clock):
    s = settings.with_section("bale", bot_token="1722879998:R6vZeQFAsTestOnlyBotToken2GdiSRbu",
                              webhook_token=BALE_HOOK, api_url="http://127.0.0.1:9")
    app = create_app(s, clock=clock)
    yield app
    _empty_tables(app.extensions["sms_gateway"].engine)
    app.extensions["sms_gateway"].engine.dispose()


def stored(app) -> int:
    with app.extensions["sms_gateway"].sessions() as s:
        return s.scalar(select(func.count(InboundMessage.id)))


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_genuine_delivery_is_stored_once_and_a_replay_changes_nothing(app, provider):
    client = app.test_client()
    first = SENDERS[provider](client, "genuine")
    assert first.status_code == 200, first.get_data(as_text=True)
    again = SENDERS[provider](client, "genuine")
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert stored(app) == 1


@pytest.mark.parametrize("mode", ["forged", "missing", "wrong_token"])
@pytest.mark.parametrize("provider", SIGNED)
def test_a_forged_unsigned_or_wrongly_tokened_delivery_is_refused_and_stores_nothing(app, provider, mode):
    response = SENDERS[provider](app.test_client(), mode)
    assert response.status_code in (403, 404), (provider, mode, response.status_code)
    assert response.status_code == 403 or mode == "missing"  # no token at all: no route, or refused
    assert stored(app) == 0
