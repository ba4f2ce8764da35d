import pytest

from sms_gateway.domain.codes import is_valid_tracking_code, new_tracking_code
from sms_gateway.domain.phones import InvalidPhone, mask_phone, normalise_phone
from sms_gateway.domain.text import count_segments
from sms_gateway.domain.tickets import IllegalTransition, check_transition


@pytest.mark.parametrize("raw", ["09121234567", "989121234567", "+989121234567", "+98 912 123 4567",
                                 "۰۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧", "00989121234567", "9121234567",
                                 "0912-123-4567"])
def test_iranian_mobile_numbers_normalise_to_plus98(raw):
    assert normalise_phone(raw) == "+989121234567"


@pytest.mark.parametrize("raw", ["", "abc", "++98", "0912 12x"])
def test_non_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


def test_mask_keeps_prefix_and_last_four():
    assert mask_phone("+989121234567") == "0912***4567"


def test_tracking_codes_are_random_unique_and_self_checking():
    codes = {new_tracking_code() for _ in range(5000)}
    assert len(codes) >= 4990  # 9 million codes: a few birthday collisions; the database refuses them
    assert all(len(c) == 8 and c.isdigit() and is_valid_tracking_code(c) for c in codes)
    ordered = sorted(codes)
    assert sum(int(b) - int(a) == 1 for a, b in zip(ordered, ordered[1:], strict=False)) < 5


def test_check_digit_catches_single_typos_and_swaps():
    code = new_tracking_code()
    for i in range(len(code)):
        for d in "0123456789":
            if d != code[i]:
                assert not is_valid_tracking_code(code[:i] + d + code[i + 1:])
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            assert not is_valid_tracking_code(code[:i] + code[i + 1] + code[i] + code[i + 2:])


@pytest.mark.parametrize("text,parts", [
    ("a" * 160, 1), ("a" * 161, 2), ("س" * 70, 1), ("س" * 71, 2), ("س" * 134, 2), ("س" * 135, 3),
    ("abc" + "۱", 1), ("\u200c" * 70, 1), ("😀" * 35, 1), ("😀" * 36, 2),
])
def test_segment_counting_uses_ucs2_for_persian(text, parts):
    assert count_segments(text) == parts


def test_reference_ack_is_two_parts():
    ack = ("شهروند گرامی، درخواست شما با کد ۱۲۳۴۵ در سامانه ۱۳۷ شهرداری کاشان ثبت شد. "
           "پیگیری: ارسال کد به ۱۰۰۰۷۰۰۰۱۳۷")
    assert count_segments(ack) == 2


def test_ticket_lifecycle_refuses_illegal_moves_and_needs_reason_for_not_doable():
    check_transition("registered", "referred")
    with pytest.raises(IllegalTransition):
        check_transition("done", "in_progress")
    with pytest.raises(IllegalTransition):
        check_transition("in_progress", "not_doable", "  ")
    check_transition("in_progress", "not_doable", "ملک خصوصی است")
    with pytest.raises(IllegalTransition):
        check_transition("registered", "flying")
