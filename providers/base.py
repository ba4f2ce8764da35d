"""The one small interface every provider implements, the values that cross it, and shared helpers.

A provider is one module: it declares its settings section, its webhook routes, whether its webhook
token sits in the URL path, whether its webhook answer carries the reply, and (optionally) `poll()`.
Settings sections, routes, log masking and polling are all derived from these declarations."""
from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

# A message id longer than the column holds is kept as a digest of itself (providers retry with the same).
MAX_MESSAGE_ID = 100
MAX_ADDRESS = 64


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
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise WebhookRejected(400, "body is not valid JSON") from None


@dataclass(frozen=True)
class Received:
    """One inbound message, normalised; `raw` keeps the payload as it arrived."""

    provider: str
    message_id: str
    sender: str           # the address on the provider's channel: a phone number, a chat id
    recipient: str
    text: str
    raw: dict[str, Any] = field(default_factory=dict)
    channel: str = "sms"
    shared_phone: str = ""  # a messenger user who shared their phone number: links to their SMS contact
    # What staff or a client application already know (a call typed in, an Open311 service code): taken
    # over what understanding reads in the text.
    category: str | None = None
    neighbourhood: str | None = None


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
    status: int = 200


@dataclass(frozen=True)
class Route:
    """One webhook: `/webhooks/<provider>[/<token>]/<path>`; kind "inbound" or "delivery"."""

    path: str
    kind: str
    methods: tuple[str, ...] = ("POST",)


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
    name: ClassVar[str]
    channel: ClassVar[str]
    settings_class: ClassVar[type]
    routes: ClassVar[tuple[Route, ...]]
    token_in_path: ClassVar[bool]
    replies_inline: ClassVar[bool]
    # Whether a resend after a sender died mid-send reaches the citizen twice (see README).
    deduplicates_resends: ClassVar[bool]

    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected(403) unless the request really comes from the provider."""

    def parse_inbound(self, request: WebhookRequest) -> Received | None:
        """Raise WebhookRejected(400) when a required field is missing; None for a request that carries
        no message (a messenger's other updates), which is acknowledged and ignored."""

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        """What the webhook answers the provider; some carry the reply text in it."""

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        """Send one message; raise SendError for anything but a clear success."""

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        """A delivery report pushed by the provider."""


Poll = Callable[[], Sequence[Received]]


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


def text_field(params: Mapping[str, Any], *names: str) -> str:
    """A text that must be present but may be empty (a blank SMS is still a message)."""
    for name in names:
        if name in params:
            value = params.get(name)
            return str(value[0] if isinstance(value, list) else value or "")
    raise WebhookRejected(400, f"missing field: {' or '.join(names)}")


def all_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: params.get(k) for k in params}


def verify_path_token(expected: str, given: str) -> None:
    """Unsigned providers carry a secret in the webhook path; compare it in constant time."""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected(403, "wrong webhook token")


def json_object(body: Any, what: str) -> dict[str, Any]:
    """A provider's answer must be a JSON object; anything else is a failed send."""
    if not isinstance(body, dict):
        raise SendError(f"{what} answered JSON that is not an object: {type(body).__name__}")
    return body
