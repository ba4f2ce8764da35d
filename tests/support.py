"""Short ways for tests to do what citizens and staff do, through the real services."""
from __future__ import annotations

from sms_gateway.providers.base import Received
from sqlalchemy import select

from sms_gateway.adapters.models import Contact
from sms_gateway.domain.staff import command_line_viewer
from sms_gateway.services import intake, tickets

_ids = iter(range(10**9))


def deliver(gateway, text: str, sender: str = "09121234567", provider: str = "console", message_id: str | None = None,
            inline: bool | None = None, now=None) -> intake.Receipt:
    """A citizen's message through intake, as a webhook hands it over (the reply sent when not inline)."""
    inline = gateway.providers[provider].replies_inline if inline is None and provider in gateway.providers \
        else bool(inline)
    message = Received(provider, message_id or f"t-{next(_ids)}", sender, "10007000137", text, {"text": text})
    receipt = intake.receive(gateway.ctx, message, now or gateway.clock(), reply_inline=inline)
    if receipt.outbound_id is not None and provider in gateway.providers:
        gateway.ctx.outbox.deliver(gateway.sessions, receipt.outbound_id, now or gateway.clock())
    return receipt


def store(gateway, text: str, sender: str, provider: str, message_id: str, now=None) -> intake.Receipt:
    """A message stored and answered, its reply left queued (not sent)."""
    message = Received(provider, message_id, sender, "10007000137", text, {})
    return intake.receive(gateway.ctx, message, now or gateway.clock(), reply_inline=False)


def set_status(gateway, code: str, status: str, note: str = "", actor: str = "op1", now=None):
    return tickets.change_status(gateway.ctx, command_line_viewer(actor), code, status, note, now or gateway.clock())


def phone_of(session, citizen_id: int) -> str | None:
    return session.scalar(select(Contact.address).where(Contact.citizen_id == citizen_id))


def carries_code(reply: str | None) -> bool:
    """The reply gives the citizen a tracking code (eight Persian digits after «کد»)."""
    import re

    return bool(reply) and re.search(r"کد( رهگیری)?:? [۰-۹]{8}", reply) is not None


def without_faketime(env: dict[str, str]) -> dict[str, str]:
    """The environment for a long-running child that waits with timeouts (the APScheduler scheduler).
    libfaketime 0.9.10 does not intercept sem_clockwait, which Python 3.11 uses for every timed wait, so
    under `faketime` such a wait never returns. The child is given its time by `--now`; only the machine's
    clock it would sleep by is the real one."""
    import os

    cleaned = {k: v for k, v in env.items() if not k.startswith("FAKETIME")}
    preload = [p for p in cleaned.get("LD_PRELOAD", "").split(":") if p and "faketime" not in p]
    cleaned["LD_PRELOAD"] = ":".join(preload)
    if not cleaned["LD_PRELOAD"]:
        del cleaned["LD_PRELOAD"]
    return cleaned if os.name == "posix" else env
