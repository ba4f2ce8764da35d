"""What the gateway promises the citizen: pure rules, configured from settings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .values import Verdict


@dataclass(frozen=True)
class Policy:
    timezone: str = "Asia/Tehran"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    reminder_days: int = 3
    clarify_hours: int = 24
    duplicate_days: int = 7
    max_tickets_per_day: int = 5
    blocked_numbers: frozenset[str] = frozenset()
    verdict_accept: str = "31"
    verdict_object: str = "33"
    max_send_attempts: int = 6
    claim_lease: timedelta = timedelta(minutes=10)
    content_retry: timedelta = timedelta(minutes=10)  # without message ids: the same text this soon is a retry
    claim_batch: int = 10  # messages claimed at once: a sender killed mid-batch strands at most these
    emergency_sla_hours: int = 4

    def is_quiet(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone)).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def next_send_time(self, moment: datetime) -> datetime:
        """`moment` itself, or the end of the quiet hours it falls in."""
        if not self.is_quiet(moment):
            return moment
        local = moment.astimezone(ZoneInfo(self.timezone))
        morning = local.replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute, second=0, microsecond=0)
        if morning <= local:
            morning = (local + timedelta(days=1)).replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute,
                                                          second=0, microsecond=0)
        return morning.astimezone(moment.tzinfo)

    def local_day_start(self, moment: datetime) -> datetime:
        """Midnight of the citizen's day, for the per-day ticket limit."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(moment.tzinfo)

    def verdict_of(self, latin_text: str) -> Verdict | None:
        """«۳۱» → accepted, «33» → objected, anything else → None. Digits must already be Latin."""
        answer = latin_text.strip()
        if answer == self.verdict_accept:
            return Verdict.ACCEPTED
        if answer == self.verdict_object:
            return Verdict.OBJECTED
        return None


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: 1, 2, 4, 8, 16 minutes…"""
    return timedelta(minutes=2 ** max(attempts - 1, 0))
