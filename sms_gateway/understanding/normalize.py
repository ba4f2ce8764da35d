"""Persian text folded for matching: one spelling for what citizens type a dozen ways.

NFKC first (presentation forms, NBSP), then one translation table for letters, digits, marks and
punctuation, then repeated letters collapsed. Lossy by design: the output is for matching only.
"""
from __future__ import annotations

import re
import unicodedata

from ..domain.text import to_latin_digits

__all__ = ["normalize", "to_latin_digits"]

_TABLE: dict[int, str | None] = {}


def _map(chars: str, to: str | None) -> None:
    for ch in chars:
        _TABLE[ord(ch)] = to


_map("يىۍېٸ", "ی")
_map("كګڪ", "ک")
_map("ةۀۂ", "ه")
_map("أإٱٲٳآ", "ا")
_map("ؤ", "و")
_map("ئ", "ی")
_map("ء", None)
_map("\u0640", None)  # tatweel
_map("".join(chr(c) for c in range(0x064B, 0x0660)), None)  # harakat, superscript alef, hamza marks
_map("\u0670\u06D6\u06D7\u06D8\u06D9\u06DA\u06DB\u06DC\u06DF\u06E0\u06E1\u06E2\u06E3\u06E4\u06E7\u06E8"
     "\u06EA\u06EB\u06EC\u06ED", None)
_map("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad", None)  # bidi, BOM
_map("\u200c\u200d", " ")  # ZWNJ/ZWJ: a word boundary for matching; joined forms are tried too
for _i, _d in enumerate("۰۱۲۳۴۵۶۷۸۹"):
    _TABLE[ord(_d)] = str(_i)
for _i, _d in enumerate("٠١٢٣٤٥٦٧٨٩"):
    _TABLE[ord(_d)] = str(_i)
_map("،؛؟«»٪٬٫…!?.,;:()[]{}\"'`-_/\\|*+=#@<>~^&$%\u2013\u2014\u2018\u2019\u201c\u201d", " ")

_REPEATS = re.compile(r"([^\da-z])\1{2,}")
_LATIN_REPEATS = re.compile(r"([a-z])\1+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_SPACES = re.compile(r"\s+")
# Colloquial and Latin spellings of the words put in front of a place's name, folded to how names are written.
ALIASES = {"خیابون": "خیابان", "خ": "خیابان", "خیابونه": "خیابان", "میدون": "میدان", "بولوار": "بلوار", "کوچهی": "کوچه",
           "kh": "khiaban", "khiaboon": "khiaban", "khiyaban": "khiaban", "khiyabun": "khiaban", "khiabun": "khiaban",
           "khiabane": "khiaban", "khiaboone": "khiaban", "khyabn": "khiaban", "meydoon": "meydan", "meidan": "meydan",
           "meydune": "meydan", "meydoone": "meydan", "meydane": "meydan", "bolvare": "bolvar", "blvd": "bolvar",
           "boulevard": "bolvar", "kooche": "koche", "kuche": "koche", "koocheye": "koche", "mahaleye": "mahale",
           "mahalle": "mahale", "parke": "park", "boostane": "boostan", "bustan": "boostan"}


def _fold_words(text: str) -> str:
    return " ".join(ALIASES.get(word, word) for word in text.split(" "))



def normalize(text: str) -> str:
    """Fold a citizen's text to the matching form: Persian letters, Latin digits, single spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_TABLE).lower()
    text = _REPEATS.sub(r"\1", text)
    text = _LATIN_REPEATS.sub(r"\1", text)  # Finglish: «aashghaal», «kooche» → «ashghal», «koche»
    text = _LETTER_DIGIT.sub(" ", text)  # «لغو11», «کوچه۱۴»
    return _fold_words(_SPACES.sub(" ", text).strip())


