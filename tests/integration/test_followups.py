"""The citizen contract: lifecycle, questions, verdicts, opt-out, duplicates, limits, and the outbox with
quiet hours, coalescing and retries. A fixed clock drives every test; nothing sleeps."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sms_gateway.providers.base import SendError, SendResult
from sqlalchemy import func, select

from sms_gateway.adapters.models import Citizen, InboundMessage, OutboundMessage, Ticket, TicketEvent
from sms_gateway.bootstrap import build_gateway
from sms_gateway.scheduler import run_due
from sms_gateway.services import lifecycle
from sms_gateway.services.tickets import Refused, TicketNotFound
from tests.conftest import _empty_tables
from tests.support import carries_code, deliver, set_status

CITIZEN, NEIGHBOUR = "09121234567", "09359876543"
_ids = itertools.count()
TEHRAN = timezone(timedelta(hours=3, minutes=30))


class RecordingProvider:
    """An outbound provider that records what it sends and fails while `failing` is set."""

    name = "console"
    channel = "sms"
    routes = ()
    replies_inline = True
    token_in_path = False

    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []
        self.failing: SendError | None = None

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        if self.failing:
            raise self.failing
        self.sent.append((to, text, local_id))
        return SendResult(provider_message_id=f"rec-{local_id}")


@pytest.fixture
def provider():
    return RecordingProvider()


@pytest.fixture
def gw(settings, clock, provider):
    gateway = build_gateway(settings, clock, providers={"console": provider})
    yield gateway
    _empty_tables(gateway.engine)
    gateway.engine.dispose()


def sms(gw, text: str, sender: str = CITIZEN):
    return deliver(gw, text, sender, inline=True)


def at_tehran(gw, hour: int, minute: int = 0, days: int = 0) -> datetime:
    day = gw.clock().astimezone(TEHRAN).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TEHRAN).astimezone(UTC)


def ticket(gw, code: str) -> Ticket:
    with gw.sessions() as s:
        return s.scalar(select(Ticket).where(Ticket.tracking_code == code))


def outbox(gw, **where) -> list[OutboundMessage]:
    with gw.sessions() as s:
        query = select(OutboundMessage).where(OutboundMessage.automated.is_(True)).order_by(OutboundMessage.id)
        for key, value in where.items():
            query = query.where(getattr(OutboundMessage, key) == value)
        return list(s.scalars(query))


def count(gw, model) -> int:
    with gw.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def report(gw, text="چاله عمیق تو خیابون فین", sender=CITIZEN) -> str:
    result = sms(gw, text, sender)
    assert result.ticket_code, result.reply
    return result.ticket_code


# --- lifecycle -----------------------------------------------------------------------------------

def test_illegal_transitions_are_refused_and_every_change_is_an_event(gw):
    code = report(gw)
    with pytest.raises(Refused, match="نمی‌تواند"):
        set_status(gw, code, "reopened", "", "op1")
    with pytest.raises(Refused, match="دلیل"):
        set_status(gw, code, "not_doable", "  ", "op1")
    with pytest.raises(Refused, match="شناخته نیست"):
        set_status(gw, code, "finished", "", "op1")
    with pytest.raises(TicketNotFound):
        set_status(gw, "99999999", "referred", "", "op1")
    set_status(gw, code, "referred", "به عمران", "op1")
    set_status(gw, code, "done", "", "op2")
    with pytest.raises(Refused):
        set_status(gw, code, "in_progress", "", "op2")
    with gw.sessions() as s:
        events = s.execute(select(TicketEvent.actor, TicketEvent.note).where(TicketEvent.action == "status")
                           .order_by(TicketEvent.id)).all()
    assert events == [("op1", "registered → referred: به عمران"), ("op2", "referred → done")]
    assert ticket(gw, code).closed_at == gw.clock()


def test_referral_tells_the_expected_date_from_the_category_sla(gw, provider):
    code = report(gw)  # asphalt: 168 hours in the Kashan data
    t = ticket(gw, code)
    assert t.expected_at == t.opened_at + timedelta(hours=168)
    set_status(gw, code, "referred", "", "op1")
    sent = run_due(gw, gw.clock())
    assert [s.kind for s in sent] == ["referred"]
    assert "۱۰ آذر ۱۴۰۵" in sent[0].text and "آسفالت و چاله" in sent[0].text and sent[0].text.endswith("لغو ۱۱")
    assert outbox(gw)[0].segments == 2 and outbox(gw)[0].status == "sent"


def test_not_doable_tells_the_whole_reason_and_asks_the_verdict_within_two_segments(gw):
    code = report(gw)
    room = lifecycle.reason_room(gw.ctx)
    too_long = "این معبر در حریم راه‌آهن است و رسیدگی به آن با اداره کل راه‌آهن استان اصفهان است، نه شهرداری کاشان"
    assert len(too_long) > room >= 70  # a sentence of a reason fits
    with pytest.raises(Refused, match="کوتاه‌ترش کنید"):
        set_status(gw, code, "not_doable", too_long, "op1")
    assert outbox(gw) == [] and ticket(gw, code).status == "registered"  # refused whole: nothing half-done
    reason = too_long[:room].rsplit(" ", 1)[0]
    set_status(gw, code, "not_doable", reason, "op1")
    [message] = outbox(gw)
    assert message.segments <= 2 and reason in message.text and "…" not in message.text
    assert "۳۱" in message.text and "۳۳" in message.text and message.text.endswith("لغو ۱۱")


# --- the outbox ------------------------------------------------------------------------------------

def test_quiet_hours_defer_automated_messages_to_the_morning_but_not_direct_answers(gw, clock, provider):
    code = report(gw)
    clock.now = at_tehran(gw, 22, 15)
    set_status(gw, code, "referred", "", "op1")
    assert outbox(gw)[0].due_at == at_tehran(gw, 8, 0, days=1)
    assert run_due(gw, clock.now) == []
    assert run_due(gw, at_tehran(gw, 7, 59, days=1)) == []
    # a direct answer at night goes at once
    reply = sms(gw, f"پیگیری {code}")
    assert reply.reply and count(gw, OutboundMessage) == 3
    sent = run_due(gw, at_tehran(gw, 8, 0, days=1))
    assert [s.kind for s in sent] == ["referred"]


def test_a_message_queued_by_day_and_still_unsent_at_night_waits(gw, clock, provider):
    code = report(gw)
    set_status(gw, code, "referred", "", "op1")
    assert run_due(gw, at_tehran(gw, 23, 0)) == []
    assert outbox(gw)[0].due_at == at_tehran(gw, 8, 0, days=1)
    assert [s.kind for s in run_due(gw, at_tehran(gw, 8, 30, days=1))] == ["referred"]


def test_one_automated_message_per_ticket_per_run_the_newest_status_wins(gw, provider):
    code = report(gw)
    for status in ("referred", "in_progress", "done"):
        set_status(gw, code, status, "", "op1")
    sent = run_due(gw, gw.clock())
    assert [s.kind for s in sent] == ["done"] and "انجام شد" in sent[0].text
    assert [m.status for m in outbox(gw)] == ["superseded", "superseded", "sent"]
    assert run_due(gw, gw.clock() + timedelta(hours=1)) == []


def test_running_twice_sends_nothing_twice(gw, provider):
    for i, text in enumerate(["چاله عمیق تو خیابون فین", "زباله ها جمع نشده تو طاهرآباد"]):
        code = report(gw, text, sender=f"0912000000{i}")
        set_status(gw, code, "referred", "", "op1")
    first = run_due(gw, gw.clock())
    second = run_due(gw, gw.clock())
    assert len(first) == 2 and second == []
    assert sorted(local_id for _, _, local_id in provider.sent) == sorted(str(m.id) for m in outbox(gw))


def test_failures_retry_with_backoff_then_fail_visibly(gw, provider, clock):
    code = report(gw)
    set_status(gw, code, "referred", "", "op1")
    provider.failing = SendError("kavenegar 409 server busy", retryable=True)
    now = gw.clock()
    waits = []
    for _ in range(gw.ctx.policy.max_send_attempts):
        [result] = run_due(gw, now)
        [message] = outbox(gw)
        if message.status == "failed":
            break
        waits.append(message.due_at - now)
        assert run_due(gw, message.due_at - timedelta(seconds=1)) == []
        now = message.due_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert message.status == "failed" and message.attempts == 6 and "409" in message.last_error
    assert run_due(gw, now + timedelta(days=1)) == []


def test_a_recovered_provider_drains_the_queue(gw, provider):
    codes = [report(gw, text, sender=f"0912000000{i}") for i, text in
             enumerate(["چاله عمیق تو خیابون فین", "زباله ها جمع نشده تو طاهرآباد", "سگ ولگرد تو پارک طاهرآباد"])]
    for code in codes:
        set_status(gw, code, "referred", "", "op1")
    provider.failing = SendError("timeout", retryable=True)
    assert {s.status for s in run_due(gw, gw.clock())} == {"queued"}
    provider.failing = None
    assert len(run_due(gw, gw.clock() + timedelta(minutes=1))) == 3
    assert {m.status for m in outbox(gw)} == {"sent"}


def test_a_message_left_sending_by_a_dead_sender_is_sent_again_after_the_lease(gw, provider):
    code = report(gw)
    set_status(gw, code, "referred", "", "op1")
    [message] = outbox(gw)
    with gw.sessions.begin() as s:
        s.get(OutboundMessage, message.id).status = "sending"
        s.get(OutboundMessage, message.id).claimed_at = gw.clock()
    assert run_due(gw, gw.clock() + timedelta(minutes=5)) == []
    [again] = run_due(gw, gw.clock() + timedelta(minutes=11))
    assert again.outbound_id == message.id and provider.sent[-1][2] == str(message.id)


# --- reminders and overdue notices ------------------------------------------------------------------

def test_reminders_every_n_days_while_open_and_an_overdue_notice_once(gw):
    code = report(gw, "زباله ها جمع نشده تو طاهرآباد")  # garbage: 24 hours
    start = gw.clock()
    kinds = []
    for hours in (12, 25, 26, 3 * 24 + 1, 3 * 24 + 2, 6 * 24 + 1):
        kinds.append([s.kind for s in run_due(gw, gw.ctx.policy.next_send_time(start + timedelta(hours=hours)))])
    assert kinds == [[], ["overdue"], [], ["reminder"], [], ["reminder"]]
    reminder = outbox(gw, kind="reminder")[0]
    assert "هنوز باز است" in reminder.text and reminder.text.endswith("لغو ۱۱")
    set_status(gw, code, "done", "", "op1")
    run_due(gw, start + timedelta(days=7))
    assert run_due(gw, start + timedelta(days=30)) == []


# --- conversation ----------------------------------------------------------------------------------

def test_a_report_without_a_place_asks_and_a_bare_place_name_completes_it(gw):
    first = sms(gw, "جوی آب گرفته بوی بدی میده")
    t = ticket(gw, first.ticket_code)
    assert t.status == "needs_info" and t.asked == "place" and "محله یا خیابان" in first.reply
    answer = sms(gw, "طاهر ابادد")
    assert answer.ticket_code == first.ticket_code and "کامل شد" in answer.reply
    t = ticket(gw, first.ticket_code)
    assert (t.status, t.neighbourhood, t.region, t.incomplete) == ("registered", "طاهرآباد", 5, False)
    assert count(gw, Ticket) == 1 and "طاهر ابادد" in t.description


def test_a_report_without_a_clear_problem_asks_what_it_is(gw):
    first = sms(gw, "یه مشکلی تو کوچه مون تو طاهرآباد هست لطفا رسیدگی کنید")
    t = ticket(gw, first.ticket_code)
    assert t.status == "needs_info" and t.asked == "category" and "مشکل چیست" in first.reply
    sms(gw, "لامپای کوچه سوخته شبا تاریکه")
    t = ticket(gw, first.ticket_code)
    assert (t.status, t.category, t.neighbourhood) == ("registered", "street_lighting", "طاهرآباد")


def test_no_answer_in_24_hours_sends_the_ticket_on_flagged_incomplete(gw, clock):
    code = sms(gw, "جوی آب گرفته بوی بدی میده").ticket_code
    run_due(gw, clock.now + timedelta(hours=23))
    assert ticket(gw, code).status == "needs_info"
    run_due(gw, clock.now + timedelta(hours=24, minutes=1))
    t = ticket(gw, code)
    assert t.status == "registered" and t.incomplete
    clock.advance(hours=25)
    later = sms(gw, "طاهرآباد")  # too late to be the answer: a new report, asked what the problem is
    assert later.ticket_code != code and ticket(gw, later.ticket_code).asked == "category"
    assert ticket(gw, code).neighbourhood is None


def test_a_new_full_report_while_a_question_waits_is_its_own_ticket(gw):
    first = sms(gw, "جوی آب گرفته بوی بدی میده").ticket_code
    second = report(gw, "سگ ولگرد تو پارک طاهرآباد")
    assert second != first and ticket(gw, first).status == "needs_info"


def test_verdict_digits_accept_or_object_and_objection_reopens_for_a_supervisor(gw):
    a = report(gw)
    set_status(gw, a, "done", "", "op1")
    assert ticket(gw, a).verdict == "asked"
    assert "سپاس" in sms(gw, "۳۱").reply
    assert ticket(gw, a).verdict == "accepted" and ticket(gw, a).status == "done"
    b = report(gw, "زباله ها جمع نشده تو طاهرآباد")
    set_status(gw, b, "done", "", "op1")
    assert "اعتراض" in sms(gw, "33").reply
    t = ticket(gw, b)
    assert (t.verdict, t.status, t.supervisor_flag) == ("objected", "reopened", True)
    assert ticket(gw, a).verdict == "accepted"


def test_verdict_digits_are_configurable(settings, clock, provider):
    gateway = build_gateway(settings.replace(verdict_accept="41", verdict_object="43"), clock,
                            providers={"console": provider})
    try:
        code = report(gateway)
        set_status(gateway, code, "done", "", "op1")
        assert "۴۱" in outbox(gateway)[0].text
        sms(gateway, "٤٣")
        assert ticket(gateway, code).verdict == "objected"
    finally:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()


@pytest.mark.parametrize("stop", ["لغو", "لغو ۱۱", "۱۱", "11", "١١", "STOP"])
def test_opt_out_stops_automated_messages_and_is_confirmed_once(gw, stop):
    code = report(gw)
    first = sms(gw, stop)
    assert "قطع شد" in first.reply
    assert sms(gw, stop).reply is None
    set_status(gw, code, "referred", "", "op1")
    assert run_due(gw, gw.clock()) == [] and outbox(gw)[0].status == "suppressed"
    # a new report from an opted-out number is still acknowledged
    assert carries_code(sms(gw, "زباله ها جمع نشده تو طاهرآباد").reply)


def test_opting_out_after_a_message_was_queued_suppresses_it_and_opting_in_resumes(gw):
    code = report(gw)
    set_status(gw, code, "referred", "", "op1")
    sms(gw, "لغو ۱۱")
    assert run_due(gw, gw.clock()) == [] and outbox(gw)[0].status == "suppressed"
    assert "دوباره فعال" in sms(gw, "۱۲").reply
    set_status(gw, code, "in_progress", "", "op1")
    assert [s.kind for s in run_due(gw, gw.clock())] == ["in_progress"]


def test_a_report_like_an_open_one_is_linked_and_gets_the_same_updates(gw):
    primary = report(gw, "زباله ها جمع نشده تو طاهرآباد", sender=CITIZEN)
    result = sms(gw, "کیسه های آشغال سه روزه مونده سر کوچه طاهرآباد", sender=NEIGHBOUR)
    assert result.ticket_code != primary and "شهروندان دیگری" in result.reply
    assert ticket(gw, result.ticket_code).linked_to_id == ticket(gw, primary).id
    set_status(gw, primary, "referred", "", "op1")
    sent = run_due(gw, gw.clock())
    assert sorted(s.ticket for s in sent) == sorted([primary, result.ticket_code])
    assert ticket(gw, result.ticket_code).status == "referred"
    # an old ticket is not a duplicate
    set_status(gw, primary, "done", "", "op1")
    third = sms(gw, "زباله ها جمع نشده تو طاهرآباد", sender="09130000000")
    assert ticket(gw, third.ticket_code).linked_to_id is None


def test_more_than_the_daily_limit_gets_a_polite_refusal(gw, clock):
    texts = ["چاله عمیق تو خیابون فین", "چراغای کوچه خاموشه محله سلطان امیر احمد", "سگ ولگرد تو پارک طاهرآباد",
             "جوب کوچه گرفته و بو میده تو لتحر", "درخت شکسته افتاده وسط خیابان تو محله پشت مشهد",
             "زباله ها جمع نشده تو طاهرآباد"]
    codes = [sms(gw, t).ticket_code for t in texts]
    assert all(codes[:5]) and codes[5] is None
    assert count(gw, Ticket) == 5 and count(gw, InboundMessage) == 6
    with gw.sessions() as s:
        assert "فردا" in s.scalar(select(InboundMessage.reply_text).order_by(InboundMessage.id.desc()).limit(1))
    clock.now = at_tehran(gw, 0, 30, days=1)  # a new day in Kashan
    assert sms(gw, texts[5]).ticket_code


def test_blocked_numbers_are_stored_but_never_answered(settings, clock, provider):
    gateway = build_gateway(settings.replace(blocked_numbers=("+989121234567",)), clock,
                            providers={"console": provider})
    try:
        result = sms(gateway, "چاله عمیق تو خیابون فین", sender="0912 123 4567")
        assert result.reply is None and result.ticket_code is None
        assert count(gateway, InboundMessage) == 1 and count(gateway, Ticket) == 0
        assert count(gateway, Citizen) == 1
    finally:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()
