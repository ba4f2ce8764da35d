"""Statements of the intake hot path run straight on the driver's cursor.

On a storm of messages SQLAlchemy's work around each statement (cache key, parameter and result set-up)
costs CPU the workers need: an INSERT … RETURNING through the session takes about 100 µs of CPU on
PostgreSQL, through this module about 60 µs (bench/statements.py; psycopg 3). What stays
SQLAlchemy's: the SQL is compiled by it, once per dialect and set of columns; values go through the
columns' own bind processors (UTC datetimes, JSON), scalar column defaults are filled in, and driver
errors are raised as SQLAlchemy's (IntegrityError, OperationalError) with a dropped connection
invalidated, so callers and error handlers see what they would see from `session.execute`.
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ValuesBase


class DriverStatement:
    """One INSERT (or upsert) with RETURNING, compiled per dialect and per set of given columns."""

    def __init__(self, statement: ValuesBase):
        self.statement = statement
        self._compiled: dict[tuple, tuple] = {}

    def one(self, session: Session, values: dict[str, Any]) -> tuple:
        """Run with one row of values; the RETURNING row."""
        connection = session.connection()
        sql, names, processors = self._compile(connection.dialect, tuple(values))
        return _run(connection, sql, _params(values, names, processors), many=False)

    def many(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Run with many rows of the same columns, in one driver call (psycopg pipelines it)."""
        if not rows:
            return
        connection = session.connection()
        sql, names, processors = self._compile(connection.dialect, tuple(rows[0]))
        _run(connection, sql, [_params(row, names, processors) for row in rows], many=True)

    def _compile(self, dialect, keys: tuple) -> tuple:
        cache_key = (dialect.name, keys)
        found = self._compiled.get(cache_key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            table = self.statement.table
            names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
            processors = {}
            for name in names:
                column = table.c.get(name)
                if column is None:
                    continue
                processor = column.type.dialect_impl(dialect).bind_processor(dialect)
                default = column.default.arg if column.default is not None and column.default.is_scalar else None
                processors[name] = (processor, default)
            found = (str(compiled), (names, compiled.positional), processors)
            self._compiled[cache_key] = found
        return found


def _params(values: dict[str, Any], names_positional: tuple, processors: dict) -> Any:
    names, positional = names_positional
    out = {}
    for name in names:
        processor, default = processors.get(name, (None, None))
        value = values.get(name, default)
        out[name] = processor(value) if processor is not None and value is not None else value
    return tuple(out[n] for n in names) if positional else out


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
