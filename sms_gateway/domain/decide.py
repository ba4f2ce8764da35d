"""What to do with one message, from what was read in it, who sent it and their tickets. Pure: the
intake service gathers the facts, calls `decide`, and carries the decision out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .policy import Policy
from .text import to_latin_digits
from .tickets import AWAITING_CITY, OPEN
from .understanding import Understanding
from .values import Kind, Status, Verdict


class Act(StrEnum):
    IGNORE = "ignore"            # a blocked number: stored, never answered
    VERDICT = "verdict"          # 31/33 after an outcome
    STATUS = "status"            # a status query
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    IDENTITY = "identity"        # permits, dues, plans, legal matters: the authenticated channel
    COMPLETE = "complete"        # the answer to our question completes a waiting ticket
    ATTACH = "attach"            # it joins an open ticket: still not fixed, a repeat, a detail, an objection's reason
    THANKS = "thanks"            # thanks or praise: answered, no ticket
    OPEN = "open"                # a new ticket (an emergency, a report, one that asks a question)
    ASK_WHAT = "ask_what"        # greetings, noise: ask what the request is
    OUTSIDE = "outside"          # a place outside the municipality
    TOO_MANY = "too_many"        # the daily limit of new tickets


@dataclass(frozen=True)
class CitizenFacts:
    is_new: bool
    opted_out: bool
    blocked: bool


@dataclass(frozen=True)
class TicketFacts:
    """What decisions read of a ticket: the citizen's own, or another's open report nearby."""

    id: int
    code: str
    status: str
    category: str | None
    neighbourhood: str | None
    opened_at: datetime
    emergency: bool = False
    asked: str | None = None
    asked_at: datetime | None = None
    verdict: str | None = None
    closed_at: datetime | None = None
    verdict_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    act: Act
    reply: Kind | None
    ticket: TicketFacts | None = None     # the existing ticket acted on
    verdict: Verdict | None = None
    ask: str | None = None                # opening: "place", "category" or "both"
    link_to: TicketFacts | None = None    # opening: the open report this one repeats


def missing(u: Understanding) -> str | None:
    """What to ask about a report: the place, the problem, both, or nothing."""
    no_place = u.neighbourhood is None
    no_category = u.category in (None, "other") or not u.routed
    if no_place and no_category:
        return "both"
    return "place" if no_place else "category" if no_category else None


def similar_key(u: Understanding) -> tuple[str, str] | None:
    """(category, neighbourhood) of a complete report, for finding an open one like it."""
    if u.intent != "report" or missing(u) or u.category is None or u.neighbourhood is None:
        return None
    return u.category, u.neighbourhood


DETAIL_WINDOW = timedelta(hours=1)    # a message with no problem of its own this soon after a report adds to it
REPEAT_WINDOW = timedelta(hours=24)   # the same report again this soon is a repeat, later a «still not fixed»


def decide(text: str, u: Understanding, citizen: CitizenFacts, tickets: Sequence[TicketFacts],
           similar: TicketFacts | None, policy: Policy, now: datetime) -> Decision:
    """The one rule for every inbound message. `tickets` are the citizen's own open ones, one awaiting a
    verdict, and today's; `similar` another citizen's open report of the same problem at the same place."""
    if citizen.blocked:
        return Decision(Act.IGNORE, None)
    verdict = policy.verdict_of(to_latin_digits(text))
    awaiting = _awaiting_verdict(tickets)
    if verdict and awaiting is not None:
        reply = Kind.VERDICT_OBJECTED if verdict == Verdict.OBJECTED else Kind.VERDICT_THANKS
        return Decision(Act.VERDICT, reply, ticket=awaiting, verdict=verdict)
    if u.intent == "status_query":
        return Decision(Act.STATUS, Kind.STATUS)
    if u.intent == "opt_out":
        return Decision(Act.OPT_OUT, None if citizen.opted_out else Kind.OPTED_OUT)
    if u.intent == "opt_in":
        return Decision(Act.OPT_IN, Kind.OPTED_IN)
    if u.intent == "identity_required":
        return Decision(Act.IDENTITY, Kind.IDENTITY_REQUIRED)
    if u.intent == "emergency":
        return Decision(Act.OPEN, Kind.EMERGENCY)
    if not text.strip():
        return Decision(Act.ASK_WHAT, Kind.ASK_WHAT)
    waiting = _awaiting_answer(tickets, now, policy)
    if waiting is not None and _answers(waiting, u):
        return Decision(Act.COMPLETE, Kind.CLARIFIED, ticket=waiting)
    joined = _joins(u, tickets, now, policy)
    if joined is not None:
        return joined
    if u.thanks and not u.names_problem:
        return Decision(Act.THANKS, Kind.THANKS)
    if u.intent == "unclear":
        return Decision(Act.ASK_WHAT, Kind.ASK_WHAT)
    if u.outside_city and not u.neighbourhood:
        return Decision(Act.OUTSIDE, Kind.OUTSIDE_CITY)
    if _tickets_today(tickets, now, policy) >= policy.max_tickets_per_day:
        return Decision(Act.TOO_MANY, Kind.TOO_MANY)
    ask = missing(u)
    if ask:
        return Decision(Act.OPEN, Kind(f"ask_{ask}"), ask=ask)
    if similar is not None and similar.status in AWAITING_CITY:
        return Decision(Act.OPEN, Kind.ACK_DUPLICATE, link_to=similar)
    return Decision(Act.OPEN, Kind.ACK_OPTED_OUT if citizen.opted_out else Kind.ACK)


def _joins(u: Understanding, tickets: Sequence[TicketFacts], now: datetime, policy: Policy) -> Decision | None:
    """Does the message continue one of the citizen's open tickets rather than open a new one? The reason for
    an objection just made; the same problem at the same place (again, or still not fixed); a detail with no
    problem of its own right after a report. A different problem, or the same one elsewhere, is new."""
    if u.intent not in ("report", "unclear"):
        return None

    def same_place(t: TicketFacts) -> bool:
        return u.neighbourhood is None or t.neighbourhood in (None, u.neighbourhood)

    objected = [t for t in tickets if t.verdict == Verdict.OBJECTED and t.status == Status.REOPENED and t.verdict_at
                and now - t.verdict_at <= timedelta(hours=policy.clarify_hours)]
    for t in sorted(objected, key=lambda t: t.verdict_at or now, reverse=True):
        if (not u.names_problem or u.category == t.category) and same_place(t):
            return Decision(Act.ATTACH, Kind.OBJECTION_REASON, ticket=t)
    open_ones = sorted((t for t in tickets if t.status in OPEN and not t.emergency),
                       key=lambda t: (t.opened_at, t.id), reverse=True)
    if u.names_problem and u.category not in (None, "other"):
        for t in open_ones:
            if t.category == u.category and same_place(t):
                fresh = now - t.opened_at <= REPEAT_WINDOW and not u.still
                return Decision(Act.ATTACH, Kind.REPEATED if fresh else Kind.ADDED, ticket=t)
        return None
    latest = open_ones[0] if open_ones else None
    if latest is not None and now - latest.opened_at <= DETAIL_WINDOW and same_place(latest) and not u.thanks:
        return Decision(Act.ATTACH, Kind.ADDED, ticket=latest)
    return None


def _awaiting_verdict(tickets: Sequence[TicketFacts]) -> TicketFacts | None:
    asked = [t for t in tickets if t.verdict == Verdict.ASKED]
    return max(asked, key=lambda t: (t.closed_at or t.opened_at, t.id), default=None)


def _awaiting_answer(tickets: Sequence[TicketFacts], now: datetime, policy: Policy) -> TicketFacts | None:
    cutoff = now - timedelta(hours=policy.clarify_hours)
    waiting = [t for t in tickets if t.status == Status.NEEDS_INFO and t.asked_at and t.asked_at > cutoff]
    return max(waiting, key=lambda t: (t.asked_at or now, t.id), default=None)


def _answers(ticket: TicketFacts, u: Understanding) -> bool:
    """Is this message the answer to our question, or a new report? A place, or a problem, is an answer; a
    message that itself describes a problem is a new report when it is a different problem in a place, or
    any problem in a place other than the ticket's."""
    other_problem = (u.names_problem and u.routed and ticket.category not in (None, "other")
                     and u.category not in (None, "other", ticket.category))
    other_place = bool(u.neighbourhood and ticket.neighbourhood and u.neighbourhood != ticket.neighbourhood)
    return not ((other_problem and u.neighbourhood) or (other_place and u.names_problem))


def _tickets_today(tickets: Sequence[TicketFacts], now: datetime, policy: Policy) -> int:
    day_start = policy.local_day_start(now)
    return sum(1 for t in tickets if t.opened_at >= day_start and not t.emergency)
