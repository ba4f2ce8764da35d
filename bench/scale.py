"""The dashboard and the scheduler at a national scale: 1,000,000 tickets in PostgreSQL, made in bulk by
SQL (a few seconds) and vacuumed as autovacuum would, then every queue view (first and next page with the
counts per status, filtered, overdue, unread, a unit's, «کارهای من»), the live queue's poll (idle and with
new tickets), the region report and the scheduler's due scan with 10,000 messages due, each timed (median
of 5 after a warm-up).

Usage: python bench/scale.py [--tickets 1000000] [--due 10000] [--database-url postgresql://...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select, text

from sms_gateway.adapters.migrate import upgrade
from sms_gateway.adapters.models import OutboundMessage
from sms_gateway.bootstrap import build_gateway
from sms_gateway.domain.staff import Viewer
from sms_gateway.services.live import changes
from sms_gateway.services.outbox import _defer_automated, _due, _supersede_older, _suppress_opted_out
from sms_gateway.services.queue import QueueFilters, queue
from sms_gateway.services.reports import period, region_table, service_figures
from sms_gateway.settings import Settings

STATUSES = ["registered", "referred", "in_progress", "done", "done", "done", "not_doable", "needs_info", "reopened"]
CATEGORIES = ["garbage", "asphalt", "street_lighting", "drainage", "stray_animals", "green_space", "curbs", "bus"]
PLACES = [("فین", 4), ("طاهرآباد", 5), ("پشت مشهد", 1), ("بهارستان", 2), ("حسن‌آباد", 3), ("لتحر", None)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    base = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        run(url, args)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def run(url: str, args) -> None:
    now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    gateway = build_gateway(Settings(database_url=url, secret_key="bench"), clock=lambda: now)
    upgrade(gateway.engine)
    started = time.perf_counter()
    fill(gateway.engine, args.tickets, args.due, now)
    print(f"{args.tickets:,} tickets and {args.due:,} due messages made in {time.perf_counter() - started:.1f} s "
          f"({os.cpu_count()} cores, PostgreSQL {server_version(gateway.engine)})")
    admin_viewer, region_viewer = Viewer(1, "admin", "admin", None), Viewer(2, "sup4", "supervisor", 4)
    unit_viewer = Viewer(3, "unit4", "unit", 4, "urban_services")
    p = period("1405/08/01", "1405/08/30", now.date(), "Asia/Tehran")
    first_page = queue(gateway.ctx, admin_viewer, QueueFilters(), now)
    cursor = first_page.next_cursor
    overdue_cursor = queue(gateway.ctx, admin_viewer, QueueFilters(overdue=True), now).next_cursor
    checks = {
        "queue, first page (50) with counts per status": lambda: queue(gateway.ctx, admin_viewer,
                                                                       QueueFilters(), now),
        "queue, page after a cursor": lambda: queue(gateway.ctx, admin_viewer, QueueFilters(), now, cursor),
        "queue filtered (status + category, region 4 staff)": lambda: queue(
            gateway.ctx, region_viewer, QueueFilters(status="in_progress", category="asphalt"), now),
        "queue filtered (overdue, most days late first)": lambda: queue(gateway.ctx, admin_viewer,
                                                                         QueueFilters(overdue=True), now),
        "queue, overdue page after a cursor": lambda: queue(gateway.ctx, admin_viewer, QueueFilters(overdue=True),
                                                            now, overdue_cursor),
        "queue filtered (unread by this staff member)": lambda: queue(gateway.ctx, admin_viewer,
                                                                      QueueFilters(unread=True), now),
        "queue filtered (referred to a unit, 137 staff)": lambda: queue(
            gateway.ctx, admin_viewer, QueueFilters(unit="urban_services:4"), now),
        "queue of a unit account (its own tickets)": lambda: queue(gateway.ctx, unit_viewer, QueueFilters(), now),
        "queue «کارهای من» (assigned to me)": lambda: queue(gateway.ctx, admin_viewer,
                                                            QueueFilters(assignee_id=1), now),
        "live poll, nothing written for 30 s": lambda: changes(gateway.ctx, admin_viewer, QueueFilters(), now, now),
        "live poll, 4 tickets in the last 2 minutes": lambda: changes(
            gateway.ctx, admin_viewer, QueueFilters(), now - timedelta(seconds=90), now),
        "region report, one Jalali month": lambda: region_table(gateway.sessions, admin_viewer, p, gateway.city),
        "service figures, one Jalali month": lambda: service_figures(gateway.sessions, admin_viewer, p),
        f"scheduler due scan ({args.due:,} due): housekeeping + one claim": lambda: due_scan(gateway, now),
    }
    for name, check in checks.items():
        check()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            check()
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:<62} {statistics.median(times):7.1f} ms")
    gateway.engine.dispose()


def due_scan(gateway, now) -> None:
    with gateway.sessions.begin() as session:
        _suppress_opted_out(session)
        _supersede_older(session, now)
        if gateway.ctx.policy.is_quiet(now):
            _defer_automated(session, now, now)
        session.rollback()
    with gateway.sessions.begin() as session:
        session.scalars(select(OutboundMessage.id).where(_due(now, timedelta(minutes=10)))
                        .order_by(OutboundMessage.due_at, OutboundMessage.id).limit(20)
                        .with_for_update(skip_locked=True)).all()
        session.rollback()


def fill(engine, tickets: int, due: int, now: datetime) -> None:
    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "]"
    categories = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    places = "ARRAY[" + ",".join(f"'{p}'" for p, _ in PLACES) + "]"
    regions = "ARRAY[" + ",".join("NULL::int" if r is None else str(r) for _, r in PLACES) + "]"
    citizens = max(tickets // 5, 1)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO staff_user (id, username, password_hash, role, region, department, active, created_at,
                                    session_version, searches)
            SELECT g, 'staff' || g, '-', CASE g WHEN 3 THEN 'unit' ELSE 'operator' END,
                   CASE g WHEN 3 THEN 4 END, CASE g WHEN 3 THEN 'urban_services' END, true, :now, 0, 0
            FROM generate_series(1, 10) g"""), {"now": now.replace(tzinfo=None)})
        conn.execute(text(f"""
            INSERT INTO citizen (id, opted_out, created_at)
            SELECT g, false, :now FROM generate_series(1, {citizens}) g"""), {"now": now.replace(tzinfo=None)})
        conn.execute(text(f"""
            INSERT INTO contact (id, citizen_id, channel, address, created_at)
            SELECT g, g, 'sms', '+98912' || lpad(g::text, 7, '0'), :now FROM generate_series(1, {citizens}) g"""),
                     {"now": now.replace(tzinfo=None)})
        conn.execute(text(f"""
            INSERT INTO ticket (id, tracking_code, citizen_id, contact_id, channel, status, intent, category,
                                neighbourhood, region, description, emergency, opened_at, updated_at, expected_at,
                                closed_at, incomplete, overdue_notified, supervisor_flag, verdict,
                                last_citizen_at, taken_at, unit, referred_at, assignee_id)
            SELECT g, lpad((10000000 + g)::text, 8, '0'), 1 + g % {citizens}, 1 + g % {citizens}, 'sms',
                   ({statuses})[1 + g % {len(STATUSES)}], 'report',
                   ({categories})[1 + (g / 7) % {len(CATEGORIES)}],
                   ({places})[1 + (g / 3) % {len(PLACES)}], ({regions})[1 + (g / 3) % {len(PLACES)}],
                   'متن نمونه درخواست شهروند', g % 1000 = 0,
                   :now - (g * interval '30 seconds'), :now - (g * interval '30 seconds'),
                   :now - (g * interval '30 seconds') + interval '72 hours',
                   CASE WHEN g % {len(STATUSES)} IN (3, 4, 5, 6) THEN :now - (g * interval '30 seconds')
                        + interval '48 hours' END,
                   false, false, false, CASE WHEN g % 11 = 0 THEN 'accepted' END,
                   :now - (g * interval '30 seconds'),
                   CASE WHEN g % 1000 <> 0 OR g > 20000 THEN :now - (g * interval '30 seconds') END,
                   CASE WHEN g % 3 = 0 THEN (ARRAY['urban_services', 'civil_works'])[1 + g % 2] || ':'
                        || (1 + (g / 3) % 5) END,
                   CASE WHEN g % 3 = 0 THEN :now - (g * interval '30 seconds') END,
                   CASE WHEN g % 4 = 0 THEN 1 + g % 10 END
            FROM generate_series(1, {tickets}) g"""), {"now": now.replace(tzinfo=None)})
        # the admin has opened every other ticket of the last 100,000 (the queue's unread is per staff member)
        conn.execute(text("""
            INSERT INTO ticket_seen (staff_id, ticket_id, seen_at)
            SELECT 1, g, :now FROM generate_series(2, LEAST(100000, :tickets), 2) g"""),
                     {"now": now.replace(tzinfo=None), "tickets": tickets})
        conn.execute(text(f"""
            INSERT INTO outbound_message (citizen_id, contact_id, channel, to_address, text, segments, kind, provider,
                                          status, automated, attempts, ticket_id, created_at, due_at)
            SELECT 1 + g % {citizens}, 1 + g % {citizens}, 'sms', '+98912' || lpad((1 + g % {citizens})::text, 7, '0'),
                   'متن', 1, 'reminder',
                   'console', 'queued', true, 0, g, :now - interval '1 hour', :now - (g * interval '1 second')
            FROM generate_series(1, {due}) g"""), {"now": now.replace(tzinfo=None)})
        for table in ("citizen", "contact", "ticket", "staff_user"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does to a table this size: sets the visibility map


def server_version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW server_version")).scalar().split()[0]


if __name__ == "__main__":
    main()
