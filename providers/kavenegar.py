"""Kavenegar: inbound forwarded to a secret-token URL (unsigned) or polled from receive.json, replies
through its REST API with our outbound id as `localid` (Kavenegar refuses a second send of one localid).

The API key sits in Kavenegar's URL path, so no URL of this module is ever logged.
"""
from __future__ import annotations

import logging
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

log = logging.getLogger("sms_gateway.kavenegar")

RETURN_CODES = {
    400: "parameters incomplete", 401: "account disabled", 402: "operation failed",
    403: "invalid API key", 404: "unknown method", 405: "wrong GET/POST", 406: "invalid mandatory parameters",
    407: "no access to this information", 409: "server busy, try again", 411: "invalid recipient",
    412: "invalid sender line", 413: "message empty or too long", 414: "too many recipients",
    416: "caller IP not allowed", 417: "invalid date", 418: "insufficient credit",
    422: "invalid characters in message", 501: "test account may send only to its owner",
}
_RETRYABLE = {402, 409, 418}
_DELIVERY = {1: "sent", 2: "sent", 4: "sent", 5: "sent", 10: "delivered", 6: "failed", 11: "failed",
             13: "failed", 14: "failed", 100: "failed"}


@dataclass(frozen=True)
class KavenegarSettings:
    api_key: str = ""
    webhook_token: str = ""
    api_url: str = "https://api.kavenegar.com"
    sender: str = ""  # the line; empty: the city's line
    required = ("api_key", "webhook_token")

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.webhook_token)


class KavenegarProvider:
    name = "kavenegar"
    channel = "sms"
    settings_class = KavenegarSettings
    routes = (Route("sms", "inbound", ("GET", "POST")), Route("status", "delivery", ("GET", "POST")))
    token_in_path = True
    replies_inline = False
    deduplicates_resends = True  # the same localid is refused a second time

    def __init__(self, settings: Any, http: requests.Session | None = None):
        self.config: KavenegarSettings = settings.section(self.name)
        self.line = self.config.sender or settings.line
        self._timeout = settings.send_timeout_seconds
        self._http = http or requests.Session()

    def verify(self, request: WebhookRequest) -> None:
        verify_path_token(self.config.webhook_token, request.token)

    def parse_inbound(self, request: WebhookRequest) -> Received:
        params = request.params()
        return Received(provider=self.name, message_id=require(params, "messageid", "MessageId"),
                        sender=require(params, "from", "sender"), recipient=first(params, "to", "receptor"),
                        text=text_field(params, "message"), raw=all_params(params))

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer("OK")

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        body = self._call("sms/send.json", {"receptor": to, "sender": self.line, "message": text,
                                             "localid": local_id})
        entries = body.get("entries")
        entry = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
        message_id = entry.get("messageid")
        if not isinstance(message_id, (int, str)) or isinstance(message_id, bool) or str(message_id) == "":
            # Sending again is safe: Kavenegar refuses a second send of the same localid.
            raise SendError("kavenegar sms/send.json answered without entries[0].messageid")
        return SendResult(provider_message_id=str(message_id))

    def poll(self) -> list[Received]:
        """Unread inbound messages on the line, for where forwarding is not set up."""
        entries = self._call("sms/receive.json", {"linenumber": self.line, "isread": 0}).get("entries") or []
        if not isinstance(entries, list):
            raise SendError("kavenegar receive.json answered entries that are not a list")
        taken = []
        for n, e in enumerate(entries):
            if not isinstance(e, dict):
                log.warning("kavenegar receive.json entry %d is not an object (%s): skipped", n, type(e).__name__)
                continue
            taken.append(Received(provider=self.name, message_id=str(e.get("messageid", "")),
                                  sender=str(e.get("sender", "")), recipient=str(e.get("receptor", "")),
                                  text=str(e.get("message") or ""), raw=dict(e)))
        return taken

    def _call(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.config.api_url.rstrip('/')}/v1/{self.config.api_key}/{method}"
        try:
            response = self._http.post(url, data=data, timeout=self._timeout)
            body = json_object(response.json(), f"kavenegar {method}")
        except ValueError:  # before RequestException: requests' JSONDecodeError is both
            raise SendError(f"kavenegar {method} answered HTTP {response.status_code} without JSON") from None
        except requests.RequestException as exc:
            raise SendError(f"kavenegar {method} unreachable: {type(exc).__name__}") from None
        returned = body.get("return")
        if not isinstance(returned, dict) or returned.get("status") is None:
            raise SendError(f"kavenegar {method} answered HTTP {response.status_code} without return.status")
        status: Any = returned.get("status")
        try:
            code = int(status)
        except (TypeError, ValueError):
            raise SendError(f"kavenegar {method} answered a status that is not a number: {status!r}") from None
        if code != 200:
            reason = RETURN_CODES.get(code, "unknown error")
            log.error("kavenegar %s failed: %s %s", method, code, reason)
            raise SendError(f"kavenegar {code}: {reason}", retryable=code in _RETRYABLE or code >= 500)
        return body

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        params = request.params()
        code = require(params, "status")
        return DeliveryReport(self.name, require(params, "messageid"),
                              _DELIVERY.get(int(code) if code.isdigit() else -1, "sent"))
