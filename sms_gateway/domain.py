"""Ticket lifecycle and the Persian words citizens and staff read for it. Knows no Flask, no provider."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

REGISTERED, REFERRED, IN_PROGRESS, DONE, NOT_DOABLE, NEEDS_INFO, REOPENED = (
    "registered", "referred", "in_progress", "done", "not_doable", "needs_info", "reopened")

STATUS_LABELS = {
    REGISTERED: "ثبت شده",
    REFERRED: "ارجاع به واحد مربوط",
    IN_PROGRESS: "در حال انجام",
    DONE: "انجام شد",
    NOT_DOABLE: "قابل انجام نیست",
    NEEDS_INFO: "منتظر پاسخ شما",
    REOPENED: "بازگشایی شده",
}

TRANSITIONS = {
    REGISTERED: {REFERRED, IN_PROGRESS, DONE, NOT_DOABLE, NEEDS_INFO},
    NEEDS_INFO: {REGISTERED, REFERRED, IN_PROGRESS, DONE, NOT_DOABLE},
    REFERRED: {IN_PROGRESS, DONE, NOT_DOABLE, NEEDS_INFO},
    IN_PROGRESS: {DONE, NOT_DOABLE, REFERRED, NEEDS_INFO},
    DONE: {REOPENED},
    NOT_DOABLE: {REOPENED},
    REOPENED: {REFERRED, IN_PROGRESS, DONE, NOT_DOABLE, NEEDS_INFO},
}
CLOSED = {DONE, NOT_DOABLE}
OPEN = set(TRANSITIONS) - CLOSED
# Open and waiting on the municipality, not on the citizen's answer: these get reminders and overdue
# notices, count as overdue, and can be the report a duplicate is linked to.
AWAITING_CITY = OPEN - {NEEDS_INFO}


def is_incomplete(neighbourhood: str | None, category: str | None) -> bool:
    """A ticket staff must finish themselves: its place or its problem is still unknown."""
    return neighbourhood is None or category in (None, "other")


class IllegalTransition(ValueError):
    pass


def check_transition(current: str, new: str, note: str = "") -> None:
    """Raise IllegalTransition unless `current` may become `new` (not_doable needs a reason)."""
    if new not in TRANSITIONS:
        raise IllegalTransition(f"unknown status {new!r}; known: {', '.join(TRANSITIONS)}")
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a ticket that is {current} cannot become {new}")
    if new == NOT_DOABLE and not note.strip():
        raise IllegalTransition("not_doable needs a reason, which is told to the citizen")


# --- What the gateway promises the citizen: pure rules, configured from settings -----------------


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

    def is_quiet(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone)).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def next_send_time(self, moment: datetime) -> datetime:
        """`moment` itself, or the end of the quiet hours it falls in (an aware UTC-comparable time)."""
        if not self.is_quiet(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        morning = local.replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute, second=0, microsecond=0)
        if morning <= local:
            morning = (local + timedelta(days=1)).replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute,
                                                          second=0, microsecond=0)
        return morning.astimezone(moment.tzinfo)

    def local_day_start(self, moment: datetime) -> datetime:
        """Midnight of the citizen's day, for the per-day ticket limit."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(moment.tzinfo)

    def verdict_of(self, folded_text: str) -> str | None:
        """«۳۱» → accepted, «33» → objected, anything else → None. Digits must already be Latin."""
        answer = folded_text.strip()
        if answer == self.verdict_accept:
            return "accepted"
        if answer == self.verdict_object:
            return "objected"
        return None


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: 1, 2, 4, 8, 16 minutes…"""
    return timedelta(minutes=2 ** max(attempts - 1, 0))
