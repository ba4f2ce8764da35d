"""The console script, run as a user runs it: a real server process and real commands."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import carries_code

BIN = Path(sys.executable).parent / "sms-gateway"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)


def _run(env, *args, check=True):
    result = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def cli_env(tmp_path):
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/cli.sqlite3",
               SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    _run(env, "db", "upgrade")
    return env


def test_serve_simulate_and_tickets_round_trip_a_tracking_code(cli_env):
    port = _free_port()
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--workers", "1"], env=cli_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_port(port)
        reply = _run(cli_env, "simulate", "چاله عمیق جلوی مدرسه تو فین", "--from", "09121234567", "--url", url).stdout
        assert carries_code(reply)
        listed = json.loads(_run(cli_env, "tickets", "list", "--json").stdout)
        assert len(listed) == 1 and listed[0]["phone"] == "09121234567"  # the command line acts as an admin
        assert {"code", "status", "intent", "category", "neighbourhood", "region", "opened_at"} <= set(listed[0])
        code = listed[0]["code"]
        assert code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in reply
        persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        shown = json.loads(_run(cli_env, "tickets", "show", persian, "--json").stdout)
        assert shown["description"] == "چاله عمیق جلوی مدرسه تو فین"
        assert [i["kind"] for i in shown["items"][:2]] == ["inbound", "event"] and shown["items"][1]["action"] == "opened"
        status = _run(cli_env, "simulate", f"پیگیری {code}", "--from", "09121234567", "--url", url).stdout
        assert "ثبت شده" in status
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_unknown_ticket_and_bad_config_are_clear_errors(cli_env, tmp_path):
    missing = _run(cli_env, "tickets", "show", "12345678", check=False)
    assert missing.returncode != 0 and "درخواستی با کد" in missing.stderr
    bad = dict(cli_env, SMS_GATEWAY_PROVIDER="pigeon")
    result = _run(bad, "tickets", "list", check=False)
    assert result.returncode != 0 and "provider" in result.stderr and "Traceback" not in result.stderr


def test_create_staff_refuses_duplicates_and_short_passwords(cli_env):
    _run(cli_env, "create-staff", "--username", "zahra", "--password", "long-enough-1", "--role", "admin")
    again = _run(cli_env, "create-staff", "--username", "zahra", "--password", "long-enough-1", check=False)
    assert again.returncode != 0 and "از پیش هست" in again.stderr
    short = _run(cli_env, "create-staff", "--username", "ali", "--password", "123", check=False)
    assert short.returncode != 0 and "۸ نویسه" in short.stderr
    first = _run(cli_env, "demo-login").stdout
    second = _run(cli_env, "demo-login").stdout
    assert "password" in first and "shown once" in first and "exists" in second


def test_serve_with_two_preloaded_workers_stores_concurrent_webhooks_once(database_url, tmp_path):
    """The app is built before the fork; each worker must open its own connections and answer."""
    from concurrent.futures import ThreadPoolExecutor
    from http.client import HTTPConnection

    from sqlalchemy import func, select

    from sms_gateway.adapters.db import make_engine
    from sms_gateway.adapters.models import InboundMessage, Ticket
    from tests.conftest import _empty_tables

    (tmp_path / "none.toml").write_text("")
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=database_url, SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    port = _free_port()
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def deliver(i: int) -> int:  # a new connection each: both workers get some
        http = HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"id": f"serve-{i}", "from": f"0912{i:07d}", "text": "چاله عمیق تو خیابون فین"})
        http.request("POST", "/webhooks/console/sms", body=body.encode(), headers={"Content-Type": "application/json"})
        status = http.getresponse().status
        http.close()
        return status

    try:
        _wait_for_port(port)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(deliver, list(range(40)) * 2))  # each message twice: a provider retry
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert statuses == [200] * 80
    engine = make_engine(database_url)
    with engine.connect() as conn:
        inbound = conn.scalar(select(func.count(InboundMessage.id)))
        tickets = conn.scalar(select(func.count(Ticket.id)))
    _empty_tables(engine)
    engine.dispose()
    assert inbound == 40 and tickets == 40
