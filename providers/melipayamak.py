"""Melipayamak: inbound forwarded by GET ?from=&to=&body= to a secret-token URL, must answer `OK`.

Its forwarding carries no message id, so a retry is recognised by a digest of sender, line, text
and the 10-minute window it arrived in.
"""
from __future__ import annotations

import hashlib
import time

import requests

from .base import (DeliveryReport, InboundSms, SendError, SendResult, WebhookAnswer, WebhookRequest,
                   first, require)
from .kavenegar import _text, verify_path_token

DEDUP_WINDOW_SECONDS = 600


class MelipayamakProvider:
    name = "melipayamak"

    def __init__(self, settings, session: requests.Session | None = None, clock=time.time):
        self.config = settings.melipayamak
        self._timeout = settings.send_timeout_seconds
        self._http = session or requests.Session()
        self._clock = clock

    def verify(self, request: WebhookRequest) -> None:
        verify_path_token(self.config.webhook_token, request.token)

    def parse_inbound(self, request: WebhookRequest) -> InboundSms:
        params = request.params()
        sender = require(params, "from")
        recipient = first(params, "to")
        text = _text(params, "body", "text")
        message_id = first(params, "id", "msgid")
        if not message_id:
            window = int(self._clock() // DEDUP_WINDOW_SECONDS)
            message_id = "h:" + hashlib.sha256(f"{sender}|{recipient}|{text}|{window}".encode()).hexdigest()[:40]
        return InboundSms(self.name, message_id, sender, recipient, text, {k: params.get(k) for k in params})

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer("OK")

    def replies_inline(self) -> bool:
        return False

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        url = f"{self.config.api_url.rstrip('/')}/api/send/simple/{self.config.api_key}"
        try:
            response = self._http.post(url, json={"from": self.config.sender, "to": to, "text": text},
                                       timeout=self._timeout)
            body = response.json()
        except requests.RequestException as exc:
            raise SendError(f"melipayamak unreachable: {type(exc).__name__}") from None
        except ValueError:
            raise SendError(f"melipayamak answered HTTP {response.status_code} without JSON") from None
        rec_id = str(body.get("recId") or "")
        if response.status_code >= 500:
            raise SendError(f"melipayamak HTTP {response.status_code}")
        if response.status_code != 200 or not rec_id or rec_id in {"0", "-1"}:
            raise SendError(f"melipayamak refused: {body.get('status') or response.status_code}",
                            retryable=False)
        return SendResult(provider_message_id=rec_id)

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        params = request.params()
        return DeliveryReport(self.name, require(params, "recId"), first(params, "status") or "sent")
