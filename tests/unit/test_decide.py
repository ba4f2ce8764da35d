"""The one rule for every message, as a table: what was read, who wrote and their tickets in, a decision out.
No database. Rows marked (issue 13) are the conversation the 137 operators asked for."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sms_gateway.domain.decide import Act, CitizenFacts, TicketFacts, decide
from sms_gateway.domain.policy import Policy
from sms_gateway.domain.understanding import Understanding
from sms_gateway.domain.values import Kind

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
POLICY = Policy()
KNOWN, NEW, OPTED_OUT = CitizenFacts(False, False, False), CitizenFacts(True, False, False), CitizenFacts(False, True, False)
BLOCKED = CitizenFacts(False, False, True)


def said(intent="report", category=None, place=None, *, routed=True, problem=True, still=False, thanks=False,
         code=None, invalid=False):
    return Understanding(intent, category=category, neighbourhood=place, region=1 if place else None,
                         category_confidence=0.99 if routed else 0.4, routed=routed and category is not None,
                         names_problem=problem, still=still, thanks=thanks, tracking_code=code, code_invalid=invalid)


def ticket(code="11111118", category="garbage", place="فین", status="registered", minutes_ago=90, **more):
    return TicketFacts(id=int(code[:3]), code=code, status=status, category=category, neighbourhood=place,
                       opened_at=NOW - timedelta(minutes=minutes_ago), **more)


GARBAGE_WAITING = ticket(category="garbage", place=None, status="needs_info", asked="place",
                         asked_at=NOW - timedelta(minutes=5), minutes_ago=5)
OBJECTED = ticket(category="asphalt", status="reopened", verdict="objected", verdict_at=NOW - timedelta(minutes=10),
                  minutes_ago=60 * 24 * 5)

CASES = [
    # (row, text, understanding, citizen, tickets, similar) → (act, reply, ticket acted on)
    ("(issue 13) the place answers the question: the first ticket completes, no second one",
     "محله پشت مشهد، کوچه شهید رحیمی", said(category="pest_control", place="پشت مشهد", routed=False, problem=False),
     KNOWN, [GARBAGE_WAITING], None, Act.COMPLETE, Kind.CLARIFIED, GARBAGE_WAITING),
    ("(issue 13) still not collected: joins the open garbage ticket, answered with its code and status",
     "هنوز کسی نیومده آشغالا رو ببره!", said(category="garbage", still=True), KNOWN,
     [ticket(minutes_ago=60 * 24 * 3)], None, Act.ATTACH, Kind.ADDED, ticket(minutes_ago=60 * 24 * 3)),
    ("(issue 13) after objecting with 33: the objection's reason joins the reopened ticket",
     "چاله هنوز هست، فقط یه کم خاک ریختن روش", said(category="asphalt", still=True), KNOWN, [OBJECTED], None,
     Act.ATTACH, Kind.OBJECTION_REASON, OBJECTED),
    ("(issue 13) the same report again minutes later: already registered under its code",
     "زباله ها سه روزه جمع نشده فین", said(category="garbage", place="فین"), KNOWN, [ticket(minutes_ago=4)], None,
     Act.ATTACH, Kind.REPEATED, ticket(minutes_ago=4)),
    ("(issue 13) thanks open no ticket", "خیلی ممنون از رسیدگی سریعتون", said("unclear", problem=False, thanks=True),
     KNOWN, [ticket(minutes_ago=10)], None, Act.THANKS, Kind.THANKS, None),
    ("(issue 13) «پیگیری» with no code: a status answer (the service lists the open requests)", "پیگیری",
     said("status_query"), KNOWN, [ticket()], None, Act.STATUS, Kind.STATUS, None),
    ("(issue 13) a status query with the code", "درخواستم به کجا رسید؟ کد ۳۲۶۷۶۴۹۸",
     said("status_query", code="32676498"), KNOWN, [], None, Act.STATUS, Kind.STATUS, None),
    ("(issue 13) a report after opting out: acknowledged, told that updates are off",
     "چاله عمیق تو خیابون فین", said(category="asphalt", place="فین"), OPTED_OUT, [], None,
     Act.OPEN, Kind.ACK_OPTED_OUT, None),
    ("a different problem is a new ticket", "چراغ کوچه خاموشه فین", said(category="street_lighting", place="فین"),
     KNOWN, [ticket(minutes_ago=10)], None, Act.OPEN, Kind.ACK, None),
    ("the same problem in another place is a new ticket", "زباله ها جمع نشده طاهرآباد",
     said(category="garbage", place="طاهرآباد"), KNOWN, [ticket(minutes_ago=10)], None, Act.OPEN, Kind.ACK, None),
    ("a detail with no problem of its own right after a report joins it", "کوچه دوم سمت راست، روبروی نونوایی",
     said(category="asphalt", routed=False, problem=False), KNOWN, [ticket(minutes_ago=20)], None,
     Act.ATTACH, Kind.ADDED, ticket(minutes_ago=20)),
    ("a detail long after: asked what the problem is", "کوچه دوم سمت راست", said("unclear", problem=False),
     KNOWN, [ticket(minutes_ago=60 * 5)], None, Act.ASK_WHAT, Kind.ASK_WHAT, None),
    ("a new report while a question waits, about another problem elsewhere, is its own ticket",
     "سگ ولگرد تو پارک طاهرآباد", said(category="stray_animals", place="طاهرآباد"),
     KNOWN, [replace(GARBAGE_WAITING, neighbourhood="فین")], None, Act.OPEN, Kind.ACK, None),
    ("the same problem as another citizen's open report is linked to it", "زباله ها جمع نشده فین",
     said(category="garbage", place="فین"), NEW, [], ticket(code="22222227"), Act.OPEN, Kind.ACK_DUPLICATE, None),
    ("danger to life opens an emergency ticket whatever the citizen's tickets", "آتیش گرفته انبار چوب",
     said("emergency", category="garbage"), KNOWN, [ticket(minutes_ago=2)], None, Act.OPEN, Kind.EMERGENCY, None),
    ("an unclear category asks for it", "یه مشکلی تو کوچه ما تو فین هست", said(category="other", place="فین",
     routed=False), NEW, [], None, Act.OPEN, Kind.ASK_CATEGORY, None),
    ("31 answers the verdict question", "۳۱", said("unclear", problem=False), KNOWN,
     [ticket(status="done", verdict="asked", closed_at=NOW)], None, Act.VERDICT, Kind.VERDICT_THANKS,
     ticket(status="done", verdict="asked", closed_at=NOW)),
    ("a blocked number is stored and never answered", "سلام", said("unclear"), BLOCKED, [], None,
     Act.IGNORE, None, None),
    ("identity-bound requests go to the authenticated channel", "پروانه ساخت میخوام", said("identity_required"),
     KNOWN, [], None, Act.IDENTITY, Kind.IDENTITY_REQUIRED, None),
    ("the daily limit", "تابلو افتاده فین", said(category="traffic_signs", place="فین"), KNOWN,
     [ticket(code=f"{n}1111118", category=c, minutes_ago=30) for n, c in
      enumerate(["bus", "taxi", "curbs", "drainage", "social"], 1)], None, Act.TOO_MANY, Kind.TOO_MANY, None),
]


@pytest.mark.parametrize("row,text,u,citizen,tickets,similar,act,reply,target", CASES, ids=[c[0] for c in CASES])
def test_decide(row, text, u, citizen, tickets, similar, act, reply, target):
    d = decide(text, u, citizen, tickets, similar, POLICY, NOW)
    assert (d.act, d.reply) == (act, reply)
    assert d.ticket == target
