"""Iranian phone numbers, in whatever form they arrive, as +98…"""
from __future__ import annotations

import re

from .text import to_latin_digits

_NOISE = re.compile(r"[\s\-().\u200c\u200e\u200f\u202a-\u202e]")
ANONYMISED = "anon:"  # the prefix retention puts in place of a number


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """'09121234567', '989121234567', '+98 912 123 4567', '+0098 912…', '۰۹۱۲…' → '+989121234567'."""
    digits = _NOISE.sub("", to_latin_digits(raw or ""))
    plus = digits.startswith("+")
    digits = digits.lstrip("+")
    if not re.fullmatch(r"\d{4,15}", digits):
        raise InvalidPhone(f"not a phone number: {raw!r}")
    if digits.startswith("0098"):
        digits = "98" + digits[4:]
        plus = True
    if digits.startswith("98") and len(digits) == 12 and digits[2] == "9":
        return "+" + digits
    if digits.startswith("09") and len(digits) == 11:
        return "+98" + digits[1:]
    if digits.startswith("9") and len(digits) == 10:
        return "+98" + digits
    return ("+" if plus else "") + digits  # a short code, landline or foreign number: kept as given


def is_mobile(phone: str) -> bool:
    return bool(re.fullmatch(r"\+989\d{9}", phone))


def mask_phone(phone: str) -> str:
    """+989121234567 → 0912***4567, for logs and staff who may not see the whole number."""
    if phone.startswith(ANONYMISED):
        return "ناشناس"
    local = "0" + phone[3:] if phone.startswith("+98") else phone
    if len(local) < 8:
        return "***"
    return local[:4] + "***" + local[-4:]


def display_phone(phone: str) -> str:
    """'+989121234567' → '09121234567', as Iranians write their numbers; others unchanged."""
    if phone.startswith(ANONYMISED):
        return "ناشناس"
    return "0" + phone[3:] if phone.startswith("+98") else phone
