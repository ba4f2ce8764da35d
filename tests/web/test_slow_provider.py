"""Issue 14.16: commit, answer, then send. With a provider whose send API takes 5 s, webhooks and a staff
reply answer at once; the background senders send every answer exactly once."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage, Ticket
from sms_gateway.services.staff import create_staff
from sms_gateway.web import create_app
from tests.conftest import KAVE_TOKEN, _empty_tables
from tests.web.test_dashboard import PASSWORD, login, post

SEND_SECONDS = 5.0
WELL_UNDER = 2.5


class SlowKavenegar(ThreadingHTTPServer):
    """Kavenegar's sms/send.json on 127.0.0.1 that takes SEND_SECONDS to answer; it keeps every localid."""

    daemon_threads = True

    def __init__(self) -> None:
        self.local_ids: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: SlowKavenegar

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        time.sleep(SEND_SECONDS)
        with self.server.lock:
            self.server.local_ids.append(form["localid"][0])
            number = len(self.server.local_ids)
        body = json.dumps({"return": {"status": 200, "message": "تایید شد"},
                           "entries": [{"messageid": 9000 + number, "status": 1}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def slow_api():
    server = SlowKavenegar()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def slow_app(settings, clock, slow_api):
    settings = settings.replace(provider="kavenegar", send_threads=16, send_timeout_seconds=15.0) \
        .with_section("kavenegar", api_url=f"http://127.0.0.1:{slow_api.server_address[1]}")
    app = create_app(settings, clock=clock)
    app.config["TESTING"] = True
    yield app
    gateway = app.extensions["sms_gateway"]
    gateway.sender.wait_idle(3 * SEND_SECONDS)
    _empty_tables(gateway.engine)
    gateway.engine.dispose()


def _sent(gateway) -> list[tuple[str, str]]:
    with gateway.sessions() as s:
        return [(str(r.id), r.status) for r in s.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_sixteen_kavenegar_webhooks_answer_at_once_and_every_answer_is_sent_once(slow_app, slow_api):
    gateway = slow_app.extensions["sms_gateway"]
    took: dict[int, float] = {}

    def deliver(n: int) -> None:
        client = slow_app.test_client()
        started = time.perf_counter()
        response = client.post(f"/webhooks/kavenegar/{KAVE_TOKEN}/sms", data={
            "messageid": f"kv-{n}", "from": f"0912{n:07d}", "to": "10007000137",
            "message": "زباله ها سه روزه جمع نشده محله فین"})
        assert response.status_code == 200
        took[n] = time.perf_counter() - started

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(16)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(took) == 16 and max(took.values()) < WELL_UNDER, took
    assert time.perf_counter() - started < WELL_UNDER
    assert gateway.sender.wait_idle(4 * SEND_SECONDS)
    rows = _sent(gateway)
    assert len(rows) == 16 and {status for _, status in rows} == {"sent"}
    assert sorted(slow_api.local_ids) == sorted(i for i, _ in rows)  # each once, by its own localid


def test_a_staff_reply_answers_at_once_and_is_sent_once(slow_app, slow_api):
    gateway = slow_app.extensions["sms_gateway"]
    create_staff(gateway.sessions, "op", PASSWORD, "operator", None, gateway.clock())
    client = slow_app.test_client()
    client.post(f"/webhooks/kavenegar/{KAVE_TOKEN}/sms", data={
        "messageid": "kv-reply", "from": "09121234567", "to": "10007000137", "message": "چاله عمیق تو خیابون فین"})
    assert gateway.sender.wait_idle(2 * SEND_SECONDS)  # the acknowledgement, so the reply is timed alone
    with gateway.sessions() as s:
        tracking = s.scalar(select(Ticket.tracking_code))
    login(client, "op")
    started = time.perf_counter()
    page = post(client, f"/tickets/{tracking}/reply", {"body": "گروه عملیاتی فردا اعزام می‌شود."},
                page=f"/tickets/{tracking}").get_data(as_text=True)
    assert time.perf_counter() - started < WELL_UNDER
    assert "پاسخ ثبت شد و فرستاده می‌شود" in page
    assert gateway.sender.wait_idle(2 * SEND_SECONDS)
    rows = _sent(gateway)
    assert len(rows) == 2 and {status for _, status in rows} == {"sent"}
    assert sorted(slow_api.local_ids) == sorted(i for i, _ in rows)
