"""Helpers of the browser tests: a citizen writing through the console webhook, Persian digits read back."""
from __future__ import annotations

import re
from pathlib import Path

import requests

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def say(base: str, text: str, sender: str = "09121234567") -> str:
    """Send a text as a citizen; the tracking code of the reply, in Persian digits."""
    reply = requests.post(f"{base}/webhooks/console/sms", json={"from": sender, "text": text}, timeout=10).json()
    return re.search(r"[۰-۹]{8}", reply["reply"]).group(0)
