"""Fixtures: every storage test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from sms_gateway.adapters.db import make_engine
from sms_gateway.adapters.migrate import upgrade
from sms_gateway.adapters.models import Base
from sms_gateway.settings import Settings
from sms_gateway.web import create_app

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://sms.kashan.example"


class FixedClock:
    """A clock tests move by hand; no sleeping."""

    def __init__(self, start: datetime = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _postgres_url(schema: str) -> str:
    base = os.environ["TEST_DATABASE_URL"]
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.removeprefix("postgresql://")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    """A migrated, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    schema = f"sgtest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_postgres_url("public"), pool_pre_ping=True)  # outlives the restart fault test
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _postgres_url(schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


KAVE_TOKEN = "kave-token-0123456789abcdef"
MELI_TOKEN = "meli-token-0123456789abcdef"
METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def settings(database_url) -> Settings:
    # send_threads=0: answers are sent in the request, so a test sees them sent when it gets the answer
    # (tests/web/test_slow_provider.py covers the background senders).
    return Settings(database_url=database_url, secret_key="test-secret", provider="console", public_url=PUBLIC_URL,
                    metrics_token=METRICS_TOKEN, send_threads=0) \
        .with_section("twilio", account_sid="AC" + "0" * 32, auth_token=TWILIO_TOKEN, from_number="+15005550006") \
        .with_section("kavenegar", api_key="kave-key-SECRET", webhook_token=KAVE_TOKEN, api_url="http://127.0.0.1:9") \
        .with_section("melipayamak", api_key="meli-key-SECRET", webhook_token=MELI_TOKEN,
                      api_url="http://127.0.0.1:9")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def _empty_tables(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def made():
    """Gateways a test builds itself (other settings, fakes): emptied and disposed after it."""
    gateways = []
    yield gateways
    for gateway in gateways:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()


@pytest.fixture
def app(settings, clock):
    app = create_app(settings, clock=clock)
    app.config["TESTING"] = True
    yield app
    gateway = app.extensions["sms_gateway"]
    _empty_tables(gateway.engine)
    gateway.engine.dispose()


@pytest.fixture
def gateway(app):
    return app.extensions["sms_gateway"]


@pytest.fixture
def client(app):
    return app.test_client()
