"""Whatever a provider's API answers, a send is a success or a SendError that counts an attempt (issue 14,
item 12): JSON that is not an object, an object without the fields that say it was sent, HTML, an empty
body, each for every provider that sends, against a local fake of its API. Nothing stays `sending` with
no attempt counted, and a main provider answering nonsense hands over to the fallback."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sms_gateway.providers.base import Received
from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage
from sms_gateway.bootstrap import build_gateway
from sms_gateway.services import intake
from tests.fakes import FakeProviderApi

BOT_TOKEN = "1722879998:R6vZeQFAsTestOnlyBotToken2GdiSRbu"
UNEXPECTED = {
    "a list": (200, [1, 2]), "a string": (200, '"ok"'), "null": (200, "null"), "a number": (200, "200"),
    "an empty object": (200, {}), "html": (200, "<html><body>Bad gateway</body></html>"), "empty": (200, ""),
    "html 502": (502, "<html>502</html>"), "fields of the wrong type": (200, {
        "return": "ok", "entries": "x", "recId": {"a": 1}, "sid": ["x"], "ok": "yes", "result": [1]}),
    "return without entries": (200, {"return": {"status": 200, "message": "تایید شد"}}),
    "ok without a result": (200, {"ok": True}),
}


def _gateway(settings, clock, api_url, made, provider="kavenegar", **changes):
    s = settings.replace(provider=provider if provider != "bale" else "kavenegar", **changes) \
        .with_section("kavenegar", api_url=api_url).with_section("melipayamak", api_url=api_url) \
        .with_section("twilio", api_url=api_url) \
        .with_section("bale", bot_token=BOT_TOKEN, webhook_token="bale-hook-0123456789abcdef-XYZ", api_url=api_url)
    gateway = build_gateway(s, clock)
    made.append(gateway)
    return gateway


def _queue_reply(gateway, provider: str, n: int = 0) -> None:
    channel, sender = ("bale", str(1045871203 + n)) if provider == "bale" else ("sms", f"0912{n:07d}")
    message = Received(provider, f"m-{provider}-{n}", sender, "10007000137", "چاله عمیق تو خیابون فین", {},
                       channel=channel)
    receipt = intake.receive(gateway.ctx, message, gateway.clock(), reply_inline=False)
    assert receipt.outbound_id is not None


def _rows(gateway):
    with gateway.sessions() as s:
        return s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()


@pytest.mark.parametrize("answer", sorted(UNEXPECTED))
@pytest.mark.parametrize("provider", ["kavenegar", "melipayamak", "twilio", "bale"])
def test_an_unexpected_answer_is_a_failed_attempt_counted(settings, clock, made, provider, answer):
    with FakeProviderApi(default=UNEXPECTED[answer]) as api:
        gateway = _gateway(settings, clock, api.url, made, provider)
        _queue_reply(gateway, provider)
        [sent] = gateway.ctx.outbox.send_due(gateway.sessions, clock.now)
        assert len(api.requests) == 1
        [row] = [r for r in _rows(gateway) if r.channel == ("bale" if provider == "bale" else "sms")]
        assert sent.status == row.status and row.status in ("queued", "failed"), (row.status, row.last_error)
        assert row.attempts == 1 and row.last_error and row.provider_message_id is None
        # nothing is left for the lease: a later run sends it again only when its backoff is due
        later = clock.now + timedelta(hours=1)
        gateway.ctx.outbox.send_due(gateway.sessions, later)
        assert all(r.status != "sending" for r in _rows(gateway))


class TwoPanels(FakeProviderApi):
    """Kavenegar answering `nonsense`, Melipayamak sending."""

    def __init__(self, nonsense):
        super().__init__()
        self.nonsense = nonsense

    def answer(self, request):
        if request["path"].startswith("/v1/"):
            return self.nonsense
        return 200, {"recId": 4242, "status": "ارسال موفق بود"}


@pytest.mark.parametrize("answer", ["a list", "html", "an empty object"])
def test_a_main_provider_answering_nonsense_hands_over_to_the_fallback(settings, clock, made, answer):
    with TwoPanels(UNEXPECTED[answer]) as api:
        gateway = _gateway(settings, clock, api.url, made, "kavenegar", fallback_provider="melipayamak",
                           fallback_after=2)
        for n in range(4):
            _queue_reply(gateway, "kavenegar", n)
        gateway.ctx.outbox.send_due(gateway.sessions, clock.now)
        rows = _rows(gateway)
        assert [r.provider for r in rows if r.status == "sent"] == ["melipayamak"] * 3
        paths = [r["path"] for r in api.requests]
        assert sum(p.startswith("/v1/") for p in paths) == 2 and sum(p.startswith("/api/") for p in paths) == 3
