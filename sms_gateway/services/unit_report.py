"""The per-unit report: for the tickets opened in a period and referred to each executive unit, how
many, how many done within the unit's SLA, the mean hours from referral to done, the citizens'
objections (33) and their share, and what the weekly audit found."""
from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import sessionmaker

from ..adapters.models import AuditSample, Ticket
from ..domain.city import CityData
from ..domain.staff import Viewer
from ..domain.text import persian_number
from ..domain.values import Review, Status, Verdict
from .exports import BOM, formula_safe
from .queue import visible
from .reports import Period, _hours_between, _in_period

HEADERS = ["واحد", "دریافتی", "انجام شده", "انجام در مهلت واحد", "درصد در مهلت", "میانگین ساعت تا انجام",
           "اعتراض شهروند (۳۳)", "سهم اعتراض از نتیجه‌ها", "نمونه بازبینی", "درست", "بازگشایی‌شده"]


def unit_table(sessions: sessionmaker, viewer: Viewer, p: Period, city: CityData) -> list[dict[str, Any]]:
    """One row per unit that received tickets in the period (units of the city first, in its order)."""
    done = Ticket.status == Status.DONE
    objected = or_(Ticket.verdict == Verdict.OBJECTED, Ticket.supervisor_flag.is_(True))
    with sessions() as session:
        hours = _hours_between(session.get_bind().dialect.name, Ticket.closed_at, Ticket.referred_at)
        tickets = session.execute(select(
            Ticket.unit, func.count(Ticket.id), func.sum(case((done, 1), else_=0)),
            func.sum(case((done & (Ticket.closed_at <= Ticket.unit_due_at), 1), else_=0)),
            func.avg(case((done, hours), else_=None)), func.sum(case((objected, 1), else_=0)),
            func.sum(case((Ticket.closed_at.is_not(None) | objected, 1), else_=0)),
        ).where(*_in_period(p, viewer), Ticket.unit.is_not(None)).group_by(Ticket.unit)).all()
        audits = session.execute(select(
            AuditSample.unit, func.count(AuditSample.id),
            func.sum(case((AuditSample.review == Review.SOUND, 1), else_=0)),
            func.sum(case((AuditSample.review == Review.REOPENED, 1), else_=0)),
        ).join(Ticket, Ticket.id == AuditSample.ticket_id).where(
            AuditSample.sampled_at >= p.start, AuditSample.sampled_at < p.end, visible(viewer))
            .group_by(AuditSample.unit)).all()
    audit = {unit: (n, sound or 0, reopened or 0) for unit, n, sound, reopened in audits}
    rows = {}
    for unit, received, n_done, on_time, mean, objections, outcomes in tickets:
        rows[unit] = {"unit": unit, "label": city.unit_label(unit), "received": received, "done": n_done or 0,
                      "sla_met": on_time or 0,
                      "sla_percent": round(100 * (on_time or 0) / n_done) if n_done else None,
                      "mean_hours": round(float(mean), 1) if mean is not None else None,
                      "objections": objections or 0,
                      "objection_percent": round(100 * (objections or 0) / outcomes) if outcomes else None}
    for unit in set(audit) - set(rows):
        rows[unit] = {"unit": unit, "label": city.unit_label(unit), "received": 0, "done": 0, "sla_met": 0,
                      "sla_percent": None, "mean_hours": None, "objections": 0, "objection_percent": None}
    for unit, row in rows.items():
        row["sampled"], row["sound"], row["reopened"] = audit.get(unit, (0, 0, 0))
    order = {u.code: i for i, u in enumerate(city.units)}
    return sorted(rows.values(), key=lambda r: (order.get(r["unit"], len(order)), r["unit"]))


def unit_table_csv(rows: list[dict[str, Any]]) -> bytes:
    """The per-unit table as Excel opens it: UTF-8 with a BOM, Persian headers and digits."""
    def number(value: Any) -> str:
        return "" if value is None else persian_number(value)

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for r in rows:
        writer.writerow([formula_safe(r["label"])] + [number(r[k]) for k in (
            "received", "done", "sla_met", "sla_percent", "mean_hours", "objections", "objection_percent",
            "sampled", "sound", "reopened")])
    return (BOM + out.getvalue()).encode("utf-8")
