"""The figures the 137 centre publishes, for a Jalali date range, computed in the database."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from persiantools.jdatetime import JalaliDate
from sqlalchemy import case, func, select
from sqlalchemy.orm import sessionmaker

from ..adapters.models import Ticket
from ..domain.city import CityData
from ..domain.staff import Viewer
from ..domain.text import to_latin_digits
from ..domain.tickets import OPEN
from ..domain.values import Status, Verdict
from .queue import visible


class ReportError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    first: JalaliDate
    last: JalaliDate
    start: datetime   # aware, inclusive
    end: datetime     # aware, exclusive

    @property
    def label(self) -> str:
        return f"{self.first.strftime('%Y/%m/%d')} تا {self.last.strftime('%Y/%m/%d')}"


def parse_jalali(text: str) -> JalaliDate:
    """«۱۴۰۵/۰۹/۰۱», «1405-9-1» → JalaliDate; raises ReportError."""
    parts = to_latin_digits(text.strip()).replace("-", "/").split("/")
    try:
        year, month, day = (int(p) for p in parts)
        return JalaliDate(year, month, day)
    except (ValueError, TypeError):
        raise ReportError(f"تاریخ نادرست: {text}") from None


def period(first_text: str, last_text: str, today: date, timezone: str) -> Period:
    """The days from `first` to `last` inclusive, in the city's time zone; default: this Jalali month."""
    today_j = JalaliDate(today)
    first = parse_jalali(first_text) if first_text else JalaliDate(today_j.year, today_j.month, 1)
    last = parse_jalali(last_text) if last_text else today_j
    if last < first:
        raise ReportError("تاریخ پایان پیش از تاریخ شروع است")
    zone = ZoneInfo(timezone)
    start = datetime.combine(first.to_gregorian(), time(0), zone)
    end = datetime.combine(last.to_gregorian() + timedelta(days=1), time(0), zone)
    return Period(first, last, start, end)


def half_years(today: date, count: int = 3) -> list[tuple[str, str, str]]:
    """The Jalali half-year `today` falls in and the ones before it, newest first, as (label, first day,
    last day): the first six months (31 days each) and the second six (to the 29th or 30th of Esfand)."""
    today_j = JalaliDate(today)
    year, half = today_j.year, 1 if today_j.month <= 6 else 2
    found = []
    for _ in range(count):
        if half == 1:
            first, last = JalaliDate(year, 1, 1), JalaliDate(year, 6, 31)
        else:
            first, last = JalaliDate(year, 7, 1), JalaliDate(year + 1, 1, 1) - timedelta(days=1)
        found.append((f"{'نیمه نخست' if half == 1 else 'نیمه دوم'} {year}", first.strftime("%Y/%m/%d"),
                      last.strftime("%Y/%m/%d")))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return found


def _in_period(p: Period, viewer: Viewer):
    return [Ticket.opened_at >= p.start, Ticket.opened_at < p.end, visible(viewer)]


def _hours_between(engine_name: str, later, earlier):
    if engine_name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def region_table(sessions: sessionmaker, viewer: Viewer, p: Period, city: CityData) -> list[dict]:
    """Per region (every region of the city, even with no request): received, done, not doable, in
    progress (every ticket still open); then unknown region and the total."""
    open_statuses = tuple(OPEN)
    query = select(
        Ticket.region, func.count(Ticket.id),
        func.sum(case((Ticket.status == Status.DONE, 1), else_=0)),
        func.sum(case((Ticket.status == Status.NOT_DOABLE, 1), else_=0)),
        func.sum(case((Ticket.status.in_(open_statuses), 1), else_=0)),
    ).where(*_in_period(p, viewer)).group_by(Ticket.region)
    with sessions() as session:
        found = {region: (received, done or 0, not_doable or 0, in_progress or 0)
                 for region, received, done, not_doable, in_progress in session.execute(query)}
    for region in {r.number for r in city.regions if viewer.sees_region(r.number)}:
        found.setdefault(region, (0, 0, 0, 0))
    rows = [{"region": region, "received": r[0], "done": r[1], "not_doable": r[2], "in_progress": r[3]}
            for region, r in sorted(found.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
    total = {"region": "total", **{k: sum(r[k] for r in rows) for k in ("received", "done", "not_doable",
                                                                         "in_progress")}}
    return rows + [total]


CHANNELS = ("sms", "phone", "web", "open311", "bale")  # every way in, each listed even with no request


def channel_table(sessions: sessionmaker, viewer: Viewer, p: Period) -> list[dict]:
    """Per channel the request came in by (each of CHANNELS, even with none): received, done, not
    doable, in progress (every ticket still open); then the total. The same figures as by region."""
    query = select(
        Ticket.channel, func.count(Ticket.id),
        func.sum(case((Ticket.status == Status.DONE, 1), else_=0)),
        func.sum(case((Ticket.status == Status.NOT_DOABLE, 1), else_=0)),
        func.sum(case((Ticket.status.in_(tuple(OPEN)), 1), else_=0)),
    ).where(*_in_period(p, viewer)).group_by(Ticket.channel)
    with sessions() as session:
        found = {channel: (received, done or 0, not_doable or 0, in_progress or 0)
                 for channel, received, done, not_doable, in_progress in session.execute(query)}
    order = list(CHANNELS) + sorted(set(found) - set(CHANNELS))
    rows = [{"channel": c, **dict(zip(_FIGURES, found.get(c, (0, 0, 0, 0)), strict=True))} for c in order]
    return rows + [{"channel": "total", **{k: sum(r[k] for r in rows) for k in _FIGURES}}]


_FIGURES = ("received", "done", "not_doable", "in_progress")


def channel_table_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["channel", *_FIGURES])
    for r in rows:
        writer.writerow([r["channel"], *(r[k] for k in _FIGURES)])
    return out.getvalue()


def by_category(sessions: sessionmaker, viewer: Viewer, p: Period) -> list[tuple[str, int]]:
    with sessions() as session:
        return sorted(session.execute(select(func.coalesce(Ticket.category, "other"), func.count(Ticket.id))
                                      .where(*_in_period(p, viewer)).group_by(Ticket.category)).all(),
                      key=lambda r: -r[1])


def quiet_neighbourhoods(sessions: sessionmaker, viewer: Viewer, p: Period, city: CityData,
                         limit: int = 10) -> list[tuple[str, int | None, int]]:
    """The city's neighbourhoods that reported least (none at all first): where outreach should go."""
    with sessions() as session:
        counts = dict(session.execute(select(Ticket.neighbourhood, func.count(Ticket.id))
                                      .where(*_in_period(p, viewer)).group_by(Ticket.neighbourhood)).all())
    places = [pl for pl in city.places if pl.kind == "neighbourhood" and viewer.sees_region(pl.region)]
    ranked = sorted(places, key=lambda pl: (counts.get(pl.name, 0), pl.name))
    return [(pl.name, pl.region, counts.get(pl.name, 0)) for pl in ranked[:limit]]


def service_figures(sessions: sessionmaker, viewer: Viewer, p: Period) -> dict:
    """SLA compliance and mean hours to done (tickets done in the period), verdicts."""
    with sessions() as session:
        engine_name = session.get_bind().dialect.name
        done = select(
            func.count(Ticket.id),
            func.sum(case((Ticket.closed_at <= Ticket.expected_at, 1), else_=0)),
            func.avg(_hours_between(engine_name, Ticket.closed_at, Ticket.opened_at)),
        ).where(*_in_period(p, viewer), Ticket.status == Status.DONE, Ticket.closed_at.is_not(None))
        count, on_time, mean_hours = session.execute(done).one()
        answered = Ticket.verdict.in_((Verdict.ACCEPTED, Verdict.OBJECTED))
        verdicts = dict(session.execute(select(Ticket.verdict, func.count(Ticket.id))
                                        .where(*_in_period(p, viewer), answered)
                                        .group_by(Ticket.verdict)).all())
    return {"done": count or 0, "on_time": on_time or 0,
            "sla_percent": round(100 * (on_time or 0) / count) if count else None,
            "mean_hours_to_done": round(float(mean_hours), 1) if mean_hours is not None else None,
            "accepted": verdicts.get("accepted", 0), "objected": verdicts.get("objected", 0)}


def region_table_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["region", "received", "done", "not_doable", "in_progress"])
    for r in rows:
        writer.writerow([r["region"] if r["region"] is not None else "unknown", r["received"], r["done"],
                         r["not_doable"], r["in_progress"]])
    return out.getvalue()
