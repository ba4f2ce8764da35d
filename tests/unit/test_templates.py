"""Every SMS template, filled with the longest real values of the bundled cities, fits its segment budget:
one segment for the acknowledgement, the place question, the opt-out confirmation and the outcome; two for
the rest. Persian digits only, no links, «لغو ۱۱» on every automated message."""
import re

import pytest

from sms_gateway.adapters.texts import SmsTexts
from sms_gateway.domain.city import bundled_cities, load_city
from sms_gateway.domain.text import count_segments
from sms_gateway.domain.tickets import CITIZEN_LABELS, CITIZEN_SHORT_LABELS

ONE_SEGMENT = {"ack", "ask_place", "opted_out", "done"}
AUTOMATED = {"done", "not_doable", "referred", "reminder", "reopened", "overdue", "status_changed", "opted_in"}
CITIES = [load_city(name) for name in bundled_cities()]


def longest(values):
    return max(values, key=len)


LONGEST = {
    "code": "99999999", "accept": "۳۱", "object": "۳۳", "limit": "۵", "number": "۱۱۵", "mobile": "۰۹۱۲۳۴۵۶۷۸۹",
    "service": "آب و فاضلاب", "status_label": longest(CITIZEN_LABELS.values()), "state": longest(CITIZEN_LABELS.values()),
    "updated": "۲۹ اردیبهشت ۱۴۰۵", "expected": "۲۹ اردیبهشت ۱۴۰۵", "opened": "۲۹ اردیبهشت ۱۴۰۵",
    "date": "۲۹ اردیبهشت ۱۴۰۵", "date_word": "موعد",
    "category_label": longest(c.label for city in CITIES for c in city.categories),
    "category": longest(c.short_label for city in CITIES for c in city.categories),
    "place": longest(p.short_name for city in CITIES for p in city.places),
    "unit": longest(city.unit_name(c.code, r.number) for city in CITIES for c in city.categories for r in city.regions),
    "open": [("99999999", longest(CITIZEN_SHORT_LABELS.values()))] * 3,
    "reason": "ملک خصوصی است و رسیدگی با مالک آن است",
}
OUTSIDE = longest(t for city in CITIES for t in city.outside)


@pytest.mark.parametrize("city", CITIES, ids=lambda c: c.key)
@pytest.mark.parametrize("name", SmsTexts(load_city()).names())
def test_template_fits_its_budget_with_persian_digits_and_no_links(name, city):
    text = SmsTexts(city).render(name, **{**LONGEST, "place": OUTSIDE if name == "outside_city" else LONGEST["place"]})
    assert count_segments(text) <= (1 if name in ONE_SEGMENT else 2), (name, len(text), text)
    assert not re.search(r"[0-9]", text), "Persian digits only"
    assert "http" not in text and "www" not in text
    if name in AUTOMATED:
        assert text.endswith("لغو ۱۱"), name


def test_a_status_answer_names_problem_place_unit_state_and_date():
    text = SmsTexts(CITIES[0]).render("status", **LONGEST)
    for value in ("category", "place", "unit", "state", "date"):
        assert LONGEST[value] in text, value
