"""Tracking codes as citizens quote them: any 4–12 digit number in any digit script, possibly with a dash
or spaces inside, that is not a phone number, a national id, a date or a house number."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..domain.codes import is_valid_tracking_code
from .normalize import to_latin_digits

_NUMBER = re.compile(r"(?<![\d/])(\d(?:\d|[-\s](?=\d)){3,13})(?![\d/])")
_DATE = re.compile(r"\d{2,4}\s*/\s*\d{1,2}(?:\s*/\s*\d{1,4})?")
_CODE_CUES = ("کد", "کدِ", "شماره", "پیگیری", "رهگیری", "درخواست", "code", "kode", "cod", "peygiri", "peigiri",
              "rahgiri", "shomare", "darkhast", "number", "no", "#")
_NOT_CODE_CUES = ("ملی", "ملیم", "ملیمو", "تماس", "تماسم", "تلفن", "موبایل", "همراه", "پلاک", "پلاکِ", "melli", "meli",
                  "tamas", "tamasam", "mobile", "plak", "telephone")


@dataclass(frozen=True)
class QuotedCode:
    digits: str
    ours: bool  # eight digits with a valid check digit: it can be one of the codes this gateway gives


def is_phone_number(digits: str, cued: bool = False) -> bool:
    """An Iranian mobile number; ten digits starting with 9 only when nothing says it is a code."""
    return (digits.startswith("09") and len(digits) == 11) or (digits.startswith("98") and len(digits) == 12) or \
        (digits.startswith("0098") and len(digits) == 14) or (not cued and digits.startswith("9") and len(digits) == 10)


def quoted_code(text: str) -> QuotedCode | None:
    """The number the citizen most likely quotes as their tracking code, or None."""
    latin = _DATE.sub(" ", to_latin_digits(text or ""))
    candidates: list[tuple[int, int, str]] = []
    for n, found in enumerate(_NUMBER.finditer(latin)):
        digits = re.sub(r"\D", "", found.group(1))
        before = latin[max(0, found.start() - 14):found.start()].lower().split()
        if before and any(before[-1].startswith(c) for c in _NOT_CODE_CUES):
            continue
        cued = bool(before) and any(before[-1].startswith(c) or c in before[-2:] for c in _CODE_CUES)
        if not 4 <= len(digits) <= 12 or is_phone_number(digits, cued):
            continue
        candidates.append((0 if cued else 1, n, digits))
    if not candidates:
        return None
    digits = min(candidates)[2]
    return QuotedCode(digits, is_valid_tracking_code(digits))
