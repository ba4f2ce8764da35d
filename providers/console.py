"""Development provider: JSON in, JSON out, outbound texts printed to the log."""
from __future__ import annotations

import json
import logging
import uuid

from .base import InboundSms, SendResult, WebhookAnswer, WebhookRejected, WebhookRequest, require

log = logging.getLogger("sms_gateway.console")


class ConsoleProvider:
    name = "console"

    def __init__(self, settings=None):
        self.sent: list[tuple[str, str]] = []

    def verify(self, request: WebhookRequest) -> None:
        """Nothing to verify: the console webhook exists only when console is the outbound provider."""

    def parse_inbound(self, request: WebhookRequest) -> InboundSms:
        payload = request.json()
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "body must be a JSON object")
        text = payload.get("text")
        if not isinstance(text, str):
            raise WebhookRejected(400, "missing field: text")
        return InboundSms(
            provider=self.name,
            message_id=str(payload.get("id") or uuid.uuid4()),
            sender=require(payload, "from"),
            recipient=str(payload.get("to") or ""),
            text=text,
            raw=payload,
        )

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer(json.dumps({"reply": reply}, ensure_ascii=False), "application/json")

    def replies_inline(self) -> bool:
        return True

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        log.info("SMS to %s: %s", to, text)
        self.sent.append((to, text))
        return SendResult(provider_message_id=f"console-{local_id}")

    def parse_delivery(self, request: WebhookRequest):
        raise WebhookRejected(404, "the console provider has no delivery reports")
