"""`sms-gateway serve` takes a long Persian text forwarded by GET (issue 14, item 14): through a real gunicorn
started here on a free port, a 1,000-character Melipayamak forward (5 KB of percent-encoded UTF-8 in its
request line) is stored and answered OK; one past the limit made for `max_text_chars` is refused with
414 and the refusal is logged, without the webhook token."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import select

from sms_gateway.adapters.db import make_engine
from sms_gateway.adapters.models import InboundMessage
from sms_gateway.settings import Settings
from sms_gateway.web.server import gunicorn_request_line, request_line_limit
from tests.conftest import MELI_TOKEN, _empty_tables
from tests.fakes import FakeProviderApi
from tests.integration.test_cli import _free_port, _wait_for_port
from tests.integration.test_run_due_cli import BIN
from tests.support import without_faketime

WORDS = "سلام، سه روزه آشغالای کوچه ما رو نبردن، محله فین؛ لطفا رسیدگی کنید "


def persian(chars: int) -> str:
    return (WORDS * (chars // len(WORDS) + 1))[:chars]


def test_the_request_line_limit_fits_max_text_chars_in_percent_encoded_utf8():
    for chars in (70, 1000, 1600, 5000):
        limit = request_line_limit(Settings(max_text_chars=chars))
        line = f"GET /webhooks/melipayamak/{'t' * 43}/sms?" + urlencode(
            {"from": "+989121234567", "to": "10007000137", "body": "ض" * chars}) + " HTTP/1.1"
        assert len(line.encode()) <= limit, chars
        assert gunicorn_request_line(limit) in (limit, 0), "gunicorn cuts anything from 8,190 up to 8,190"


@pytest.fixture
def server(database_url, tmp_path):
    with FakeProviderApi(default=(200, {"recId": 4242, "status": "ارسال موفق بود"})) as api:
        config = tmp_path / "config.toml"
        config.write_text("")
        port = _free_port()
        env = dict(without_faketime(dict(os.environ)), SMS_GATEWAY_CONFIG=str(config),
                   SMS_GATEWAY_DATABASE_URL=database_url, SMS_GATEWAY_SECRET_KEY="serve-secret-" + "0" * 24,
                   SMS_GATEWAY_PROVIDER="melipayamak", SMS_GATEWAY_MELIPAYAMAK_API_KEY="meli-key-SECRET",
                   SMS_GATEWAY_MELIPAYAMAK_WEBHOOK_TOKEN=MELI_TOKEN, SMS_GATEWAY_MELIPAYAMAK_API_URL=api.url,
                   SMS_GATEWAY_LOG_FORMAT="json", SMS_GATEWAY_LOG_LEVEL="info")
        log = tmp_path / "serve.log"
        with log.open("w") as out:
            process = subprocess.Popen([BIN, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
                                       env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_for_port(port)
            yield port, log
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
            engine = make_engine(database_url)
            _empty_tables(engine)
            engine.dispose()


def _get(port: int, text: str) -> tuple[int, bytes]:
    query = urlencode({"from": "09121234567", "to": "10007000137", "body": text}, quote_via=quote)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", f"/webhooks/melipayamak/{MELI_TOKEN}/sms?{query}")
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_a_1000_character_persian_get_through_gunicorn_is_stored_and_a_longer_one_refused_and_logged(
        server, database_url):
    port, log = server
    text = persian(1000)
    assert len(urlencode({"body": text}, quote_via=quote)) > 5000, "past gunicorn's default 4,094 bytes"
    status, body = _get(port, text)
    assert (status, body) == (200, b"OK")
    engine = make_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(select(InboundMessage.text)).scalars().all()
    engine.dispose()
    assert stored == [text], "stored whole"
    longest = persian(1600)  # max_text_chars: 9.6 KB of request line, past what gunicorn itself allows
    assert _get(port, longest) == (200, b"OK")
    status, _ = _get(port, persian(3000))
    assert status == 414
    for _ in range(50):
        if "refused with 414" in log.read_text():
            break
        time.sleep(0.1)
    logged = log.read_text()
    assert "request line of" in logged and "refused with 414" in logged and "/webhooks/melipayamak/***/sms" in logged
    assert MELI_TOKEN not in logged
