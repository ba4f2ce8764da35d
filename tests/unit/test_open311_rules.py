"""The pure Open311 rules: a ticket's status as the spec's open/closed, a request's text, the query's range."""
from datetime import UTC, datetime, timedelta

import pytest

from sms_gateway.domain.open311 import DEFAULT_SPAN, NewRequest, Open311Error, requests_query, spec_status
from sms_gateway.domain.tickets import TRANSITIONS
from sms_gateway.domain.values import Status
from sms_gateway.settings import SettingsError, load_settings

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_only_done_and_not_doable_are_closed():
    assert {s for s in TRANSITIONS if spec_status(s) == "closed"} == {Status.DONE, Status.NOT_DOABLE}


def test_the_text_intake_reads_is_the_description_then_the_address():
    request = NewRequest("garbage", "زباله مانده", "محله فین", None, None, "+989121234567")
    assert request.text() == "زباله مانده — محله فین"
    assert NewRequest("garbage", "زباله مانده", "", 33.9, 51.4, "+989121234567").text() == "زباله مانده"


def test_one_end_of_the_range_gives_the_other_90_days_away():
    start = requests_query({"start_date": "2026-10-01T00:00:00+03:30"}, NOW, ())
    assert start.end - start.start == DEFAULT_SPAN and start.start.utcoffset() == timedelta(hours=3, minutes=30)
    end = requests_query({"end_date": "2026-10-01T00:00:00Z"}, NOW, ())
    assert (end.start, end.end) == (datetime(2026, 7, 3, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    default = requests_query({}, NOW, ())
    assert (default.start, default.end, default.codes) == (NOW - DEFAULT_SPAN, NOW, ())


def test_exactly_90_days_is_allowed_and_a_second_more_is_not():
    assert requests_query({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"}, NOW, ())
    with pytest.raises(Open311Error) as refused:
        requests_query({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"}, NOW, ())
    assert refused.value.status == 400 and "۹۰" in refused.value.description


def test_the_limit_per_key_must_be_positive(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="open311_requests_per_minute"):
        load_settings(environ={"SMS_GATEWAY_OPEN311_REQUESTS_PER_MINUTE": "0"})
