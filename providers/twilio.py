"""Twilio: signed form webhooks (RequestValidator), TwiML answers, REST sends with a status callback.

Twilio has not delivered to Iranian numbers since March 2025; it stays as an adapter and for tests.
"""
from __future__ import annotations

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from .base import (DeliveryReport, InboundSms, SendError, SendResult, WebhookAnswer, WebhookRejected,
                   WebhookRequest, first, require)

_TWILIO_API = "https://api.twilio.com"
_DELIVERY_STATUS = {"delivered": "delivered", "read": "delivered", "sent": "sent",
                    "failed": "failed", "undelivered": "failed", "canceled": "failed"}


class _RebasedHttpClient(TwilioHttpClient):
    """Points the official client at another base URL (a local fake in tests, a proxy in staging)."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(_TWILIO_API):
            url = self.base_url + url[len(_TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


class TwilioProvider:
    name = "twilio"

    def __init__(self, settings):
        self.config = settings.twilio
        self.public_url = settings.public_url.rstrip("/")
        self.sender = self.config.from_number or settings.short_code
        self._validator = RequestValidator(self.config.auth_token)
        self._timeout = settings.send_timeout_seconds
        self._client: Client | None = None

    def _signed_url(self, request: WebhookRequest) -> str:
        if not self.public_url:
            return request.url
        path_and_query = request.url.split("://", 1)[-1].partition("/")[2]
        return f"{self.public_url}/{path_and_query}"

    def verify(self, request: WebhookRequest) -> None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise WebhookRejected(403, "missing X-Twilio-Signature")
        params = request.form if request.method == "POST" else {}
        if not self._validator.validate(self._signed_url(request), params, signature):
            raise WebhookRejected(403, "invalid Twilio signature")

    def parse_inbound(self, request: WebhookRequest) -> InboundSms:
        params = request.params()
        if "Body" not in params:
            raise WebhookRejected(400, "missing field: Body")
        return InboundSms(
            provider=self.name,
            message_id=require(params, "MessageSid", "SmsMessageSid", "SmsSid"),
            sender=require(params, "From"),
            recipient=first(params, "To"),
            text=first(params, "Body"),
            raw={k: params.get(k) for k in params},
        )

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        response = MessagingResponse()
        if reply:
            response.message(reply)
        return WebhookAnswer(str(response), "text/xml; charset=utf-8")

    def replies_inline(self) -> bool:
        return True

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        if self._client is None:
            self._client = Client(self.config.account_sid, self.config.auth_token,
                                  http_client=_RebasedHttpClient(self.config.api_url, self._timeout))
        callback = f"{self.public_url}/webhooks/twilio/status" if self.public_url else None
        try:
            message = self._client.messages.create(to=to, from_=self.sender, body=text,
                                                   status_callback=callback)
        except TwilioRestException as exc:
            raise SendError(f"twilio error {exc.code}: {exc.msg}", retryable=exc.status >= 500) from None
        except Exception as exc:  # network errors from requests
            raise SendError(f"twilio unreachable: {type(exc).__name__}") from None
        return SendResult(provider_message_id=message.sid, status="sent")

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        params = request.params()
        raw_status = require(params, "MessageStatus", "SmsStatus")
        return DeliveryReport(
            provider=self.name,
            message_id=require(params, "MessageSid", "SmsSid"),
            status=_DELIVERY_STATUS.get(raw_status, "sent"),
            error=first(params, "ErrorCode"),
        )
