"""Statements of the intake hot path run straight on the driver's cursor.

On a storm of messages SQLAlchemy's work around each statement (cache key, parameter and result set-up)
costs CPU the workers need: an INSERT … RETURNING through the session takes about 100 µs of CPU on
PostgreSQL, through this module about 60 µs (bench/statements.py; psycopg 3). What stays
SQLAlchemy's: the SQL is compiled by it, once per dialect and set of columns; values go through the
columns' own bind processors (UTC datetimes, JSON), scalar column defaults are filled in, and driver
errors are raised as SQLAlchemy's (IntegrityError, OperationalError) with a dropped connection
invalidated, so callers and error handlers see what they would see from `session.execute`. What is
lost: these statements do not show in SQLAlchemy's echo log or its execution events.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ValuesBase


class DriverStatement:
    """One INSERT (or upsert) with RETURNING, compiled per dialect and per set of given columns."""

    def __init__(self, statement: ValuesBase):
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}

    def one(self, session: Session, values: dict[str, Any]) -> tuple:
        """Run with one row of values; the RETURNING row."""
        connection = session.connection()
        compiled = self._compile(connection.dialect, tuple(values))
        return _run(connection, compiled.sql, compiled.params(values), many=False)

    def many(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Run with many rows of the same columns, in one driver call (psycopg pipelines it)."""
        if not rows:
            return
        connection = session.connection()
        compiled = self._compile(connection.dialect, tuple(rows[0]))
        _run(connection, compiled.sql, [compiled.params(row) for row in rows], many=True)

    def _compile(self, dialect, keys: tuple) -> _Compiled:
        cache_key = (dialect.name, dialect.driver, keys)
        found = self._compiled.get(cache_key)
        if found is None:
            found = self._compiled[cache_key] = _Compiled(self.statement, dialect, keys)
        return found


class _Compiled:
    """The SQL for one dialect and set of columns, and how to turn values into the driver's parameters."""

    def __init__(self, statement: ValuesBase, dialect, keys: tuple):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        self.positional = compiled.positional
        self.names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        self.processors: dict[str, tuple[Callable | None, Any]] = {}
        for name in self.names:
            column = statement.table.c.get(name)
            if column is not None:
                default = column.default.arg if column.default is not None and column.default.is_scalar else None
                self.processors[name] = (column.type.dialect_impl(dialect).bind_processor(dialect), default)

    def params(self, values: dict[str, Any]) -> tuple | dict:
        out = {}
        for name in self.names:
            processor, default = self.processors.get(name, (None, None))
            value = values.get(name, default)
            out[name] = processor(value) if processor is not None and value is not None else value
        return tuple(out[name] for name in self.names) if self.positional else out


def _run(connection, sql: str, params: Any, many: bool):
    dialect = connection.dialect
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return None
        cursor.execute(sql, params)
        return cursor.fetchone()
    except dialect.loaded_dbapi.Error as exc:
        dropped = dialect.is_disconnect(exc, dbapi_connection, cursor)
        if dropped:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect,
                                  connection_invalidated=dropped) from exc
    finally:
        cursor.close()
