"""Every SMS template, filled with the longest realistic values, fits two UCS-2 segments."""
import re

import pytest

from sms_gateway.adapters.texts import SmsTexts
from sms_gateway.domain.city import bundled_cities, load_city
from sms_gateway.domain.text import count_segments

LONGEST = {"code": "99999999", "status_label": "ارجاع به واحد مربوط", "updated": "۲۹ اردیبهشت ۱۴۰۵",
           "number": "۱۱۵", "service": "فوریت گاز", "place": "آران و بیدگل",
           "category_label": "آب‌گرفتگی و آب‌های سطحی", "expected": "۲۹ اردیبهشت ۱۴۰۵",
           "opened": "۲۹ اردیبهشت ۱۴۰۵", "accept": "۳۱", "object": "۳۳", "limit": "۵",
           "reason": "ملک خصوصی است و رسیدگی با مالک آن است", "mobile": "۰۹۱۲۱۲۳۴۵۶۷"}


@pytest.mark.parametrize("city", bundled_cities())
@pytest.mark.parametrize("name", SmsTexts(load_city()).names())
def test_template_fits_two_segments_with_persian_digits_and_no_links(name, city):
    text = SmsTexts(load_city(city)).render(name, **LONGEST)
    assert count_segments(text) <= 2, (name, len(text))
    assert not re.search(r"[0-9]", text), "Persian digits only"
    assert "http" not in text and "www" not in text
