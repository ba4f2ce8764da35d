"""Demo data: a few hundred realistic requests over the last weeks, through the real intake, staff actions,
follow-ups and outbox (console provider), so the outbox holds what a real day would have left in it."""
from __future__ import annotations

import heapq
import logging
import random
from datetime import datetime, timedelta

from sqlalchemy import select

from ..adapters.models import Ticket
from ..domain.staff import command_line_viewer
from ..domain.values import Status
from ..providers.base import Received
from . import followups, intake, tickets
from .context import Context

MESSAGES = [
    "سلام، {place} چند روزه ماشین زباله نیومده، کیسه ها جلو در مونده بو گرفته",
    "آشغالای سر کوچه ما تو {place} رو سه روزه نبردن",
    "یه چاله بزرگ وسط خیابون {place} هست ماشینا میفتن توش",
    "آسفالت کوچه ما {place} رو کندن دیگه درست نکردن",
    "چراغای کوچه {place} شبا خاموشه، خیلی تاریکه و خطرناکه",
    "تیر برق کوچمون تو {place} لامپش سوخته",
    "جوب خیابون {place} گرفته آب راه افتاده تو کوچه",
    "بعد بارون دیروز کوچه های {place} رو آب گرفته",
    "سگای ولگرد تو پارک {place} به بچه ها حمله میکنن",
    "درخت کنار خیابون {place} خشک شده داره میفته",
    "نخاله ساختمونی رو ریختن کنار کوچه {place}",
    "مغازه دار سر کوچه {place} اجناسشو گذاشته رو پیاده رو رد نمیشه",
    "جدول کنار خیابون {place} شکسته",
    "موش زیاد شده تو کوچه های {place}، سمپاشی کنید",
    "تابلوی ورود ممنوع سر خیابون {place} افتاده",
    "کف پیاده رو {place} بلوکاش ورقلمبیده پای آدم گیر میکنه",
    "اتوبوس خط {place} نیم ساعت دیر میاد",
    "رفتگر چند روزه کوچه مارو تو {place} جارو نکرده",
    "جوی آب گرفته بوی بدی میده",
    "یه مشکلی تو محله {place} هست لطفا رسیدگی کنید",
]
PATHS: list[tuple[float, list[str]]] = [
    (0.12, []), (0.13, [Status.REFERRED]), (0.18, [Status.REFERRED, Status.IN_PROGRESS]),
    (0.44, [Status.REFERRED, Status.IN_PROGRESS, Status.DONE, "accept"]),
    (0.10, [Status.REFERRED, Status.NOT_DOABLE]),
    (0.03, [Status.REFERRED, Status.DONE, "object"]),
]
NOT_DOABLE_REASONS = ["ملک خصوصی است و رسیدگی با مالک است", "در حریم اداره برق است؛ به اداره برق اعلام شد",
                      "در برنامه بودجه سال آینده است"]
STAFF = ["kashani", "mohammadi", "rezaei"]


def fill(ctx: Context, now: datetime, count: int = 300, days: int = 45, seed: int = 137) -> int:
    """`count` citizen messages over the `days` before `now`, each request moved along by staff and
    answered by the follow-ups; returns how many tickets were opened."""
    rng = random.Random(seed)
    places = [p.name for p in ctx.city.places if p.kind == "neighbourhood"]
    moments = sorted(now - timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(count))
    steps: list[Step] = []
    console = logging.getLogger("sms_gateway.console")
    level, console.level = console.level, logging.WARNING  # the demo's SMS are not worth a log line each
    made = 0
    try:
        for i, moment in enumerate(moments):
            _run_until(ctx, steps, moment, rng)
            phone = f"09{rng.choice(['12', '13', '19', '35', '36', '90'])}{rng.randrange(10**7):07d}"
            text = rng.choice(MESSAGES).format(place=rng.choice(places))
            receipt = intake.receive(ctx, Received("console", f"demo-{seed}-{i}", phone, ctx.city.line, text,
                                                   {"demo": True}), moment, reply_inline=True)
            if receipt.ticket_code:
                made += 1
                _plan(ctx, steps, receipt.ticket_code, phone, moment, rng, len(steps))
        _run_until(ctx, steps, now, rng)
    finally:
        console.level = level
    return made


Step = tuple[datetime, int, str, str, str]  # (when, order, code, step, phone)


def _plan(ctx: Context, steps: list[Step], code: str, phone: str, opened: datetime, rng: random.Random,
          order: int) -> None:
    pick, path = rng.random(), list[str]()
    for weight, candidate in PATHS:
        if pick < weight:
            path = candidate
            break
        pick -= weight
    with ctx.sessions() as session:
        category = session.scalar(select(Ticket.category).where(Ticket.tracking_code == code))
    sla = timedelta(hours=ctx.city.sla_hours(category))
    when = opened
    for n, step in enumerate(path):
        when += timedelta(seconds=rng.uniform(0.05, 0.6) * sla.total_seconds())
        heapq.heappush(steps, (when, order * 10 + n, code, step, phone))


def _unit_of(ctx: Context, code: str) -> str | None:
    """The unit the 137 centre would refer this demo ticket to: its category's, in its region."""
    with ctx.sessions() as session:
        found = session.execute(select(Ticket.category, Ticket.region).where(Ticket.tracking_code == code)).first()
    unit = ctx.city.unit_for(found.category, found.region) if found else None
    return unit.code if unit else None


def _run_until(ctx: Context, steps: list[Step], moment: datetime, rng: random.Random) -> None:
    """Carry out the staff actions and citizen verdicts due before `moment`, with what the scheduler
    would have done meanwhile."""
    while steps and steps[0][0] <= moment:
        when, _order, code, step, phone = heapq.heappop(steps)
        followups.write_due(ctx, when)
        if step in ("accept", "object"):
            digits = ctx.policy.verdict_accept if step == "accept" else ctx.policy.verdict_object
            intake.receive(ctx, Received("console", f"demo-{code}-{step}", phone, ctx.city.line, digits, {}), when,
                           reply_inline=True)
        else:
            note = rng.choice(NOT_DOABLE_REASONS) if step == Status.NOT_DOABLE else ""
            try:
                if step == Status.REFERRED and (unit := _unit_of(ctx, code)):
                    tickets.refer_to_unit(ctx, command_line_viewer(rng.choice(STAFF)), code, unit, "", when)
                else:
                    tickets.change_status(ctx, command_line_viewer(rng.choice(STAFF)), code, step, note, when)
            except tickets.Refused:
                continue  # a linked report already moved along with its first
        ctx.outbox.send_due(ctx.sessions, when)
    followups.write_due(ctx, moment)
    ctx.outbox.send_due(ctx.sessions, moment)
