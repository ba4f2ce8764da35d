"""The outbox claims in small batches (issue 14, item 13): a sender killed mid-batch strands at most
`claim_batch` messages, the others go out on the next run, and what it stranded is sent again once
`claim_lease_seconds` have passed, with the same local id, and the resend is logged. The README says per
provider which of them may deliver such a resend twice."""
from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sms_gateway.providers import PROVIDERS
from sms_gateway.providers.base import SendResult
from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage
from sms_gateway.bootstrap import build_gateway
from sms_gateway.settings import SettingsError, settings_from_mapping
from tests.conftest import _empty_tables
from tests.support import store

README = Path(__file__).resolve().parents[2] / "README.md"


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the sender catches it."""


class CountingPanel:
    """An SMS panel that records each send; `die_on` is the send during which the sender is killed."""

    name = "kavenegar"
    channel = "sms"
    deduplicates_resends = True

    def __init__(self):
        self.sent: list[str] = []
        self.die_on: int | None = None

    def send(self, to: str, text: str, local_id: str) -> SendResult:
        if self.die_on is not None and len(self.sent) + 1 == self.die_on:
            self.die_on = None
            raise Killed()
        self.sent.append(local_id)
        return SendResult(provider_message_id=f"p-{local_id}-{len(self.sent)}")


@pytest.fixture
def panel():
    return CountingPanel()


@pytest.fixture
def gateway(settings, clock, panel):
    g = build_gateway(settings.replace(provider="kavenegar", claim_batch=4, claim_lease_seconds=300), clock,
                      providers={"kavenegar": panel})
    yield g
    _empty_tables(g.engine)
    g.engine.dispose()


def _statuses(gateway) -> Counter:
    with gateway.sessions() as s:
        return Counter(s.scalars(select(OutboundMessage.status)))


def test_a_claim_takes_at_most_the_batch_and_a_killed_sender_strands_only_its_batch(gateway, panel, clock, caplog):
    for i in range(11):
        store(gateway, "چاله عمیق تو خیابون فین", f"0912{i:07d}", "kavenegar", f"c-{i}")
    assert _statuses(gateway) == Counter(queued=11)
    panel.die_on = 6  # the second batch: one of it sent, the second send killed, two never reached
    with pytest.raises(Killed):
        gateway.ctx.outbox.send_due(gateway.sessions, clock.now)
    assert _statuses(gateway) == Counter(sent=5, sending=3, queued=3), "only the batch in hand is left sending"
    # the next run, within the lease, sends what was never claimed and leaves the stranded three alone
    sent = gateway.ctx.outbox.send_due(gateway.sessions, clock.now + timedelta(seconds=30))
    assert len(sent) == 3 and _statuses(gateway) == Counter(sent=8, sending=3)
    assert not gateway.ctx.outbox.send_due(gateway.sessions, clock.now + timedelta(seconds=299))
    with caplog.at_level(logging.WARNING):
        again = gateway.ctx.outbox.send_due(gateway.sessions, clock.now + timedelta(seconds=301))
    assert len(again) == 3 and _statuses(gateway) == Counter(sent=11)
    assert sorted(panel.sent) == sorted(set(panel.sent)) and len(panel.sent) == 11, "each reached the panel once"
    assert caplog.text.count("was left sending by a sender that stopped") == 3
    assert "kavenegar refuses a second send of one id" in caplog.text


def test_every_run_claims_in_batches_of_the_setting(gateway, panel, clock, monkeypatch):
    from sms_gateway.services import outbox

    claims: list[int] = []
    real = outbox._claim

    def counting(session, ids, now, lease):
        claims.append(len(ids))
        return real(session, ids, now, lease)

    monkeypatch.setattr(outbox, "_claim", counting)
    for i in range(10):
        store(gateway, "چاله عمیق تو خیابون فین", f"0935{i:07d}", "kavenegar", f"b-{i}")
    assert len(gateway.ctx.outbox.send_due(gateway.sessions, clock.now)) == 10
    assert [n for n in claims if n] == [4, 4, 2]


def test_claim_batch_is_a_setting_of_at_least_one():
    assert settings_from_mapping({"claim_batch": 7}).claim_batch == 7
    with pytest.raises(SettingsError, match="claim_batch"):
        settings_from_mapping({"claim_batch": 0})


def test_the_readme_says_per_provider_whether_a_resend_may_arrive_twice():
    text = README.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^ *\| `(\w+)` \| (at most once|at least once)[^|]*\|", text, re.MULTILINE))
    sending = {name for name in PROVIDERS if name != "console"}
    assert set(rows) >= sending
    for name in sending:
        expected = "at most once" if PROVIDERS[name].deduplicates_resends else "at least once"
        assert rows[name] == expected, name
