"""The one small interface every SMS provider implements, and the values that cross it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol


@dataclass(frozen=True)
class WebhookRequest:
    """What the web layer hands a provider: enough to verify and parse, nothing of Flask."""

    method: str
    url: str
    args: Mapping[str, Any]
    form: Mapping[str, Any]
    headers: Mapping[str, str]
    body: bytes = b""
    token: str = ""

    def params(self) -> Mapping[str, Any]:
        """Form fields for POST, query arguments for GET."""
        return self.form if self.method == "POST" and self.form else self.args

    def json(self) -> Any:
        import json
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected(400, "body is not valid JSON") from None


@dataclass(frozen=True)
class InboundSms:
    """One inbound SMS, normalised; `raw` keeps the payload as it arrived."""

    provider: str
    message_id: str
    sender: str
    recipient: str
    text: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReport:
    provider: str
    message_id: str
    status: str  # sent, delivered, failed
    error: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str = "sent"


@dataclass(frozen=True)
class WebhookAnswer:
    body: str
    content_type: str = "text/plain; charset=utf-8"


class WebhookRejected(Exception):
    """The request is not genuine (403) or not well-formed (400)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SendError(Exception):
    """Sending failed; `retryable` says whether trying again later can help."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Provider(Protocol):
    name: str

    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected(403) unless the request really comes from the provider."""

    def parse_inbound(self, request: WebhookRequest) -> InboundSms:
        """Raise WebhookRejected(400) when a required field is missing."""

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        """What the webhook answers the provider; some carry the reply text in it."""

    def replies_inline(self) -> bool:
        """True when the webhook answer itself delivers the reply to the citizen."""

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        """Send one SMS; raise SendError."""

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        """A delivery report pushed by the provider."""


def first(params: Mapping[str, Any], *names: str) -> str:
    """The first non-empty value among the given field names (aliases)."""
    for name in names:
        value = params.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return str(value)
    return ""


def require(params: Mapping[str, Any], *names: str) -> str:
    value = first(params, *names)
    if not value:
        raise WebhookRejected(400, f"missing field: {' or '.join(names)}")
    return value
