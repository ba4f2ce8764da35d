"""Melipayamak forwards no message id (issue 14, item 15): a provider's retry is the same sender, line and
text as a message stored less than `content_retry_minutes` before it, compared with the stored ones' times
(no fixed buckets, so a retry 2.6 s later across any edge is the same message), even when the retry
arrives while the first is still being read; a status query is always answered, however soon it is sent
again, since a citizen asking twice must not meet silence."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sms_gateway.providers.base import Received
from sqlalchemy import func, select

from sms_gateway.adapters.models import InboundMessage, OutboundMessage, Ticket
from sms_gateway.bootstrap import build_gateway
from sms_gateway.domain.text import persian_digits
from sms_gateway.services import intake
from sms_gateway.understanding.classifier import Classifier

REPORT = "سگ های ولگرد تو پارک طاهرآباد"
EDGE = datetime(2026, 11, 24, 9, 39, 59, 200_000, tzinfo=UTC)  # 2.6 s later is past a 10-minute edge


class SlowClassifier(Classifier):
    """Reading takes a while: a retry arrives before the first copy is committed."""

    def classify(self, text):
        time.sleep(0.3)
        return super().classify(text)


@pytest.fixture
def gateway(settings, clock, made):
    g = build_gateway(settings.replace(provider="melipayamak"), clock)
    made.append(g)
    return g


def forward(gateway, text: str, now: datetime, sender: str = "09351112233") -> intake.Receipt:
    message = Received("melipayamak", "", sender, "10007000137", text, {"from": sender, "body": text})
    return intake.receive(gateway.ctx, message, now, reply_inline=False)


def counts(gateway) -> tuple[int, int]:
    with gateway.sessions() as s:
        return s.scalar(select(func.count(InboundMessage.id))), s.scalar(select(func.count(Ticket.id)))


def replies(gateway) -> Counter:
    with gateway.sessions() as s:
        return Counter(s.scalars(select(OutboundMessage.kind)))


def test_a_retry_2_6_seconds_later_across_a_bucket_edge_is_the_same_message(gateway):
    first = forward(gateway, REPORT, EDGE)
    again = forward(gateway, REPORT, EDGE + timedelta(seconds=2.6))
    assert again.duplicate and again.ticket_code == first.ticket_code
    assert counts(gateway) == (1, 1) and replies(gateway) == Counter(ack=1)


def test_the_window_is_compared_with_the_stored_times_and_is_a_setting(settings, clock, made):
    g = build_gateway(settings.replace(provider="melipayamak", content_retry_minutes=3), clock)
    made.append(g)
    forward(g, REPORT, EDGE)
    assert forward(g, REPORT, EDGE + timedelta(minutes=2, seconds=59)).duplicate
    later = forward(g, REPORT, EDGE + timedelta(minutes=3, seconds=1))
    assert not later.duplicate, "past the window the same text is the citizen writing again"
    assert counts(g) == (2, 1), "and it joins the ticket it repeats"
    other = forward(g, REPORT, EDGE + timedelta(minutes=3, seconds=2), sender="09121234567")
    assert not other.duplicate, "another citizen's same words are their own message"


def test_a_citizens_status_query_sent_again_seconds_later_is_answered_again(gateway):
    code = forward(gateway, REPORT, EDGE).ticket_code
    query = f"پیگیری {code}"
    answers = [forward(gateway, query, EDGE + timedelta(seconds=s)) for s in (60, 63, 64)]
    assert not any(a.duplicate for a in answers)
    assert replies(gateway)["status"] == 3 and all(persian_digits(code) in (a.reply or "") for a in answers)
    assert forward(gateway, "پیگیری", EDGE + timedelta(seconds=70)).reply
    assert forward(gateway, "پیگیری", EDGE + timedelta(seconds=71)).reply, "a status query without a code too"


def test_a_retry_arriving_while_the_first_is_still_being_read_is_the_same_message(settings, clock, made, gateway):
    slow = build_gateway(settings.replace(provider="melipayamak"), clock, classifier=SlowClassifier(gateway.city))
    made.append(slow)
    start = threading.Barrier(3)
    results: list[intake.Receipt] = []

    def deliver(offset_ms: int) -> None:
        start.wait()
        results.append(forward(slow, REPORT, EDGE + timedelta(milliseconds=offset_ms)))

    threads = [threading.Thread(target=deliver, args=(n * 40,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 3
    assert counts(slow) == (1, 1), "three copies at once are one message and one ticket"
    assert sum(not r.duplicate for r in results) == 1 and len({r.ticket_code for r in results}) == 1
