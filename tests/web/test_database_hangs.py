"""A database that hangs mid-query (issue 14, "Also"): a web request's statement is cancelled after
web_statement_timeout_seconds, the request answers a clear Persian 503, and the raw message is not lost:
the provider is told to retry, and its retry is stored once. PostgreSQL only (SQLite has no
statement_timeout; a locked SQLite file waits busy_timeout and then answers the same 503)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, func, select, text

from sms_gateway.adapters.models import InboundMessage, Ticket
from sms_gateway.services.staff import create_staff
from sms_gateway.web import create_app
from tests.conftest import _empty_tables
from tests.web.helpers import post_twilio, twilio_params
from tests.web.test_dashboard import PASSWORD, login

TIMEOUT = 1.0
SLOW = "پایگاه داده به‌موقع پاسخ نداد"


@pytest.fixture
def hanging(settings, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's")
    app = create_app(settings.replace(web_statement_timeout_seconds=TIMEOUT), clock=clock)
    app.config["TESTING"] = True
    other = create_engine(database_url)
    yield app, other
    other.dispose()
    gateway = app.extensions["sms_gateway"]
    _empty_tables(gateway.engine)
    gateway.engine.dispose()


def _stored(gateway) -> tuple[int, int]:
    with gateway.sessions() as s:
        return (s.scalar(select(func.count()).select_from(InboundMessage)),
                s.scalar(select(func.count()).select_from(Ticket)))


@pytest.mark.parametrize("table", ["inbound_message", "ticket"])  # the raw insert hangs; the reading hangs
def test_a_webhook_answers_503_within_the_timeout_and_its_retry_is_stored_once(hanging, table):
    app, other = hanging
    client, params = app.test_client(), twilio_params("چاله عمیق تو خیابون فین")
    with other.connect() as locker:
        locker.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))  # held until the block ends
        started = time.perf_counter()
        response = post_twilio(client, params)
        took = time.perf_counter() - started
        locker.rollback()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert SLOW in response.get_json()["message"]
    assert TIMEOUT <= took < TIMEOUT + 2.0
    assert _stored(app.extensions["sms_gateway"]) == (0, 0)  # nothing half-stored: the provider retries
    retry = post_twilio(client, params)
    assert retry.status_code == 200 and "<Message>" in retry.get_data(as_text=True)
    assert post_twilio(client, params).status_code == 200  # and a later repeat is the same one message
    assert _stored(app.extensions["sms_gateway"]) == (1, 1)


def test_a_dashboard_page_answers_a_persian_503_within_the_timeout(hanging):
    app, other = hanging
    gateway, client = app.extensions["sms_gateway"], app.test_client()
    create_staff(gateway.sessions, "op", PASSWORD, "operator", None, gateway.clock())
    login(client, "op")
    with other.connect() as locker:
        locker.execute(text("LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE"))
        started = time.perf_counter()
        response = client.get("/tickets")
        took = time.perf_counter() - started
        locker.rollback()
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and SLOW in page and 'dir="rtl"' in page
    assert took < TIMEOUT + 2.0
    assert client.get("/tickets").status_code == 200


def test_the_cli_and_scheduler_engine_is_not_limited(settings):
    from sms_gateway.bootstrap import build_gateway

    gateway = build_gateway(settings.replace(web_statement_timeout_seconds=TIMEOUT))
    try:
        if gateway.engine.dialect.name != "postgresql":
            pytest.skip("statement_timeout is PostgreSQL's")
        with gateway.engine.connect() as conn:
            assert conn.scalar(text("SHOW statement_timeout")) == "0"
    finally:
        gateway.engine.dispose()
