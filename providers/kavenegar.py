"""Kavenegar: inbound forwarded to a secret-token URL (unsigned), replies through its REST API.

The API key sits in Kavenegar's URL path, so no URL of this module is ever logged.
"""
from __future__ import annotations

import hmac
import logging

import requests

from .base import (DeliveryReport, InboundSms, SendError, SendResult, WebhookAnswer, WebhookRejected,
                   WebhookRequest, first, require)

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


def verify_path_token(expected: str, given: str) -> None:
    """Unsigned providers carry a secret in the webhook path; compare it in constant time."""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected(403, "wrong webhook token")


class KavenegarProvider:
    name = "kavenegar"

    def __init__(self, settings, session: requests.Session | None = None):
        self.config = settings.kavenegar
        self._timeout = settings.send_timeout_seconds
        self._http = session or requests.Session()

    def verify(self, request: WebhookRequest) -> None:
        verify_path_token(self.config.webhook_token, request.token)

    def parse_inbound(self, request: WebhookRequest) -> InboundSms:
        params = request.params()
        return InboundSms(
            provider=self.name,
            message_id=require(params, "messageid", "MessageId"),
            sender=require(params, "from", "sender"),
            recipient=first(params, "to", "receptor"),
            text=_text(params, "message"),
            raw={k: params.get(k) for k in params},
        )

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer("OK")

    def replies_inline(self) -> bool:
        return False

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        data = {"receptor": to, "sender": self.config.sender, "message": text, "localid": local_id}
        body = self._call("sms/send.json", data)
        entries = body.get("entries") or [{}]
        return SendResult(provider_message_id=str(entries[0].get("messageid", "")), status="sent")

    def receive(self, line: str) -> list[dict]:
        """Unread inbound messages on a line (for polling where push is not set up)."""
        return self._call("sms/receive.json", {"linenumber": line, "isread": 0}).get("entries") or []

    def _call(self, method: str, data: dict) -> dict:
        url = f"{self.config.api_url.rstrip('/')}/v1/{self.config.api_key}/{method}"
        try:
            response = self._http.post(url, data=data, timeout=self._timeout)
            body = response.json()
        except requests.RequestException as exc:
            raise SendError(f"kavenegar {method} unreachable: {type(exc).__name__}") from None
        except ValueError:
            raise SendError(f"kavenegar {method} answered HTTP {response.status_code} without JSON") from None
        code = int((body.get("return") or {}).get("status", response.status_code))
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


def _text(params, *names: str) -> str:
    for name in names:
        if name in params:
            value = params.get(name)
            return str(value[0] if isinstance(value, list) else value or "")
    raise WebhookRejected(400, f"missing field: {' or '.join(names)}")
