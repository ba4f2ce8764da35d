"""Exactly-once storage under concurrent retries, and nothing half-written when the database fails."""
import threading

import pytest
from sqlalchemy import func, select

from providers.base import InboundSms
from sms_gateway import create_app
from sms_gateway.intake import handle_inbound_sms
from sms_gateway.models import Citizen, InboundMessage, OutboundMessage, Ticket
from sms_gateway.settings import Settings


def _counts(gateway):
    with gateway.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (Citizen, InboundMessage, Ticket, OutboundMessage))


def test_twenty_concurrent_deliveries_of_one_message_make_one_ticket(gateway):
    sms = InboundSms("kavenegar", "dup-1", "09121234567", "10007000137", "زباله ها سه روزه مونده", {})
    barrier = threading.Barrier(20)
    results, errors = [], []

    def deliver():
        barrier.wait()
        try:
            results.append(handle_inbound_sms(gateway.sessions, sms, gateway.intake, "kavenegar", False))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _counts(gateway) == (1, 1, 1, 1)
    assert len({r.reply for r in results}) == 1 and len({r.ticket_code for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


REPORTS = ["چاله عمیق تو خیابون فین", "چراغای کوچه خاموشه محله سلطان امیر احمد", "سگ ولگرد تو پارک طاهرآباد",
           "جوب گرفته آب راه افتاده تو لتحر", "درخت شکسته افتاده وسط خیابان تو محله پشت مشهد"]


def test_first_messages_from_a_new_number_at_once_make_one_citizen(gateway):
    barrier = threading.Barrier(len(REPORTS))

    def deliver(i):
        barrier.wait()
        sms = InboundSms("kavenegar", f"m{i}", "09127654321", "", REPORTS[i], {})
        handle_inbound_sms(gateway.sessions, sms, gateway.intake, "kavenegar", False)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(REPORTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = len(REPORTS)
    assert _counts(gateway) == (1, n, n, n)


def test_database_down_is_503_and_retry_after_recovery_works(database_url, clock, tmp_path):
    if database_url.startswith("sqlite"):
        down_url = f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"
    else:
        down_url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    app = create_app(Settings(database_url=down_url), clock=clock)
    response = app.test_client().post("/webhooks/console/sms", json={"from": "09121234567", "text": "چاله"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] and b"Traceback" not in response.data
    app.extensions["sms_gateway"].engine.dispose()


def test_failure_mid_intake_writes_nothing(gateway, monkeypatch):
    import sms_gateway.intake as intake

    def explode(*args, **kwargs):
        raise RuntimeError("crash after the inbound row was added")

    monkeypatch.setattr(intake, "open_ticket", explode)
    sms = InboundSms("console", "c-1", "09121234567", "", "چراغ خاموش", {})
    with pytest.raises(RuntimeError):
        handle_inbound_sms(gateway.sessions, sms, gateway.intake, "console", True)
    assert _counts(gateway) == (0, 0, 0, 0)
    monkeypatch.undo()
    result = handle_inbound_sms(gateway.sessions, sms, gateway.intake, "console", True)
    assert result.ticket_code and _counts(gateway) == (1, 1, 1, 1)


def test_one_numbers_concurrent_reports_wait_for_each_other_so_the_daily_limit_holds(gateway):
    """Intake first writes the citizen's row (an upsert on PostgreSQL, a no-op UPDATE on SQLite), which locks
    it until commit: ten reports sent at once from one number are counted one after another, and exactly
    the daily limit (5) become tickets."""
    first = InboundSms("kavenegar", "known-0", "09125550000", "", "سلام", {})
    handle_inbound_sms(gateway.sessions, first, gateway.intake, "kavenegar", False)  # a known citizen now
    barrier = threading.Barrier(10)
    kinds = []

    def deliver(i):
        barrier.wait()
        sms = InboundSms("kavenegar", f"known-{i + 1}", "09125550000", "", REPORTS[i % len(REPORTS)], {})
        kinds.append(handle_inbound_sms(gateway.sessions, sms, gateway.intake, "kavenegar", False).ticket_code)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(code is not None for code in kinds) == 5
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 5
