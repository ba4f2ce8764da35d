"""Digits in every script, and how many SMS parts a text costs."""
from __future__ import annotations

PERSIAN_DIGITS, ARABIC_DIGITS = "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"
_TO_LATIN = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789" + ARABIC_DIGITS, PERSIAN_DIGITS * 2)


def to_latin_digits(text: str) -> str:
    """«۱۲۳», «١٢٣» → «123»."""
    return text.translate(_TO_LATIN)


def persian_digits(text: str) -> str:
    """«123», «١٢٣» → «۱۲۳», the digits Persian text uses."""
    return text.translate(_TO_PERSIAN)


def persian_number(value: float, decimals: int = 1) -> str:
    """12.5 → «۱۲٫۵» (Persian digits, the Persian decimal separator)."""
    text = f"{value:.{decimals}f}" if isinstance(value, float) and decimals else str(value)
    return persian_digits(text.replace(".", "٫"))


_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def ucs2_units(text: str) -> int:
    """UTF-16 code units: characters outside the BMP (emoji) take two."""
    return len(text.encode("utf-16-le")) // 2


def count_segments(text: str) -> int:
    """Number of parts the text is sent in: GSM-7 160/153, UCS-2 70/67 (any Persian letter forces UCS-2)."""
    if not text:
        return 1
    if is_gsm7(text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = ucs2_units(text)
        single, multi = UCS2_SINGLE, UCS2_PART
    return 1 if units <= single else -(-units // multi)


def fits(text: str, segments: int) -> bool:
    return count_segments(text) <= segments
