"""Melipayamak: inbound forwarded by GET ?from=&to=&body= to a secret-token URL, must answer `OK`.

Its forwarding carries no message id: intake recognises a retry as the same sender, line and text
within a sliding window (see `services.intake`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .base import (
    DeliveryReport,
    Received,
    Route,
    SendError,
    SendResult,
    WebhookAnswer,
    WebhookRequest,
    all_params,
    first,
    json_object,
    require,
    text_field,
    verify_path_token,
)


@dataclass(frozen=True)
class MelipayamakSettings:
    api_key: str = ""
    webhook_token: str = ""
    api_url: str = "https://console.melipayamak.com"
    sender: str = ""  # the line; empty: the city's line
    required = ("api_key", "webhook_token")

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.webhook_token)


class MelipayamakProvider:
    name = "melipayamak"
    channel = "sms"
    settings_class = MelipayamakSettings
    routes = (Route("sms", "inbound", ("GET", "POST")), Route("status", "delivery", ("GET", "POST")))
    token_in_path = True
    replies_inline = False
    deduplicates_resends = False  # a resend after a crash mid-send may reach the citizen twice

    def __init__(self, settings: Any, http: requests.Session | None = None):
        self.config: MelipayamakSettings = settings.section(self.name)
        self.line = self.config.sender or settings.line
        self._timeout = settings.send_timeout_seconds
        self._http = http or requests.Session()

    def verify(self, request: WebhookRequest) -> None:
        verify_path_token(self.config.webhook_token, request.token)

    def parse_inbound(self, request: WebhookRequest) -> Received:
        params = request.params()
        return Received(self.name, first(params, "id", "msgid"), require(params, "from"), first(params, "to"),
                        text_field(params, "body", "text"), all_params(params))

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer("OK")

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        url = f"{self.config.api_url.rstrip('/')}/api/send/simple/{self.config.api_key}"
        try:
            response = self._http.post(url, json={"from": self.line, "to": to, "text": text}, timeout=self._timeout)
            body = json_object(response.json(), "melipayamak")
        except ValueError:  # before RequestException: requests' JSONDecodeError is both
            raise SendError(f"melipayamak answered HTTP {response.status_code} without JSON") from None
        except requests.RequestException as exc:
            raise SendError(f"melipayamak unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise SendError(f"melipayamak HTTP {response.status_code}")
        rec = body.get("recId")
        if not isinstance(rec, (int, str)) or isinstance(rec, bool) or not str(rec).lstrip("-").isdigit():
            raise SendError(f"melipayamak answered HTTP {response.status_code} without a numeric recId")
        rec_id = str(rec)
        if response.status_code != 200 or int(rec_id) <= 0:
            raise SendError(f"melipayamak refused: {body.get('status') or response.status_code}", retryable=False)
        return SendResult(provider_message_id=rec_id)

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        params = request.params()
        status = first(params, "status")
        return DeliveryReport(self.name, require(params, "recId"),
                              status if status in ("sent", "delivered", "failed") else "sent")
