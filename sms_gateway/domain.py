"""Ticket lifecycle and the Persian words citizens and staff read for it. Knows no Flask, no provider."""
from __future__ import annotations

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
