"""Each Unicode trap citizens' phones produce, folded to one matching form."""
import pytest

from sms_gateway.understanding.normalize import normalize

PITFALLS = [
    ("Arabic yeh and kaf", "كوچه باريك", "کوچه باریک"),
    ("alef maksura", "مصطفى", "مصطفی"),
    ("teh marbuta", "مدرسة", "مدرسه"),
    ("heh with hamza", "خانۀ ما", "خانه ما"),
    ("heh + combining hamza", "خانهٔ ما", "خانه ما"),
    ("hamza carriers", "مسئول مؤسسه أصلی", "مسیول موسسه اصلی"),
    ("alef madda", "آسفالت", "اسفالت"),
    ("tatweel", "خرابـــــه", "خرابه"),
    ("diacritics", "کُوچَه", "کوچه"),
    ("ZWNJ is a boundary", "طاهر\u200cآباد", "طاهر اباد"),
    ("doubled ZWNJ", "می\u200c\u200cخواهم", "می خواهم"),
    ("bidi marks", "\u200fچاله\u200e", "چاله"),
    ("NBSP and thin space", "جوی\u00a0آب\u2009کوچه", "جوی اب کوچه"),
    ("presentation forms", "ﻟﺘﺤﺮ", "لتحر"),
    ("Persian digits", "کوچه ۱۴", "کوچه 14"),
    ("Arabic-Indic digits", "٤٥٦", "456"),
    ("mixed digits", "۴۸٢٠١٧3", "4820173"),
    ("digits glued to letters", "لغو۱۱", "لغو 11"),
    ("punctuation", "«سلام»، چرا؟!", "سلام چرا"),
    ("repeated letters", "خرااااب لطفاااا", "خراب لطفا"),
    ("Finglish doubled vowels", "aashghaal KOOCHE", "ashghal koche"),
    ("empty", "", ""),
    ("only spaces and marks", " \u200c\u200f ", ""),
]


@pytest.mark.parametrize("case,raw,expected", PITFALLS, ids=[p[0] for p in PITFALLS])
def test_normalise_pitfall(case, raw, expected):
    assert normalize(raw) == expected


def test_normalise_is_idempotent():
    for _case, raw, _ in PITFALLS:
        assert normalize(normalize(raw)) == normalize(raw)
