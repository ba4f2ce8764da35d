"""Development provider: JSON in, JSON out, outbound texts printed to the log."""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from .base import DeliveryReport, Received, Route, SendResult, WebhookAnswer, WebhookRejected, WebhookRequest, require

log = logging.getLogger("sms_gateway.console")


@dataclass(frozen=True)
class ConsoleSettings:
    required = ()

    @property
    def configured(self) -> bool:
        return True


class ConsoleProvider:
    name = "console"
    channel = "sms"
    settings_class = ConsoleSettings
    routes = (Route("sms", "inbound"),)
    token_in_path = False
    replies_inline = True
    deduplicates_resends = True  # nothing leaves the machine

    def __init__(self, settings: Any = None, http: Any = None):
        self.sent: list[tuple[str, str]] = []

    def verify(self, request: WebhookRequest) -> None:
        """Nothing to verify: the console webhook exists only when console is the outbound provider."""

    def parse_inbound(self, request: WebhookRequest) -> Received:
        payload = request.json()
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "body must be a JSON object")
        text = payload.get("text")
        if not isinstance(text, str):
            raise WebhookRejected(400, "missing field: text")
        return Received(provider=self.name, message_id=str(payload.get("id") or uuid.uuid4()),
                        sender=require(payload, "from"), recipient=str(payload.get("to") or ""), text=text,
                        raw=payload)

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer(json.dumps({"reply": reply}, ensure_ascii=False), "application/json")

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        log.info("SMS to %s: %s", to, text)
        self.sent.append((to, text))
        return SendResult(provider_message_id=f"console-{local_id}")

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        raise WebhookRejected(404, "the console provider has no delivery reports")
