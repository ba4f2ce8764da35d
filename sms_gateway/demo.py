"""Demo data: a few hundred realistic tickets over the last weeks, through the real intake and lifecycle."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from providers.base import InboundSms

from . import domain, lifecycle
from .intake import handle_inbound_sms
from .models import Ticket

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
PATHS = [
    (0.12, []), (0.13, [domain.REFERRED]), (0.18, [domain.REFERRED, domain.IN_PROGRESS]),
    (0.44, [domain.REFERRED, domain.IN_PROGRESS, domain.DONE]), (0.10, [domain.REFERRED, domain.NOT_DOABLE]),
    (0.03, [domain.REFERRED, domain.DONE, "objection"]),
]
NOT_DOABLE_REASONS = ["ملک خصوصی است و رسیدگی با مالک است", "در حریم اداره برق است؛ به اداره برق اعلام شد",
                      "در برنامه بودجه سال آینده است"]


class DemoClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fill(gateway, count: int = 300, days: int = 45, seed: int = 137) -> int:
    """Create `count` tickets from citizens over the last `days`; returns how many tickets exist after."""
    rng = random.Random(seed)
    real_now = gateway.clock()
    clock = DemoClock(real_now - timedelta(days=days))
    gateway.clock = gateway.intake.clock = gateway.followups.clock = clock
    neighbourhoods = [p.name for p in gateway.followups.city.places if p.kind == "neighbourhood"]
    moments = sorted(real_now - timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(count))
    made = 0
    for i, moment in enumerate(moments):
        clock.now = moment
        text = rng.choice(MESSAGES).format(place=rng.choice(neighbourhoods))
        phone = f"09{rng.choice(['12', '13', '19', '35', '36', '90'])}{rng.randrange(10**7):07d}"
        sms = InboundSms("console", f"demo-{seed}-{i}", phone, "10007000137", text, {"demo": True})
        result = handle_inbound_sms(gateway.sessions, sms, gateway.intake, "console", reply_inline=True)
        if result.ticket_code:
            made += 1
            _advance(gateway, result.ticket_code, rng, clock, real_now)
    clock.now = real_now
    with gateway.sessions.begin() as session:  # questions nobody answered have gone on to staff
        lifecycle.expire_questions(session, gateway.followups, real_now)
    return made


def _advance(gateway, code: str, rng: random.Random, clock: DemoClock, real_now: datetime) -> None:
    pick, path = rng.random(), []
    for weight, steps in PATHS:
        if pick < weight:
            path = steps
            break
        pick -= weight
    with gateway.sessions.begin() as session:
        ticket = session.query(Ticket).filter_by(tracking_code=code).one()
        if ticket.status != domain.REGISTERED or ticket.linked_to_id:
            return
        opened = ticket.opened_at
        sla = timedelta(hours=gateway.followups.sla_hours(ticket.category))
        when = opened
        for step in path:
            when += timedelta(seconds=rng.uniform(0.05, 0.6) * sla.total_seconds())
            if when >= real_now:
                break
            clock.now = when
            if step == "objection":
                lifecycle.record_verdict(session, ticket, "objected", gateway.followups, when)
                continue
            note = rng.choice(NOT_DOABLE_REASONS) if step == domain.NOT_DOABLE else ""
            actor = rng.choice(["kashani", "mohammadi", "rezaei"])
            lifecycle.change_status(session, ticket, step, actor, note, gateway.followups, when, notify=True)
            if step == domain.DONE and rng.random() < 0.5:
                lifecycle.record_verdict(session, ticket, "accepted", gateway.followups,
                                         min(when + timedelta(hours=2), real_now))
