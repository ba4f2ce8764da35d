"""Hypothesis fills the citizen web page's and the phone call page's forms (with a valid CSRF token) and the
call page's JSON with random, huge, NUL-laden and odd-script values: never a 500, never a traceback."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_gateway.services.staff import create_staff
from tests.web.test_dashboard import PASSWORD, login

values = st.one_of(st.text(max_size=200), st.text(alphabet="۰۱۲۳0123456789+ -", max_size=20),
                   st.just("ب" * 5000), st.just("\x00۰۹۱۲\x00"), st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
FIELDS = ["text", "place", "phone", "code", "token", "masked", "category", "neighbourhood", "call_id", "action"]
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=7)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PUBLIC = ["/report", "/report/confirm", "/status"]


def check(response) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (response.status_code, body[:300])
    assert "Traceback" not in body and 'File "' not in body


def token(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def operator(client, gateway):
    create_staff(gateway.sessions, "fuzzer", PASSWORD, "operator", 2, gateway.clock())
    login(client, "fuzzer")
    return client


@SLOW
@given(path=st.sampled_from(PUBLIC), form=forms)
def test_the_citizen_pages_with_random_fields(client, path, form):
    check(client.post(path, data={**form, "csrf_token": token(client, "/report")}))


@SLOW
@given(form=forms)
def test_the_call_page_with_random_fields(operator, form):
    check(operator.post("/calls/new", data={**form, "csrf_token": token(operator, "/calls/new")}))


@SLOW
@given(body=st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=4), st.lists(values, max_size=3),
                      values, st.integers()))
def test_the_call_pages_json_with_random_bodies(operator, body):
    check(operator.post("/calls/understand", json=body, headers={"X-CSRFToken": token(operator, "/calls/new")}))
