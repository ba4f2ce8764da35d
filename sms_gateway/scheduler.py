"""Scheduled work: follow-ups, the outbox, polling. Runs in `sms-gateway scheduler`, never in web workers.

`run_due(gateway, now)` is the whole of one run and is safe to call from several processes at once
on PostgreSQL (row locks, SKIP LOCKED, conditional claims). On SQLite, one run at a time holds a file
lock. Only one long-running scheduler per deployment works: it holds a PostgreSQL advisory lock (or a
file lock on SQLite); a second one started by mistake waits for it.
"""
from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from .adapters.models import JobRun
from .bootstrap import Gateway
from .domain.phones import InvalidPhone
from .providers.base import Received, SendError
from .services import audit, followups, intake, web_reports
from .services.outbox import Sent

log = logging.getLogger("sms_gateway.scheduler")
ADVISORY_KEY = 137_137_137  # pg_advisory_lock key of the one scheduler


def run_due(gateway: Gateway, now: datetime) -> list[Sent]:
    """Write due follow-ups (expired questions, reminders, overdue notices), read again the messages whose
    reading failed, then send what is due."""
    ctx = gateway.ctx
    with _sqlite_run_lock(gateway, "run"):
        followups.write_due(ctx, now)
        intake.retry_failed(ctx, now)
        web_reports.forget_expired(ctx, web_reports.WebRules.from_settings(gateway.settings), now)
        sent = ctx.outbox.send_due(ctx.sessions, now)
    _mark_run(gateway, "run_due", now)
    return sent


def run_audit(gateway: Gateway, now: datetime) -> int:
    """Draw last week's audit sample of every unit, once (a later run that week adds nothing)."""
    settings = gateway.settings
    added = audit.draw_weekly_sample(gateway.ctx, now, settings.audit_sample_per_unit,
                                     ("audit:" + settings.secret_key).encode())
    _mark_run(gateway, "audit", now)
    return added


def poll_inbound(gateway: Gateway, now: datetime | None = None) -> int:
    """Fetch unread messages from providers that can be polled; each entry is stored on its own, so one
    bad entry never costs the rest of its batch. The webhook copy of a polled message is a duplicate."""
    now = now or gateway.clock()
    count = 0
    for provider in gateway.providers.values():
        poll = getattr(provider, "poll", None)
        if poll is None:
            continue
        try:
            entries = poll()
        except SendError as exc:
            log.warning("polling %s failed: %s", provider.name, exc)
            continue
        except Exception as exc:  # a provider's answer no adapter expected: the other providers go on
            log.exception("polling %s failed unexpectedly (%s)", provider.name, type(exc).__name__)
            continue
        count += _take_batch(gateway, provider, entries, now)
    _mark_run(gateway, "poll_inbound", now)
    return count


def _take_batch(gateway: Gateway, provider: Any, entries: Sequence[Received], now: datetime) -> int:
    """Each entry on its own: stored, or logged and skipped; only the database going away stops the batch
    (nothing after it could be stored either)."""
    count = 0
    for n, entry in enumerate(entries):
        try:
            count += _take_polled(gateway, provider, entry, now)
        except (OperationalError, InterfaceError) as exc:
            log.error("polling %s stopped after %d of %d entries: the database is unavailable (%s)",
                      provider.name, n, len(entries), type(exc.orig or exc).__name__)
            break
        except Exception as exc:  # one bad entry costs only itself
            log.exception("%s polled entry %s could not be stored (%s): skipped", provider.name,
                          getattr(entry, "message_id", "?"), type(exc).__name__)
    return count


def _take_polled(gateway: Gateway, provider: Any, entry: Received, now: datetime) -> int:
    if not isinstance(entry, Received):
        log.warning("%s polled an entry that is not a message: skipped", provider.name)
        return 0
    if not entry.message_id or not entry.sender:
        log.warning("%s polled an entry without message id or sender: skipped", provider.name)
        return 0
    try:
        receipt = intake.receive(gateway.ctx, entry, now, reply_inline=False)
    except InvalidPhone as exc:
        log.warning("%s polled entry %s from an unusable sender (%s): skipped", provider.name, entry.message_id,
                    exc)
        return 0
    if receipt.outbound_id is not None:
        gateway.ctx.outbox.deliver(gateway.sessions, receipt.outbound_id, now)
    return 0 if receipt.duplicate else 1


def _mark_run(gateway: Gateway, name: str, now: datetime, error: str | None = None) -> None:
    """Record the run; two runs at once may both find no row, so the loser of the insert updates."""
    for _attempt in range(2):
        try:
            with gateway.sessions.begin() as session:
                row = session.get(JobRun, name, with_for_update=True)
                if row is None:
                    session.add(JobRun(name=name, last_run_at=now, last_error=error))
                else:
                    row.last_run_at, row.last_error = now, error
            return
        except IntegrityError:
            continue


def run_scheduler(gateway: Gateway) -> None:
    """The long-running scheduler process: waits for the single-scheduler lock, then runs the jobs."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    settings = gateway.settings
    with single_scheduler(gateway):
        scheduler = BlockingScheduler(timezone="UTC")
        scheduler.add_job(_guarded(lambda g: run_due(g, g.clock()), gateway, "run_due"), "interval",
                          seconds=settings.scheduler_interval_seconds,
                          id="run_due", name="run_due", max_instances=1, coalesce=True,
                          next_run_time=datetime.now(UTC))
        scheduler.add_job(_guarded(lambda g: run_audit(g, g.clock()), gateway, "audit"), "interval", hours=1,
                          id="audit", name="audit", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        if settings.poll_inbound_seconds > 0:
            scheduler.add_job(_guarded(poll_inbound, gateway, "poll_inbound"), "interval",
                              seconds=settings.poll_inbound_seconds,
                              id="poll_inbound", name="poll_inbound", max_instances=1, coalesce=True)
        log.info("scheduler started: due work every %ss", settings.scheduler_interval_seconds)
        scheduler.start()


def _guarded(job: Callable[[Gateway], object], gateway: Gateway, name: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job(gateway)
        except Exception as exc:  # a bad run must not stop the scheduler; the next run tries again
            log.exception("%s failed", name)
            try:
                _mark_run(gateway, name, gateway.clock(), f"{type(exc).__name__}: {exc}"[:500])
            except Exception:
                log.warning("could not record the failure of %s", name)
    run.__name__ = name
    return run


@contextmanager
def single_scheduler(gateway: Gateway, poll_seconds: float = 5.0) -> Iterator[None]:
    engine = gateway.engine
    if engine.dialect.name != "postgresql":
        with _file_lock(_lock_path(gateway, "scheduler")):
            yield
        return
    with engine.connect() as conn:
        waited = False
        while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar():
            if not waited:
                log.warning("another scheduler holds the lock (PostgreSQL advisory lock); waiting")
                waited = True
            conn.commit()
            time.sleep(poll_seconds)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()


@contextmanager
def _sqlite_run_lock(gateway: Gateway, name: str) -> Iterator[None]:
    if gateway.engine.dialect.name != "sqlite":
        yield
        return
    with _file_lock(_lock_path(gateway, name)):
        yield


def _lock_path(gateway: Gateway, name: str) -> Path:
    database = gateway.engine.url.database or ""
    if not database or database == ":memory:":
        return Path("/tmp") / f"sms_gateway-{name}.lock"
    return Path(f"{database}.{name}.lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`, saying so in the log when another process makes us wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another process holds %s; waiting", path.name)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
