"""Providers and channels, one module each, registered here by name."""
from __future__ import annotations

from typing import Any

from .bale import BaleProvider
from .base import Provider
from .console import ConsoleProvider
from .kavenegar import KavenegarProvider
from .melipayamak import MelipayamakProvider
from .twilio import TwilioProvider

PROVIDERS: dict[str, Any] = {p.name: p for p in (ConsoleProvider, TwilioProvider, KavenegarProvider,
                                                   MelipayamakProvider, BaleProvider)}
SMS_PROVIDERS = tuple(name for name, p in PROVIDERS.items() if p.channel == "sms")

__all__ = ["PROVIDERS", "SMS_PROVIDERS", "Provider"]
