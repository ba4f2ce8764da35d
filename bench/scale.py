"""The dashboard and the scheduler at a national scale: 1,000,000 tickets in PostgreSQL, made in bulk by
SQL (a few seconds), then the queue, a filtered queue, the region report and the scheduler's due scan
with 10,000 messages due, each timed (median of 5 after a warm-up).

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
    p = period("1405/08/01", "1405/08/30", now.date(), "Asia/Tehran")
    first_page = queue(gateway.ctx, admin_viewer, QueueFilters(), now)
    cursor = first_page.next_cursor
    checks = {
        "queue, first page (50) with counts per status": lambda: queue(gateway.ctx, admin_viewer,
                                                                       QueueFilters(), now),
        "queue, page after a cursor": lambda: queue(gateway.ctx, admin_viewer, QueueFilters(), now, cursor),
        "queue filtered (status + category, region 4 staff)": lambda: queue(
            gateway.ctx, region_viewer, QueueFilters(status="in_progress", category="asphalt"), now),
        "queue filtered (overdue)": lambda: queue(gateway.ctx, admin_viewer, QueueFilters(overdue=True), now),
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
                                closed_at, incomplete, overdue_notified, supervisor_flag, verdict)
            SELECT g, lpad((10000000 + g)::text, 8, '0'), 1 + g % {citizens}, 1 + g % {citizens}, 'sms',
                   ({statuses})[1 + g % {len(STATUSES)}], 'report',
                   ({categories})[1 + (g / 7) % {len(CATEGORIES)}],
                   ({places})[1 + (g / 3) % {len(PLACES)}], ({regions})[1 + (g / 3) % {len(PLACES)}],
                   'متن نمونه درخواست شهروند', false,
                   :now - (g * interval '30 seconds'), :now - (g * interval '30 seconds'),
                   :now - (g * interval '30 seconds') + interval '72 hours',
                   CASE WHEN g % {len(STATUSES)} IN (3, 4, 5, 6) THEN :now - (g * interval '30 seconds')
                        + interval '48 hours' END,
                   false, false, false, CASE WHEN g % 11 = 0 THEN 'accepted' END
            FROM generate_series(1, {tickets}) g"""), {"now": now.replace(tzinfo=None)})
        conn.execute(text(f"""
            INSERT INTO outbound_message (citizen_id, contact_id, channel, to_address, text, segments, kind, provider,
                                          status, automated, attempts, ticket_id, created_at, due_at)
            SELECT 1 + g % {citizens}, 1 + g % {citizens}, 'sms', '+98912' || lpad((1 + g % {citizens})::text, 7, '0'),
                   'متن', 1, 'reminder',
                   'console', 'queued', true, 0, g, :now - interval '1 hour', :now - (g * interval '1 second')
            FROM generate_series(1, {due}) g"""), {"now": now.replace(tzinfo=None)})
        for table in ("citizen", "contact", "ticket"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))


def server_version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW server_version")).scalar().split()[0]


if __name__ == "__main__":
    main()
