"""`run-due`, `tickets set-status` and `scheduler` as an operator runs them, against a real database and a
local fake of Kavenegar's API: two run-due processes at once send each message exactly once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import select

from sms_gateway.adapters.models import JobRun, OutboundMessage
from sms_gateway.bootstrap import build_gateway
from tests.conftest import _empty_tables
from tests.fakes import FakeProviderApi
from tests.support import set_status, store, without_faketime

BIN = os.path.join(os.path.dirname(sys.executable), "sms-gateway")
KAVE_OK = {"return": {"status": 200, "message": "تایید شد"}, "entries": [{"messageid": 1, "status": 1}]}
TEXTS = ["چاله عمیق تو خیابون فین", "زباله ها جمع نشده تو طاهرآباد", "سگ ولگرد تو پارک طاهرآباد",
         "جوب کوچه گرفته و بو میده تو لتحر", "چراغای کوچه خاموشه محله سلطان امیر احمد"]


@pytest.fixture
def kave_api():
    with FakeProviderApi(default=(200, KAVE_OK), delay=0.01) as api:
        yield api


@pytest.fixture
def kave_settings(settings, kave_api):
    return settings.replace(provider="kavenegar").with_section("kavenegar", api_url=kave_api.url)


@pytest.fixture
def kave_gateway(kave_settings, clock):
    gateway = build_gateway(kave_settings, clock)
    yield gateway
    _empty_tables(gateway.engine)
    gateway.engine.dispose()


def cli_env(s, tmp_path) -> dict:
    config = tmp_path / "config.toml"
    config.write_text("")
    k = s.kavenegar
    return dict(os.environ, SMS_GATEWAY_CONFIG=str(config), SMS_GATEWAY_DATABASE_URL=s.database_url,
                SMS_GATEWAY_SECRET_KEY="test-secret-" + "0" * 20, SMS_GATEWAY_PROVIDER=s.provider,
                SMS_GATEWAY_KAVENEGAR_API_KEY=k.api_key, SMS_GATEWAY_KAVENEGAR_WEBHOOK_TOKEN=k.webhook_token,
                SMS_GATEWAY_KAVENEGAR_API_URL=k.api_url)


def seed_referred(gateway, n: int) -> list[str]:
    codes = []
    for i in range(n):
        codes.append(store(gateway, TEXTS[i % len(TEXTS)], f"0912{i:07d}", "kavenegar", f"seed-{i}").ticket_code)
    for code in codes[:len(TEXTS)]:  # the later reports are linked to these and follow their status
        set_status(gateway, code, "referred", "", "op1")
    return codes


def test_two_run_due_processes_at_once_send_each_message_once(kave_gateway, kave_settings, kave_api, tmp_path):
    n = 40
    seed_referred(kave_gateway, n)
    with kave_gateway.sessions() as s:
        due = {str(i) for i in s.scalars(select(OutboundMessage.id).where(OutboundMessage.status == "queued"))}
    assert len(due) == 2 * n  # n acknowledgements (not yet sent: non-inline provider) and n referrals
    env = cli_env(kave_settings, tmp_path)
    now = kave_gateway.clock().isoformat()
    runs = [subprocess.Popen([BIN, "run-due", "--now", now], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in outputs]
    printed = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    sent_ids = Counter(r["body"]["localid"] for r in kave_api.requests)
    assert set(sent_ids) == due and max(sent_ids.values()) == 1
    assert len(printed) == 2 * n and {p["kind"] for p in printed} == {"ack", "ack_duplicate", "referred"}
    assert all(set(p) == {"to", "text", "kind", "ticket"} for p in printed)
    again = subprocess.run([BIN, "run-due", "--now", now], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == ""
    with kave_gateway.sessions() as s:
        assert s.get(JobRun, "run_due").last_run_at == kave_gateway.clock()


def test_set_status_and_run_due_from_the_command_line(kave_gateway, kave_settings, kave_api, tmp_path):
    [code] = seed_referred(kave_gateway, 1)
    env = cli_env(kave_settings, tmp_path)
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    now = kave_gateway.clock().isoformat()
    done = subprocess.run([BIN, "tickets", "set-status", persian, "done", "--note", "ترمیم شد", "--now", now], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"{code} is now done" in done.stdout
    wrong = subprocess.run([BIN, "tickets", "set-status", code, "in_progress", "--now", now], env=env, capture_output=True,
                           text=True, timeout=60)
    assert wrong.returncode != 0 and "نمی‌تواند" in wrong.stderr
    unknown = subprocess.run([BIN, "tickets", "set-status", "12345678", "done"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert unknown.returncode != 0 and "درخواستی با کد" in unknown.stderr
    night = subprocess.run([BIN, "run-due", "--now", "2026-11-24T19:00:00+00:00"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert [json.loads(line)["kind"] for line in night.stdout.splitlines()] == ["ack"]  # 22:30 in Kashan
    morning = subprocess.run([BIN, "run-due", "--now", "2026-11-25T08:30:00+03:30"], env=env,
                             capture_output=True, text=True, timeout=60)
    [line] = [json.loads(line) for line in morning.stdout.splitlines()]
    assert line["kind"] == "done" and line["ticket"] == code and line["to"] == "+989120000000"
    bad = subprocess.run([BIN, "run-due", "--now", "yesterday"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "ISO-8601" in bad.stderr


def test_the_scheduler_process_sends_due_messages_and_a_second_one_waits(kave_gateway, kave_settings, kave_api,
                                                                         tmp_path):
    seed_referred(kave_gateway, 2)
    env = without_faketime(dict(cli_env(kave_settings, tmp_path), SMS_GATEWAY_SCHEDULER_INTERVAL_SECONDS="1",
                                SMS_GATEWAY_QUIET_HOURS="00:00-00:00"))
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with logs[0].open("w") as first_log, logs[1].open("w") as second_log:
        now = kave_gateway.clock().isoformat()  # the scheduler's clock starts at the tests' instant
        first = subprocess.Popen([BIN, "scheduler", "--now", now], env=env, stdout=subprocess.DEVNULL, stderr=first_log)
        second = None
        try:
            _wait_for(lambda: len(kave_api.requests) >= 4)
            second = subprocess.Popen([BIN, "scheduler", "--now", now], env=env, stdout=subprocess.DEVNULL, stderr=second_log)
            _wait_for(lambda: "waiting" in logs[1].read_text())
            store(kave_gateway, TEXTS[0], "09129999999", "kavenegar", "late-1")
            _wait_for(lambda: len(kave_api.requests) >= 5)
            time.sleep(1.5)  # two more runs of the first scheduler: nothing more to send
            assert len(kave_api.requests) == 5
            assert Counter(r["body"]["localid"] for r in kave_api.requests).most_common(1)[0][1] == 1
            assert "Scheduler started" not in logs[1].read_text()
        finally:
            for proc in (second, first):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=10)
    assert "scheduler started" in logs[0].read_text()


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
