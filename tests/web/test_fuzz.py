"""Hypothesis throws random fields, huge values, invalid UTF-8, wrong content types and header injection
at every webhook and form: never a 500, never a traceback, and the server stays healthy."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_gateway.services.staff import create_staff
from tests.web.test_dashboard import PASSWORD, login

WEBHOOKS = ["/webhooks/console/sms", "/webhooks/twilio/sms", "/webhooks/twilio/status",
            "/webhooks/kavenegar/kave-token-0123456789abcdef/sms", "/webhooks/kavenegar/kave-token-0123456789abcdef/status",
            "/webhooks/kavenegar/wrong/sms", "/webhooks/melipayamak/meli-token-0123456789abcdef/sms"]
FIELDS = ["from", "to", "text", "id", "message", "messageid", "sender", "receptor", "From", "To", "Body",
          "MessageSid", "body", "status", "recId", "username", "password", "note", "category", "neighbourhood",
          "csrf_token", "action", "user_id", "new_password", "title", "canned_id", "q", "after"]
values = st.one_of(st.text(max_size=300), st.text(alphabet="۰۱۲۳0123456789+", max_size=20),
                   st.just("ب" * 5000), st.binary(max_size=50).map(lambda b: b.decode("latin-1")))
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data",
                 "application/xml", ""]
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check(response) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500 or response.status_code == 503, (response.status_code, body[:300])
    assert "Traceback" not in body and 'File "' not in body


@SLOW
@given(path=st.sampled_from(WEBHOOKS), form=forms, method=st.sampled_from(["GET", "POST"]))
def test_webhooks_with_random_forms(client, path, form, method):
    if method == "GET":
        check(client.get(path, query_string=form))
    else:
        check(client.post(path, data=form))


@SLOW
@given(path=st.sampled_from(WEBHOOKS), raw=st.binary(max_size=2000), content_type=st.sampled_from(CONTENT_TYPES))
def test_webhooks_with_raw_bodies_and_wrong_content_types(client, path, raw, content_type):
    check(client.post(path, data=raw, content_type=content_type))


@SLOW
@given(value=st.text(max_size=80), name=st.sampled_from(["X-Twilio-Signature", "Content-Type", "Host",
                                                        "X-Forwarded-For", "Cookie"]))
def test_header_injection_and_odd_headers(client, value, name):
    value = value.replace("\r", "").replace("\n", "")  # the test client refuses raw newlines itself
    try:
        response = client.post("/webhooks/twilio/sms", data={"Body": "x"}, headers={name: value})
    except ValueError:  # werkzeug rejects a header it cannot send: nothing reached the app
        return
    check(response)
    for _header, header_value in response.headers.items():
        assert "\n" not in header_value and "\r" not in header_value


@pytest.fixture
def signed_in(client, gateway):
    create_staff(gateway.sessions, "fuzzer", PASSWORD, "admin", None, gateway.clock())
    login(client, "fuzzer")
    code = client.post("/webhooks/console/sms", json={"from": "09121234567", "text": "چاله عمیق تو خیابون فین"})
    assert code.status_code == 200
    return client


FORM_PATHS = ["/login", "/tickets/00000000/reply", "/tickets/00000000/status", "/staff", "/canned", "/logout"]
GET_PATHS = ["/tickets", "/tickets.csv", "/reports", "/reports.csv", "/tickets/%ZZ", "/tickets/۱۲۳"]


@SLOW
@given(path=st.sampled_from(FORM_PATHS), form=forms)
def test_dashboard_forms_with_random_fields(signed_in, path, form):
    check(signed_in.post(path, data=form))


@SLOW
@given(path=st.sampled_from(GET_PATHS), query=forms)
def test_dashboard_pages_with_random_queries(signed_in, path, query):
    check(signed_in.get(path, query_string=query))


def test_server_is_healthy_after_the_storm(client):
    assert client.get("/healthz").get_json()["database"] == "ok"
