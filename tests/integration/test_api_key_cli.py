"""`sms-gateway api-key`, run as an administrator runs it: the key printed once works on the Open311 API,
is never stored or listed, and is refused once revoked."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sms_gateway.settings import Settings
from sms_gateway.web import create_app

BIN = Path(sys.executable).parent / "sms-gateway"


def _run(env, *args, check=True):
    result = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path}/keys.sqlite3"
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=url, SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    _run(env, "db", "upgrade")
    return env, url


def test_a_key_is_printed_once_works_and_is_refused_once_revoked(cli, clock):
    env, url = cli
    made = _run(env, "api-key", "create", "--name", "website", "--now", "2026-11-24T09:00:00Z")
    key = made.stdout.strip()
    assert len(key) >= 43 and "\n" not in key and "یک بار" in made.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT name, key_hash FROM api_key")).all()
        dump = "\n".join(conn.connection.iterdump())
    engine.dispose()
    assert stored == [("website", hashlib.sha256(key.encode()).hexdigest())] and key not in dump

    listed = _run(env, "api-key", "list", "--json").stdout
    assert key not in listed
    assert [(k["name"], k["created_at"], k["revoked_at"]) for k in json.loads(listed)] == \
        [("website", "2026-11-24T09:00:00+00:00", None)]
    again = _run(env, "api-key", "create", "--name", "website", check=False)
    assert again.returncode != 0 and "website" in again.stderr

    app = create_app(Settings(database_url=url), clock=clock)
    client = app.test_client()
    form = {"api_key": key, "service_code": "garbage", "description": "زباله‌ها را نبرده‌اند",
            "address_string": "محله فین", "phone": "09121234567"}
    try:
        assert client.post("/open311/v2/requests.json", data=form).status_code == 200
        _run(env, "api-key", "revoke", "website")
        assert client.post("/open311/v2/requests.json", data=form).status_code == 403
    finally:
        app.extensions["sms_gateway"].engine.dispose()
    assert "revoked" in _run(env, "api-key", "list").stdout
    assert _run(env, "api-key", "revoke", "website", check=False).returncode != 0
    assert _run(env, "api-key", "revoke", "nobody", check=False).returncode != 0
