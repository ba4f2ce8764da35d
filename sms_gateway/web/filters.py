"""Jinja filters for the Persian dashboard: Persian digits, Jalali dates, labels."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from persiantools.jdatetime import JalaliDateTime

from ..domain.text import persian_digits, persian_number
from ..domain.tickets import STAFF_LABELS
from ..domain.values import CHANNEL_LABELS
from ..services import queue as queue_service

ACTION_LABELS = {
    "opened": "ثبت درخواست", "status": "تغییر وضعیت", "reply": "پاسخ کارشناس", "corrected": "اصلاح",
    "linked": "پیوند با درخواست مشابه", "asked": "پرسش از شهروند", "answered": "پاسخ شهروند",
    "verdict": "نظر شهروند", "note": "یادداشت", "phone_revealed": "نمایش شماره", "message": "پیام دوباره شهروند",
    "unlinked": "جدا شدن از درخواست مشابه", "referred_to_unit": "ارجاع به واحد", "returned": "بازگشت به مرکز ۱۳۷",
    "assigned": "ارجاع به همکار", "staff_note": "یادداشت داخلی", "sampled": "نمونه بازبینی", "reviewed": "بازبینی",
    "merged": "ادغام",
}
OUTBOUND_STATUS = {"queued": "در صف", "sending": "در حال ارسال", "sent": "ارسال شد", "delivered": "رسید",
                   "failed": "ناموفق", "suppressed": "لغو شده (انصراف)", "superseded": "جایگزین شد"}
VERDICTS = {"asked": "پرسیده شد", "accepted": "راضی", "objected": "معترض"}


def init_filters(app, timezone: str, city) -> None:
    zone = ZoneInfo(timezone)
    categories = {c.code: c.label for c in city.categories}

    def jalali(moment: datetime | None, with_time: bool = True) -> str:
        if moment is None:
            return "—"
        local = JalaliDateTime(moment.astimezone(zone).replace(tzinfo=None))
        return persian_digits(local.strftime("%Y/%m/%d %H:%M" if with_time else "%Y/%m/%d"))

    words = {**STAFF_LABELS, **categories, "category": "دسته", "neighbourhood": "محله",
             "accepted": "راضی", "objected": "معترض", "place": "محل", "both": "مشکل و محل"}
    codes = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b")

    def event_text(note: str) -> str:
        """Event notes keep machine codes («registered → referred»); people read Persian labels."""
        return persian_digits(codes.sub(lambda m: words[m.group(1)], note or ""))

    def fa_count(n: int, capped: bool | None = None) -> str:
        """«۱۲٬۳۴۵», and «۱۰٬۰۰۰+» for a count that stopped at the cap."""
        at_least = n >= queue_service.COUNT_CAP if capped is None else capped
        return persian_digits(f"{n:,}".replace(",", "٬")) + ("+" if at_least else "")

    app.jinja_env.filters.update(
        fa_count=fa_count,
        event_text=event_text,
        fa=lambda value: "—" if value is None else persian_number(value) if isinstance(value, float) else
        persian_digits(str(value)),
        jalali=jalali,
        jalali_date=lambda m: jalali(m, with_time=False),
        status_label=lambda s: STAFF_LABELS.get(s, s),
        category_label=lambda c: categories.get(c, "نامشخص") if c else "نامشخص",
        region_label=lambda r: "نامشخص" if r is None else ("جمع" if r == "total" else
                                                           city.region_name(r) or persian_digits(f"منطقه {r}")),
        action_label=lambda a: ACTION_LABELS.get(a, a),
        outbound_label=lambda s: OUTBOUND_STATUS.get(s, s),
        actor_label=lambda a: {"citizen": "شهروند", "system": "سامانه", "cli": "خط فرمان"}.get(a, a),
        channel_label=lambda c: CHANNEL_LABELS.get(c, c or "—"),
        verdict_label=lambda v: VERDICTS.get(v, "—") if v else "—",
    )
    app.jinja_env.globals.update(COUNT_CAP=queue_service.COUNT_CAP, STATUS_LABELS=STAFF_LABELS, CATEGORIES=categories,
                                 CITY=city, PLACES=[p.name for p in city.places], CHANNELS=CHANNEL_LABELS)
