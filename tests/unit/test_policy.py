"""Quiet hours in Kashan's time zone, the day boundary of the ticket limit, verdict digits, backoff."""
from datetime import UTC, datetime, time, timedelta

import pytest

from sms_gateway.domain.policy import Policy, retry_delay

UTC = UTC


@pytest.mark.parametrize("utc_hm,quiet,send_at", [
    ((17, 29), False, (17, 29)),        # 20:59 in Tehran
    ((17, 30), True, (4, 30)),          # 21:00 → 08:00 next morning (04:30 UTC)
    ((23, 0), True, (4, 30)),           # 02:30
    ((4, 29), True, (4, 30)),           # 07:59 → 08:00 the same morning
    ((4, 30), False, (4, 30)),          # 08:00
])
def test_quiet_hours_are_local_time_and_end_at_the_morning(utc_hm, quiet, send_at):
    policy = Policy()
    moment = datetime(2026, 11, 24, *utc_hm, tzinfo=UTC)
    assert policy.is_quiet(moment) is quiet
    expected = datetime(2026, 11, 24, *send_at, tzinfo=UTC)
    if send_at < utc_hm:
        expected += timedelta(days=1)
    assert policy.next_send_time(moment) == expected


def test_quiet_hours_within_one_day_and_none():
    daytime = Policy(quiet_start=time(13, 0), quiet_end=time(14, 0))
    assert daytime.is_quiet(datetime(2026, 11, 24, 9, 45, tzinfo=UTC))  # 13:15 in Tehran
    assert not Policy(quiet_start=time(0, 0), quiet_end=time(0, 0)).is_quiet(datetime(2026, 11, 24, 23, tzinfo=UTC))


def test_the_day_of_the_ticket_limit_starts_at_midnight_in_kashan():
    assert Policy().local_day_start(datetime(2026, 11, 24, 20, 0, tzinfo=UTC)) == datetime(
        2026, 11, 24, 20, 30, tzinfo=UTC) - timedelta(days=1)
    assert Policy().local_day_start(datetime(2026, 11, 24, 21, 0, tzinfo=UTC)) == datetime(
        2026, 11, 24, 20, 30, tzinfo=UTC)


def test_verdict_digits_and_backoff():
    policy = Policy()
    assert [policy.verdict_of(t) for t in ("31", " 33 ", "32", "313", "")] == [
        "accepted", "objected", None, None, None]
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
