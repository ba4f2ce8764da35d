"""A ticket's life: which status may follow which, and the Persian words for them."""
from __future__ import annotations

from .values import Status

CITIZEN_LABELS: dict[str, str] = {
    Status.REGISTERED: "ثبت شده",
    Status.REFERRED: "ارجاع به واحد مربوط",
    Status.IN_PROGRESS: "در حال انجام",
    Status.DONE: "انجام شد",
    Status.NOT_DOABLE: "قابل انجام نیست",
    Status.NEEDS_INFO: "منتظر پاسخ شما",
    Status.REOPENED: "بازگشایی شده",
}
STAFF_LABELS: dict[str, str] = {**CITIZEN_LABELS, Status.NEEDS_INFO: "منتظر پاسخ شهروند"}
# For an SMS listing several requests, where every character counts.
CITIZEN_SHORT_LABELS: dict[str, str] = {**CITIZEN_LABELS, Status.REFERRED: "ارجاع شده", Status.NOT_DOABLE: "انجام‌نشدنی"}

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.REGISTERED: frozenset({Status.REFERRED, Status.IN_PROGRESS, Status.DONE, Status.NOT_DOABLE,
                                  Status.NEEDS_INFO}),
    Status.NEEDS_INFO: frozenset({Status.REGISTERED, Status.REFERRED, Status.IN_PROGRESS, Status.DONE,
                                  Status.NOT_DOABLE}),
    Status.REFERRED: frozenset({Status.IN_PROGRESS, Status.DONE, Status.NOT_DOABLE, Status.NEEDS_INFO}),
    Status.IN_PROGRESS: frozenset({Status.DONE, Status.NOT_DOABLE, Status.REFERRED, Status.NEEDS_INFO}),
    Status.DONE: frozenset({Status.REOPENED}),
    Status.NOT_DOABLE: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.REFERRED, Status.IN_PROGRESS, Status.DONE, Status.NOT_DOABLE,
                                Status.NEEDS_INFO}),
}
CLOSED: frozenset[str] = frozenset({Status.DONE, Status.NOT_DOABLE})
OPEN: frozenset[str] = frozenset(TRANSITIONS) - CLOSED
# Open and waiting on the municipality, not on the citizen's answer: these get reminders and overdue
# notices, count as overdue, and can be the report a duplicate is linked to.
AWAITING_CITY: frozenset[str] = OPEN - {Status.NEEDS_INFO}
# The order staff usually move a ticket in, for the status form.
STAFF_ORDER: tuple[str, ...] = (Status.REFERRED, Status.IN_PROGRESS, Status.DONE, Status.NOT_DOABLE,
                                Status.NEEDS_INFO, Status.REGISTERED, Status.REOPENED)
# What a unit account may set; the rest (and referral, correction) is the 137 centre's.
UNIT_STATUSES: frozenset[str] = frozenset({Status.IN_PROGRESS, Status.DONE, Status.NOT_DOABLE})
# A unit can send back to the 137 centre a ticket it has not closed.
RETURNABLE: frozenset[str] = frozenset({Status.REFERRED, Status.IN_PROGRESS, Status.REOPENED})


class IllegalTransition(ValueError):
    """A status change the rules refuse; the message is Persian, for staff."""


def check_transition(current: str, new: str, note: str = "") -> None:
    """Raise IllegalTransition unless `current` may become `new` (not_doable needs a reason)."""
    if new not in TRANSITIONS:
        raise IllegalTransition(f"وضعیت «{new}» شناخته نیست")
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"درخواستی که «{STAFF_LABELS[current]}» است نمی‌تواند «{STAFF_LABELS[new]}» شود")
    if new == Status.NOT_DOABLE and not note.strip():
        raise IllegalTransition("برای «قابل انجام نیست» نوشتن دلیل لازم است؛ دلیل به شهروند گفته می‌شود")


def is_incomplete(neighbourhood: str | None, category: str | None) -> bool:
    """A ticket staff must finish themselves: its place or its problem is still unknown."""
    return neighbourhood is None or category in (None, "other")
