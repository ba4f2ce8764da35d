"""Bale: a messenger bot over Bale's Bot API, which has Telegram's shape. Updates are pushed to a
secret-token URL (setWebhook), answers go out through `sendMessage`.

The bot token sits in the API's URL path (`/bot<token>/sendMessage`), so no URL of this module is ever
logged and no error raised here carries one (requests' errors quote the URL: only their type is kept).
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
    WebhookRejected,
    WebhookRequest,
    json_object,
    verify_path_token,
)

log = logging.getLogger("sms_gateway.bale")
MIN_WEBHOOK_TOKEN = 24
# Telegram's error codes, which Bale follows: too many requests and server errors pass; a blocked bot
# (403), an unknown chat (400) or a wrong token (401, 404) stay so, and the message falls back to SMS.
_RETRYABLE = {429}


@dataclass(frozen=True)
class BaleSettings:
    bot_token: str = ""       # from Bale's BotFather; in every API URL
    webhook_token: str = ""   # our secret in the webhook URL given to setWebhook
    api_url: str = "https://tapi.bale.ai"
    required = ("bot_token", "webhook_token")

    def __post_init__(self) -> None:
        from sms_gateway.settings import SettingsError

        if self.webhook_token and len(self.webhook_token) < MIN_WEBHOOK_TOKEN:
            raise SettingsError(f"bale.webhook_token must be at least {MIN_WEBHOOK_TOKEN} characters")
        if bool(self.bot_token) != bool(self.webhook_token):
            missing = "webhook_token" if self.bot_token else "bot_token"
            raise SettingsError(f"[bale] is half set: bale.{missing} is not set")

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and self.webhook_token)


class BaleProvider:
    name = "bale"
    channel = "bale"
    settings_class = BaleSettings
    routes = (Route("", "inbound"),)  # POST /webhooks/bale/<webhook_token>
    token_in_path = True
    replies_inline = False  # the webhook answer carries no reply: that is a sendMessage of its own
    deduplicates_resends = False  # sendMessage has no idempotency key

    def __init__(self, settings: Any, http: requests.Session | None = None):
        self.config: BaleSettings = settings.section(self.name)
        self._timeout = settings.send_timeout_seconds
        self._http = http or requests.Session()

    def verify(self, request: WebhookRequest) -> None:
        verify_path_token(self.config.webhook_token, request.token)

    def parse_inbound(self, request: WebhookRequest) -> Received | None:
        """An Update with a message from a private chat; None for every other update (edited messages,
        callback queries, group chats…), which is acknowledged and ignored."""
        update = request.json()
        if not isinstance(update, dict):
            raise WebhookRejected(400, "body must be a JSON object")
        update_id = update.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise WebhookRejected(400, "missing field: update_id")
        message = update.get("message")
        if not isinstance(message, dict):
            return None
        chat = message.get("chat")
        chat = chat if isinstance(chat, dict) else {}
        chat_id = chat.get("id")
        if not isinstance(chat_id, (int, str)) or isinstance(chat_id, bool) or str(chat_id) == "":
            raise WebhookRejected(400, "missing field: message.chat.id")
        if chat.get("type", "private") != "private":
            return None  # a group the bot was added to: its follow-ups would reach the whole group
        text = message.get("text", message.get("caption", ""))
        return Received(provider=self.name, channel=self.channel, message_id=str(update_id), sender=str(chat_id),
                        recipient="", text=_citizen_text(text), raw=update, shared_phone=_own_phone(message))

    def shared_phone(self, update: dict[str, Any]) -> str:
        """The sender's own number in a stored Update, for reading it again after a failure."""
        message = update.get("message")
        return _own_phone(message) if isinstance(message, dict) else ""

    def answer_inbound(self, reply: str | None) -> WebhookAnswer:
        return WebhookAnswer("OK")

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        url = f"{self.config.api_url.rstrip('/')}/bot{self.config.bot_token}/sendMessage"
        chat_id: int | str = int(to) if to.lstrip("-").isdigit() else to
        try:
            response = self._http.post(url, json={"chat_id": chat_id, "text": text}, timeout=self._timeout)
            body = json_object(response.json(), "bale sendMessage")
        except ValueError:  # before RequestException: requests' JSONDecodeError is both
            raise SendError(f"bale sendMessage answered HTTP {response.status_code} without JSON") from None
        except requests.RequestException as exc:
            raise SendError(f"bale sendMessage unreachable: {type(exc).__name__}") from None
        result = body.get("result")
        if body.get("ok") is True:
            if isinstance(result, dict) and result.get("message_id") is not None:
                return SendResult(provider_message_id=str(result["message_id"]))
            # It may have gone out: trying again could send it twice, so it is not retried.
            raise SendError("bale sendMessage answered ok without a message id", retryable=False)
        code = body.get("error_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else response.status_code
        reason = str(body.get("description") or "no description")[:200]
        log.error("bale sendMessage failed: %s %s", code, reason)
        raise SendError(f"bale {code}: {reason}", retryable=code in _RETRYABLE or code >= 500)

    def parse_delivery(self, request: WebhookRequest) -> DeliveryReport:
        raise WebhookRejected(404, "bale has no delivery reports")


def _citizen_text(text: Any) -> str:
    """What the citizen wrote. A bot command is the messenger's, not theirs: «/start», sent when
    someone opens the bot, would read as START (opt back in); as an empty message it gets the greeting
    that asks what and where the problem is."""
    if not isinstance(text, str):
        return ""
    return "" if text.strip().split(" ", 1)[0].split("@", 1)[0] in _COMMANDS else text


_COMMANDS = {"/start", "/help"}


def _own_phone(message: dict[str, Any]) -> str:
    """The phone number of a shared contact card, only when it is the sender's own: Bale (like
    Telegram) sets the card's user_id to the account the number belongs to, so a card of someone else,
    or one typed in, never matches `from.id`."""
    contact, sender = message.get("contact"), message.get("from")
    if not isinstance(contact, dict) or not isinstance(sender, dict):
        return ""
    phone, user_id = contact.get("phone_number"), contact.get("user_id")
    own = user_id is not None and str(user_id) == str(sender.get("id"))
    return str(phone) if own and isinstance(phone, (str, int)) else ""
