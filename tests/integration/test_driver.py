"""The hot path's driver statements store what the ORM would store, and fail as SQLAlchemy fails."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from sms_gateway.driver import DriverStatement
from sms_gateway.models import Citizen, InboundMessage

TEHRAN_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=timezone(timedelta(hours=3, minutes=30)))
INSERT_CITIZEN = DriverStatement(insert(Citizen.__table__).returning(Citizen.__table__.c.id))
INSERT_INBOUND = DriverStatement(insert(InboundMessage.__table__).returning(InboundMessage.__table__.c.id))


def test_values_go_through_the_column_types_and_read_back_through_the_orm(gateway):
    with gateway.sessions() as session, session.begin():
        citizen_id, = INSERT_CITIZEN.one(session, dict(phone="+989121112233", opted_out=False,
                                                       created_at=TEHRAN_NOON))
        inbound_id, = INSERT_INBOUND.one(session, dict(
            provider="console", provider_message_id="m-1", citizen_id=citizen_id, text="چاله",
            raw_payload={"Body": "چاله", "n": [1, 2]}, received_at=TEHRAN_NOON))  # to_number, truncated: defaults
    with gateway.sessions() as session:
        citizen = session.get(Citizen, citizen_id)
        inbound = session.get(InboundMessage, inbound_id)
    assert citizen.created_at == TEHRAN_NOON and citizen.created_at.utcoffset() == timedelta(0)
    assert inbound.raw_payload == {"Body": "چاله", "n": [1, 2]}
    assert inbound.to_number == "" and inbound.truncated is False and inbound.reply_text is None


def test_many_rows_in_one_call(gateway):
    with gateway.sessions() as session, session.begin():
        INSERT_CITIZEN.many(session, [dict(phone=f"+98912000000{i}", opted_out=i % 2 == 0, created_at=TEHRAN_NOON)
                                      for i in range(3)])
        INSERT_CITIZEN.many(session, [])
    with gateway.sessions() as session:
        rows = session.execute(select(Citizen.phone, Citizen.opted_out).order_by(Citizen.phone)).all()
    assert [tuple(r) for r in rows] == [("+989120000000", True), ("+989120000001", False),
                                        ("+989120000002", True)]


def test_a_driver_error_is_sqlalchemys_and_the_transaction_rolls_back(gateway):
    values = dict(phone="+989121112233", opted_out=False, created_at=TEHRAN_NOON)
    with gateway.sessions() as session, session.begin():
        INSERT_CITIZEN.one(session, values)
    with pytest.raises(IntegrityError):
        with gateway.sessions() as session, session.begin():
            INSERT_CITIZEN.one(session, dict(values, phone="+989129999999"))
            INSERT_CITIZEN.one(session, values)  # the same phone again: unique
    with gateway.sessions() as session:
        assert session.scalars(select(Citizen.phone)).all() == ["+989121112233"]


def test_a_dropped_connection_is_invalidated_and_the_next_one_works(gateway):
    if gateway.engine.dialect.name != "postgresql":
        pytest.skip("kills a PostgreSQL backend")
    with gateway.sessions() as session:
        pid = session.connection().exec_driver_sql("select pg_backend_pid()").scalar_one()
        with gateway.engine.connect() as other:
            other.exec_driver_sql(f"select pg_terminate_backend({pid})")
        with pytest.raises(OperationalError) as raised:  # the statement's own error, not the rollback's
            INSERT_CITIZEN.one(session, dict(phone="+989121112233", opted_out=False, created_at=TEHRAN_NOON))
        assert raised.value.connection_invalidated
        session.rollback()
    with gateway.sessions() as session, session.begin():
        INSERT_CITIZEN.one(session, dict(phone="+989121112233", opted_out=False, created_at=TEHRAN_NOON))
