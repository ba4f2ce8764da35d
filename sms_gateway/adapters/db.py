"""Engine and session factory, built by the application factory, never at import."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Engine, String, Table, Text, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def storable(value: str, length: int | None = None) -> str:
    """A string the database accepts: no NUL (PostgreSQL refuses it in text), at most `length` characters."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:length] if length and len(value) > length else value


def storable_json(value: Any) -> Any:
    """A JSON document without NUL in any key or string."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable_json(v) for v in value]
    return value


class CleanString(TypeDecorator[str]):
    """VARCHAR(n) that never hands the database what it refuses, in a row or in a query: NUL is dropped
    and a longer value is cut to the column (a data error would otherwise jam a message, or answer a
    search with a 500). Where a cut value could collide (a provider's message id), the caller digests it
    first."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return storable(value, self.impl.length) if isinstance(value, str) else value


class CleanText(TypeDecorator[str]):
    """TEXT without NUL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return storable(value) if isinstance(value, str) else value


class CleanJSON(TypeDecorator[Any]):
    """JSON without NUL in any key or string (PostgreSQL refuses \\u0000 in text)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return storable_json(value)


def make_engine(url: str, statement_timeout: float = 0.0) -> Engine:
    """An engine with the right pool and pragmas for the URL's database; on PostgreSQL a statement
    running longer than `statement_timeout` seconds (0: no limit) is cancelled."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No ping before each checkout (a round trip per request). A connection found dead when used instead
    # invalidates the whole pool at once: intake retries on a fresh one; a dashboard page answers 503 once.
    engine = create_engine(url, pool_size=5, max_overflow=10, connect_args={"connect_timeout": 5})
    if statement_timeout > 0:
        milliseconds = max(1, round(statement_timeout * 1000))

        @event.listens_for(engine, "connect")
        def _statement_timeout(dbapi_conn, _record):
            # Once per pooled connection, not per request (the URL's own `options` stay as they are).
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {milliseconds}")
            dbapi_conn.commit()

    return engine


def table(model: Any) -> Table:
    """A mapped class's Core table: statements on it skip the ORM's bookkeeping (the hot path's)."""
    return cast(Table, model.__table__)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
