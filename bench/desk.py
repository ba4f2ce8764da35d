"""The desk at a city's whole history: bench/scale.py's 1,000,000 tickets in PostgreSQL, most of them
referred to an executive unit and a tenth assigned to one of 20 colleagues, then a unit account's queue,
its overdue tickets, «کارهای من», the per-unit report and the weekly audit draw, each timed (median of 5
after a warm-up).

Usage: python bench/desk.py [--tickets 1000000] [--database-url postgresql://...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import fill, server_version  # noqa: E402  (the same tickets as bench/scale.py)

from sms_gateway.adapters.migrate import upgrade  # noqa: E402
from sms_gateway.bootstrap import build_gateway  # noqa: E402
from sms_gateway.domain.staff import Viewer  # noqa: E402
from sms_gateway.services.audit import draw_weekly_sample  # noqa: E402
from sms_gateway.services.queue import QueueFilters, queue  # noqa: E402
from sms_gateway.services.reports import period  # noqa: E402
from sms_gateway.services.unit_report import unit_table  # noqa: E402
from sms_gateway.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    base = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"desk_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        run(f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", args)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def refer_most(engine, now: datetime) -> None:
    """Every ticket past «registered» and «needs_info» is with a unit: its category's department in its
    region (city-wide without one), referred an hour after opening; every tenth is assigned (bench/scale.py's
    own units and assignees, a third and a quarter of its tickets, are replaced)."""
    naive = now.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(text("""INSERT INTO staff_user (id, username, password_hash, role, active, created_at,
                                                     session_version, searches)
                             SELECT g, 'op' || g, 'x', 'operator', true, :now, 0, 0 FROM generate_series(1, 20) g
                             ON CONFLICT (id) DO NOTHING"""),
                     {"now": naive})
        conn.execute(text("""
            UPDATE ticket SET
              unit = (CASE WHEN category IN ('asphalt', 'curbs', 'drainage') THEN 'civil_works'
                           WHEN category = 'bus' THEN 'transport' ELSE 'urban_services' END)
                     || CASE WHEN region IS NOT NULL AND category <> 'bus' THEN ':' || region ELSE '' END,
              referred_at = opened_at + interval '1 hour', unit_due_at = opened_at + interval '25 hours',
              assignee_id = CASE WHEN id % 10 = 0 THEN 1 + (id / 10) % 20 END
            WHERE status NOT IN ('registered', 'needs_info')"""))
        conn.execute(text("""UPDATE ticket SET unit = NULL, referred_at = NULL, assignee_id = NULL
                             WHERE status IN ('registered', 'needs_info')
                               AND (unit IS NOT NULL OR assignee_id IS NOT NULL)"""))
        conn.execute(text("ANALYZE ticket"))


def vacuum(engine) -> None:
    """What autovacuum leaves a settled table like: the visibility map set, so counts read the index only."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE ticket"))


def run(url: str, args) -> None:
    now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    gateway = build_gateway(Settings(database_url=url, secret_key="bench"), clock=lambda: now)
    upgrade(gateway.engine)
    started = time.perf_counter()
    fill(gateway.engine, args.tickets, 0, now)
    refer_most(gateway.engine, now)
    print(f"{args.tickets:,} tickets made and referred in {time.perf_counter() - started:.1f} s "
          f"({os.cpu_count()} cores, PostgreSQL {server_version(gateway.engine)})")
    with gateway.engine.connect() as conn:
        counts = conn.execute(text("SELECT count(*) FILTER (WHERE unit = 'urban_services:4'), "
                                   "count(*) FILTER (WHERE assignee_id = 7) FROM ticket")).one()
    print(f"unit urban_services:4 holds {counts[0]:,} tickets; op7 is assigned {counts[1]:,}")
    unit = Viewer(100, "khadamat4", "unit", 4, "urban_services")
    op7, admin = Viewer(7, "op7", "operator", None), Viewer(1, "admin", "admin", None)
    p = period("1405/08/01", "1405/08/30", now.date(), "Asia/Tehran")
    cursor = queue(gateway.ctx, unit, QueueFilters(), now).next_cursor
    checks = {
        "unit queue, first page (50) with counts per status": lambda: queue(gateway.ctx, unit, QueueFilters(), now),
        "unit queue, page after a cursor": lambda: queue(gateway.ctx, unit, QueueFilters(), now, cursor),
        "unit queue, in progress": lambda: queue(gateway.ctx, unit, QueueFilters(status="in_progress"), now),
        "unit queue, overdue": lambda: queue(gateway.ctx, unit, QueueFilters(overdue=True), now),
        "«کارهای من», first page with counts": lambda: queue(gateway.ctx, op7, QueueFilters(assignee_id=7), now),
        "137 queue filtered by unit": lambda: queue(gateway.ctx, admin, QueueFilters(unit="civil_works:2"), now),
        "per-unit report, one Jalali month": lambda: unit_table(gateway.sessions, admin, p, gateway.city),
        "weekly audit draw (every unit; drawn again: a no-op)": lambda: draw_weekly_sample(
            gateway.ctx, now, 3, b"bench"),
    }
    timed(checks, "just made and analysed")
    vacuum(gateway.engine)
    timed(checks, "after VACUUM (as autovacuum leaves it)")
    gateway.engine.dispose()


def timed(checks, label: str) -> None:
    print(f"-- {label}")
    for name, check in checks.items():
        check()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            check()
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:<62} {statistics.median(times):7.1f} ms")


if __name__ == "__main__":
    main()
