"""Iranian phone numbers, in whatever form they arrive, as +98…"""
from __future__ import annotations

import re

from .text import to_latin_digits

_NOISE = re.compile(r"[\s\-().\u200c\u200e\u200f\u202a-\u202e]")
ANONYMISED = "anon:"  # the prefix retention puts in place of a number


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """One form for every way a number is written: '09121234567', '989121234567', '+98 912 123 4567',
    '+0098 912…', '0098…', '+98 0912…', '۰۹۱۲…' → '+989121234567'; Iranian landlines likewise ('031 5544 3322'
    → '+983155443322'); foreign numbers with + or 00 as +…; short codes as given."""
    digits = _NOISE.sub("", to_latin_digits(raw or ""))
    international = digits.startswith("+")
    digits = digits.lstrip("+")
    if not re.fullmatch(r"\d{4,15}", digits):
        raise InvalidPhone(f"not a phone number: {raw!r}")
    if digits.startswith("00"):  # the international prefix as dialled, also after a +: +0098…
        digits, international = digits[2:], True
    if digits.startswith("98") and (international or len(digits) in (12, 13)):
        national = digits[2:].removeprefix("0")  # the trunk 0 kept after the country code: +98 0912…
        if len(national) == 10:
            return "+98" + national
    if digits.startswith("0") and len(digits) == 11:
        return "+98" + digits[1:]
    if digits.startswith("9") and len(digits) == 10:
        return "+98" + digits
    return ("+" if international else "") + digits  # a short code or foreign number: kept as given


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
