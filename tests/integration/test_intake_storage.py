"""Exactly-once storage under concurrent retries, and nothing half-written when the database fails."""
import threading

from sqlalchemy import func, select

from sms_gateway.adapters.models import Citizen, InboundMessage, OutboundMessage, Ticket
from sms_gateway.services import intake, lifecycle
from sms_gateway.settings import Settings
from sms_gateway.web import create_app
from tests.support import store


def _counts(gateway):
    with gateway.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (Citizen, InboundMessage, Ticket, OutboundMessage))


def test_twenty_concurrent_deliveries_of_one_message_make_one_ticket(gateway):
    barrier = threading.Barrier(20)
    results, errors = [], []

    def deliver():
        barrier.wait()
        try:
            results.append(store(gateway, "زباله ها سه روزه مونده", "09121234567", "kavenegar", "dup-1"))
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
           "جوب کوچه گرفته و بو میده تو لتحر", "درخت شکسته افتاده وسط خیابان تو محله پشت مشهد"]
# Ten different problems in ten places: none of them continues another (that would join it, not count).
TEN_REPORTS = REPORTS + ["زباله ها سه روزه جمع نشده تو راوند", "تابلوی نام کوچه تو ماداب افتاده",
                         "اتوبوس خط سیلک نیم ساعت دیر میاد", "دستفروشا پیاده روی بازار رو گرفتن",
                         "جدول کنار خیابون تو حسن آباد شکسته"]

def test_first_messages_from_a_new_number_at_once_make_one_citizen(gateway):
    barrier = threading.Barrier(len(REPORTS))

    def deliver(i):
        barrier.wait()
        store(gateway, REPORTS[i], "09127654321", "kavenegar", f"m{i}")

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


def test_a_failure_while_reading_keeps_the_message_marked_and_the_retry_completes_it(gateway, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("a fault while opening the ticket")

    monkeypatch.setattr(lifecycle, "open_ticket", explode)
    receipt = store(gateway, "چراغ کوچه خاموشه تو فین", "09121234567", "console", "c-1")
    assert receipt.failed and receipt.reply is None
    assert _counts(gateway) == (0, 1, 0, 0)  # what reading it wrote is rolled back; the message is kept
    with gateway.sessions() as s:
        row = s.scalar(select(InboundMessage))
        assert (row.state, row.text, row.sender) == ("failed", "چراغ کوچه خاموشه تو فین", "+989121234567")
        assert "RuntimeError" in row.last_error
    assert store(gateway, "چراغ کوچه خاموشه تو فین", "09121234567", "console", "c-1").duplicate  # the retry
    assert intake.retry_failed(gateway.ctx, gateway.clock()) == 0  # still failing: counted, kept
    monkeypatch.undo()
    assert intake.retry_failed(gateway.ctx, gateway.clock()) == 1
    assert _counts(gateway) == (1, 1, 1, 1)
    with gateway.sessions() as s:
        row = s.scalar(select(InboundMessage))
        assert row.state == "processed" and row.attempts == 3 and row.ticket_id is not None


def test_one_numbers_concurrent_reports_wait_for_each_other_so_the_daily_limit_holds(gateway):
    """Intake locks the contact's row (a no-op UPDATE) until commit: ten reports sent at once from one number
    are counted one after another, and exactly the daily limit (5) become tickets."""
    store(gateway, "سلام", "09125550000", "kavenegar", "known-0")  # a known citizen now
    barrier = threading.Barrier(10)
    kinds = []

    def deliver(i):
        barrier.wait()
        kinds.append(store(gateway, TEN_REPORTS[i], "09125550000", "kavenegar",
                           f"known-{i + 1}").ticket_code)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(code is not None for code in kinds) == 5
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 5
