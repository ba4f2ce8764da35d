"""Twilio: signed form webhooks (RequestValidator), TwiML answers, REST sends with a status callback.

Twilio has not delivered to Iranian numbers since March 2025; it stays as an adapter and for tests.
The SDK is imported when a Twilio provider is built, so importing the registry loads none of it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import (
    DeliveryReport,
    Received,
    Route,
    SendError,
    SendResult,
    WebhookAnswer,
    WebhookRejected,
    WebhookRequest,
    all_params,
    first,
    require,
)

_TWILIO_API = "https://api.twilio.com"
_DELIVERY_STATUS = {"delivered": "delivered", "read": "delivered", "sent": "sent",
                    "failed": "failed", "undelivered": "failed", "canceled": "failed"}


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    api_url: str = _TWILIO_API
    required = ("account_sid", "auth_token")

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token)


class TwilioProvider:
    name = "twilio"
    channel = "sms"
    settings_class = TwilioSettings
    routes = (Route("sms", "inbound"), Route("status", "delivery"))
    token_in_path = False
    replies_inline = True
    deduplicates_resends = False  # Twilio has no idempotency key for Messages.create

    def __init__(self, settings: Any, http: Any = None):
        from twilio.request_validator import RequestValidator

        self.config: TwilioSettings = settings.section(self.name)
        self.public_url = settings.public_url.rstrip("/")
        self.sender = self.config.from_number or settings.line
        self._validator = RequestValidator(self.config.auth_token)
        self._timeout = settings.send_timeout_seconds
        self._client: Any = None

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

    def parse_inbound(self, request: WebhookRequest) -> Received:
        params = request.params()
        if "Body" not in params:
            raise WebhookRejected(400, "missing field: Body")
        return Received(provider=self.name, message_id=require(params, "MessageSid", "SmsMessageSid", "SmsSid"),
                        sender=require(params, "From"), recipient=first(params, "To"), text=first(params, "Body"),
                        raw=all_params(params))

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        from twilio.twiml.messaging_response import MessagingResponse

        response = MessagingResponse()
        if reply:
            response.message(reply)
        return WebhookAnswer(str(response), "text/xml; charset=utf-8")

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        from twilio.base.exceptions import TwilioRestException

        callback = f"{self.public_url}/webhooks/twilio/status" if self.public_url else None
        try:
            message = self._rest().messages.create(to=to, from_=self.sender, body=text, status_callback=callback)
        except TwilioRestException as exc:
            raise SendError(f"twilio error {exc.code}: {exc.msg}", retryable=exc.status >= 500) from None
        except Exception as exc:  # network errors from requests, and anything the SDK did not expect
            raise SendError(f"twilio unreachable: {type(exc).__name__}") from None
        sid = getattr(message, "sid", None)
        if not isinstance(sid, str) or not sid:
            raise SendError("twilio answered without a message sid")
        return SendResult(provider_message_id=sid)

    def _rest(self) -> Any:
        if self._client is None:
            from twilio.rest import Client

            self._client = Client(self.config.account_sid, self.config.auth_token,
                                  http_client=_http_client(self.config.api_url, self._timeout))
        return self._client

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        params = request.params()
        return DeliveryReport(provider=self.name, message_id=require(params, "MessageSid", "SmsSid"),
                              status=_DELIVERY_STATUS.get(require(params, "MessageStatus", "SmsStatus"), "sent"),
                              error=first(params, "ErrorCode"))


def _http_client(base_url: str, timeout: float) -> Any:
    """The official HTTP client, pointed at another base URL (a local fake in tests, a proxy in staging)."""
    from twilio.http.http_client import TwilioHttpClient

    class Rebased(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith(_TWILIO_API):
                url = base_url.rstrip("/") + url[len(_TWILIO_API):]
            return super().request(method, url, *args, **kwargs)

    return Rebased(timeout=timeout)
