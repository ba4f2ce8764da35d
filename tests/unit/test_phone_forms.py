"""Every way an Iranian number is written reaches the same citizen (issue 14, item 17): an international
prefix written as + or 00 or both, and the national trunk 0 kept after the country code, in any digits."""
import pytest

from sms_gateway.domain.phones import normalise_phone

SAME = ["09121234567", "+0098 912 123 4567", "+00989121234567", "0098 912 123 4567", "00989121234567",
        "+98 0912 123 4567", "+9809121234567", "9809121234567", "0098 0912 123 4567", "+0098 0912 1234567",
        "(+98) 912-123-4567", "+۹۸ ۰۹۱۲ ۱۲۳ ۴۵۶۷", "۰۰۹۸۹۱۲۱۲۳۴۵۶۷", "\u202a+98 912 123 4567\u202c", "0 912 123 4567"]


@pytest.mark.parametrize("raw", SAME)
def test_every_form_of_one_mobile_number_is_the_same_number(raw):
    assert normalise_phone(raw) == "+989121234567"


@pytest.mark.parametrize("raw,expected", [("+98 031 5544 3322", "+983155443322"),
                                          ("0098 31 5544 3322", "+983155443322"), ("031 5544 3322", "+983155443322"),
                                          ("+1 415 555 0100", "+14155550100"), ("0014155550100", "+14155550100"),
                                          ("10007000137", "10007000137")])
def test_landlines_foreign_numbers_and_short_codes_keep_one_form(raw, expected):
    assert normalise_phone(raw) == expected
