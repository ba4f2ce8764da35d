"""What an attacker could do to staff accounts, sessions and the monitoring endpoints (issue 14, items 1–9),
each through real HTTP or the real services against the real database, SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from sms_gateway.adapters.models import LoginFailure, OutboundMessage, StaffUser, Ticket, TicketEvent
from sms_gateway.services import staff
from sms_gateway.services.staff import create_staff
from sms_gateway.settings import DEV_SECRET_KEY, SettingsError, load_settings
from sms_gateway.web import create_app
from tests.web.test_dashboard import PASSWORD, REGION_2, REGION_4, csrf, post, say

OFFICE = "203.0.113.50"        # one NAT in front of a whole office
ATTACKER = "198.51.100.66"
STRONG_KEY = "k" * 32
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture
def people(gateway):
    now = gateway.clock()
    for username, role, region in [("admin", "admin", None), ("op2", "operator", 2), ("sup4", "supervisor", 4),
                                   ("op", "operator", None)]:
        create_staff(gateway.sessions, username, PASSWORD, role, region, now)


def login_from(client, address: str, username: str, password: str = PASSWORD):
    """Log in from a browser at `address` (which the client keeps: the session is bound to it)."""
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def user_id(gateway, username: str) -> int:
    with gateway.sessions() as s:
        return s.scalar(select(StaffUser.id).where(StaffUser.username == username))


def events(gateway, code: str, action: str) -> list[tuple[str, str]]:
    with gateway.sessions() as s:
        return s.execute(select(TicketEvent.actor, TicketEvent.note).join(Ticket).where(
            Ticket.tracking_code == code, TicketEvent.action == action).order_by(TicketEvent.id)).all()


def ticket(gateway, code: str) -> Ticket:
    with gateway.sessions() as s:
        return s.scalar(select(Ticket).where(Ticket.tracking_code == code))


# --- 1. throttling per (username, address), growing delays -------------------------------------------

def test_failures_slow_down_that_name_from_that_address_with_doubling_delays(client, people, clock):
    for _ in range(3):
        assert login_from(client, OFFICE, "op2", "wrong-password").status_code == 401
    refused = login_from(client, OFFICE, "op2")  # even the right password waits out the delay
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "۱ ثانیه" in refused.get_data(as_text=True)
    for wait in (1, 2, 4, 8):
        clock.advance(seconds=wait)
        assert login_from(client, OFFICE, "op2", "wrong-password").status_code == 401
        assert login_from(client, OFFICE, "op2").headers["Retry-After"] == str(wait * 2)
    clock.advance(seconds=16)
    assert login_from(client, OFFICE, "op2").status_code == 302
    post(client, "/logout", {})
    for _ in range(3):  # a success from that address starts it afresh
        assert login_from(client, OFFICE, "op2", "wrong-password").status_code == 401


def test_the_delay_is_capped_and_forgotten_after_a_quiet_day(app, client, people, gateway, clock):
    waits = []
    for _ in range(40):
        answer = login_from(client, ATTACKER, "admin", "guess")
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            clock.advance(seconds=waits[-1])
    assert max(waits) == 15 * 60 and waits[-1] == 15 * 60 and waits[:3] == [1, 2, 4]
    assert login_from(client, ATTACKER, "admin", "guess").status_code == 401  # the wait was served
    assert "۱۵ دقیقه" in login_from(client, ATTACKER, "admin", "guess").get_data(as_text=True)
    clock.advance(days=1, minutes=15)
    for _ in range(3):
        assert login_from(client, ATTACKER, "admin", "guess").status_code == 401
    clock.advance(days=1, seconds=1)
    assert login_from(app.test_client(), OFFICE, "op").status_code == 302  # a success clears quiet pairs away
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(LoginFailure.id))) == 0


def test_a_right_password_from_an_address_that_has_not_failed_is_never_refused(app, client, people):
    for i in range(30):
        assert login_from(client, ATTACKER, "admin", f"guess-{i}").status_code in (401, 429)
    assert login_from(client, ATTACKER, "admin").status_code == 429
    assert login_from(app.test_client(), "192.0.2.20", "admin").status_code == 302


def test_twenty_failures_from_one_address_do_not_lock_the_office_out(app, client, people):
    for i in range(20):
        assert login_from(client, OFFICE, f"typo{i}", "nope-nope").status_code == 401
    for _ in range(3):
        login_from(client, OFFICE, "op2", "nope-nope")
    assert login_from(client, OFFICE, "op2").status_code == 429
    for name in ("admin", "sup4", "op"):
        assert login_from(app.test_client(), OFFICE, name).status_code == 302


# --- 2. counting and checking are one atomic step ------------------------------------------------------

def test_forty_parallel_wrong_passwords_check_only_the_allowed_three(gateway, people, monkeypatch):
    checks = []
    real = staff.check_password_hash

    def counting(pwhash, password):
        checks.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(staff, "check_password_hash", counting)
    now, start = gateway.clock(), threading.Barrier(40)

    def attempt(i: int):
        start.wait()
        try:
            return staff.authenticate(gateway.sessions, "op2", f"wrong-{i}", OFFICE, now)
        except staff.TooManyAttempts:
            return "throttled"

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(attempt, range(40)))
    assert len(checks) == 3 and results.count(None) == 3 and results.count("throttled") == 37
    with pytest.raises(staff.TooManyAttempts):  # the right one, inside the burst, waits too
        staff.authenticate(gateway.sessions, "op2", PASSWORD, OFFICE, now)
    assert len(checks) == 3
    viewer = staff.authenticate(gateway.sessions, "op2", PASSWORD, OFFICE, now + timedelta(seconds=1))
    assert viewer is not None and viewer.username == "op2"


# --- 3. masked numbers cannot be searched out --------------------------------------------------------

def test_an_operators_search_by_a_full_number_is_a_logged_reveal(app, client, people, gateway):
    code = say(client, REGION_2, "09121234567")
    login_from(client, OFFICE, "op")
    for full in ("09121234567", "۰۹۱۲۱۲۳۴۵۶۷", "+98 912 123 4567"):
        assert code.translate(FA) in client.get("/tickets", query_string={"q": full}).get_data(as_text=True)
    assert events(gateway, code, "phone_revealed") == [("op", "جستجو با شماره")] * 3
    admin = app.test_client()
    login_from(admin, OFFICE, "admin")  # admins see every number anyway: nothing to log
    assert code.translate(FA) in admin.get("/tickets?q=09121234567").get_data(as_text=True)
    assert len(events(gateway, code, "phone_revealed")) == 3


@pytest.mark.parametrize("partial", ["0912123456", "912123456", "1234567", "4567", "0912***4567", "0912%4567",
                                     "091212345678", "۰۹۱۲۱۲۳۴۵۶"])
def test_partial_numbers_never_match(client, people, gateway, partial):
    code = say(client, REGION_2, "09121234567")
    login_from(client, OFFICE, "op")
    assert code.translate(FA) not in client.get("/tickets", query_string={"q": partial}).get_data(as_text=True)
    assert events(gateway, code, "phone_revealed") == []


def test_searches_are_rate_limited_per_staff_member(app, client, people, clock):
    from sms_gateway.services.staff import SEARCH_LIMIT, SEARCH_WINDOW

    login_from(client, OFFICE, "op")
    for i in range(SEARCH_LIMIT):
        assert client.get(f"/tickets?q=0912{i:03d}0002").status_code == 200
    refused = client.get("/tickets?q=09129990002")
    assert refused.status_code == 429 and "جستجو" in refused.get_data(as_text=True)
    assert client.get("/tickets.csv?q=09129990002").status_code == 429
    assert client.get("/tickets").status_code == 200  # the queue itself, without a search, still opens
    colleague = app.test_client()
    login_from(colleague, OFFICE, "op2")
    assert colleague.get("/tickets?q=09129990002").status_code == 200
    clock.advance(seconds=SEARCH_WINDOW.total_seconds())
    assert client.get("/tickets?q=09129990002").status_code == 200


# --- 4. sessions are revoked -------------------------------------------------------------------------------

def copy_of_session(app, client):
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.environ_base.update(client.environ_base)  # from the same address and browser: the hard case
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_cookie_from_before_logout_no_longer_works(app, client, people):
    login_from(client, OFFICE, "op2")
    stolen = copy_of_session(app, client)
    assert stolen.get("/tickets").status_code == 200
    post(client, "/logout", {})
    assert stolen.get("/tickets").status_code == 302
    assert login_from(client, OFFICE, "op2").status_code == 302 and client.get("/tickets").status_code == 200


@pytest.mark.parametrize("actions", [
    [{"action": "reset", "new_password": "another-pass-137"}],
    [{"action": "disable"}, {"action": "enable"}],
    [{"action": "role", "role": "supervisor", "region": "2"}],
])
def test_a_cookie_from_before_an_admins_change_no_longer_works(app, client, people, gateway, actions):
    victim = app.test_client()
    login_from(victim, OFFICE, "op2")
    stolen = copy_of_session(app, victim)
    login_from(client, OFFICE, "admin")
    for action in actions:
        post(client, "/staff", {**action, "user_id": user_id(gateway, "op2")}, page="/staff")
    assert stolen.get("/tickets").status_code == 302 and victim.get("/tickets").status_code == 302
    assert client.get("/tickets").status_code == 200  # the admin's own session is untouched


def test_a_role_change_takes_effect(client, people, gateway):
    login_from(client, OFFICE, "admin")
    post(client, "/staff", {"action": "role", "role": "supervisor", "region": "4", "user_id": user_id(gateway, "op2")},
         page="/staff")
    with gateway.sessions() as s:
        op2 = s.scalar(select(StaffUser).where(StaffUser.username == "op2"))
    assert (op2.role, op2.region) == ("supervisor", 4)
    page = post(client, "/staff", {"action": "role", "role": "king", "region": "", "user_id": op2.id}, page="/staff")
    assert "نقش باید" in page.get_data(as_text=True)


# --- 5. settings refuse weak secrets ------------------------------------------------------------------------

REAL_INBOUND = {"SMS_GATEWAY_KAVENEGAR_API_KEY": "key", "SMS_GATEWAY_KAVENEGAR_WEBHOOK_TOKEN": "t" * 24}


@pytest.mark.parametrize("env,key", [
    ({**REAL_INBOUND}, "secret_key"),                                     # the dev key, provider = console
    ({**REAL_INBOUND, "SMS_GATEWAY_SECRET_KEY": DEV_SECRET_KEY}, "secret_key"),
    ({**REAL_INBOUND, "SMS_GATEWAY_SECRET_KEY": "k" * 31}, "secret_key"),
    ({"SMS_GATEWAY_MELIPAYAMAK_API_KEY": "key", "SMS_GATEWAY_MELIPAYAMAK_WEBHOOK_TOKEN": "t" * 24,
      "SMS_GATEWAY_SECRET_KEY": "short"}, "secret_key"),
    ({"SMS_GATEWAY_TWILIO_ACCOUNT_SID": "AC1", "SMS_GATEWAY_TWILIO_AUTH_TOKEN": "tok"}, "secret_key"),
    ({**REAL_INBOUND, "SMS_GATEWAY_SECRET_KEY": STRONG_KEY, "SMS_GATEWAY_KAVENEGAR_WEBHOOK_TOKEN": "t" * 23},
     "kavenegar.webhook_token"),
    ({"SMS_GATEWAY_MELIPAYAMAK_WEBHOOK_TOKEN": "short"}, "melipayamak.webhook_token"),
    ({"SMS_GATEWAY_RETENTION_KEY": "short"}, "retention_key"),
])
def test_weak_secrets_stop_startup_naming_the_key(env, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=rf"\b{key.replace('.', '[.]')}\b"):
        load_settings(environ=env)


def test_strong_secrets_are_accepted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={**REAL_INBOUND, "SMS_GATEWAY_SECRET_KEY": "کلید" * 4})  # 32 bytes in UTF-8
    assert s.kavenegar.configured and len(s.secret_key.encode()) == 32
    assert load_settings(environ={}).secret_key == DEV_SECRET_KEY  # development with the console only


def test_retention_never_hashes_with_a_default_key(tmp_path, monkeypatch):
    from sms_gateway.settings import retention_secret

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="retention_key"):
        retention_secret(load_settings(environ={}))
    with pytest.raises(SettingsError, match="retention_key"):
        retention_secret(load_settings(environ={"SMS_GATEWAY_SECRET_KEY": "short"}))
    derived = retention_secret(load_settings(environ={"SMS_GATEWAY_SECRET_KEY": STRONG_KEY}))
    assert derived != STRONG_KEY and len(derived) >= 32
    assert derived == retention_secret(load_settings(environ={"SMS_GATEWAY_SECRET_KEY": STRONG_KEY}))
    assert retention_secret(load_settings(environ={"SMS_GATEWAY_RETENTION_KEY": "r" * 32})) == "r" * 32


def test_the_retention_command_refuses_to_hash_with_a_default_key(database_url, tmp_path):
    (tmp_path / "none.toml").write_text("")
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=database_url, SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    command = [os.path.join(os.path.dirname(sys.executable), "sms-gateway"), "retention"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "retention_key" in refused.stderr
    done = subprocess.run(command, env={**env, "SMS_GATEWAY_RETENTION_KEY": "r" * 32}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "anonymised 0" in done.stdout


# --- 6. no open redirect after login ---------------------------------------------------------------------

def login_to(client, target: str) -> str:
    response = client.post(f"/login?next={target}", data={"username": "op", "password": PASSWORD,
                                                           "csrf_token": csrf(client)})
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/evil.example",
                                    "%09//evil.example", "\\\\evil", "%5c%5cevil", "//evil", "///evil",
                                    "https://evil", "https:evil.example", "javascript:alert(1)", "tickets", ""])
def test_next_goes_to_the_queue_unless_it_is_a_local_path(client, people, target):
    assert login_to(client, target) == "/tickets"


@pytest.mark.parametrize("target", ["/\\evil.example", "/%5c%5cevil.example", "/%5C/evil.example", "/%09%5c/evil",
                                    "/\\/evil.example", "/%0d%0aSet-Cookie:x=1"])
def test_backslashes_and_control_characters_never_lead_off_the_site(client, people, target):
    """Browsers read «\\» as «/» and drop tabs and newlines: what is left must still be a local path."""
    location = login_to(client, target)
    as_a_browser_reads_it = location.replace("\\", "/").replace("%5C", "/").replace("%5c", "/")
    assert location.startswith("/") and not as_a_browser_reads_it.startswith("//")
    assert urlsplit(as_a_browser_reads_it).netloc == "" and not any(c < " " for c in location)


def test_a_local_next_is_kept(client, people):
    response = client.post("/login?next=/reports%3Ffrom%3D1405/09/01", data={
        "username": "op", "password": PASSWORD, "csrf_token": csrf(client)})
    target = urlsplit(response.headers["Location"])
    assert (target.netloc, target.path, target.query) == ("", "/reports", "from=1405/09/01")


# --- 7. unknown names cost the same hash ----------------------------------------------------------------

def test_unknown_and_disabled_names_are_hashed_like_known_ones(gateway, people, monkeypatch):
    staff.set_active(gateway.sessions, user_id(gateway, "sup4"), False)
    methods = []
    real = staff.check_password_hash

    def recording(pwhash, password):
        methods.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(staff, "check_password_hash", recording)
    now, timings = gateway.clock(), {}
    for n, name in enumerate(["op2", "nobody-by-this-name", "sup4"] * 3):
        started = time.perf_counter()
        assert staff.authenticate(gateway.sessions, name, "wrong-password", f"192.0.2.{n}", now) is None
        timings[name] = min(timings.get(name, 1e9), time.perf_counter() - started)
    assert len(methods) == 9 and len(set(methods)) == 1
    assert timings["nobody-by-this-name"] > timings["op2"] / 3 and timings["sup4"] > timings["op2"] / 3


# --- 8. linked duplicates never cross regions ------------------------------------------------------------

def linked_pair(client, gateway) -> tuple[str, str]:
    primary = say(client, REGION_2, "09121234567")
    linked = say(client, "کیسه های زباله جمع نشده کوی بهارستان", "09130000000")
    assert ticket(gateway, linked).linked_to_id == ticket(gateway, primary).id
    return primary, linked


def test_a_change_of_the_primary_never_reaches_a_linked_ticket_out_of_reach(app, client, people, gateway):
    primary, linked = linked_pair(client, gateway)
    with gateway.sessions.begin() as s:  # linked before places were corrected like this (or city data moved)
        s.execute(update(Ticket).where(Ticket.tracking_code == linked).values(region=4))
    with gateway.sessions() as s:
        before = s.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to_address == "+989130000000"))
    login_from(client, OFFICE, "op2")
    post(client, f"/tickets/{primary}/status", {"status": "referred", "note": "یادداشت داخلی کارشناس"})
    assert ticket(gateway, primary).status == "referred" and ticket(gateway, linked).status == "registered"
    with gateway.sessions() as s:
        after = s.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to_address == "+989130000000"))
    assert after == before and events(gateway, linked, "status") == []


def test_moving_a_linked_ticket_to_another_region_unlinks_it(app, client, people, gateway):
    primary, linked = linked_pair(client, gateway)
    login_from(client, OFFICE, "admin")
    post(client, f"/tickets/{linked}/correct", {"neighbourhood": "فین"})
    t = ticket(gateway, linked)
    assert (t.region, t.linked_to_id) == (4, None)
    assert events(gateway, linked, "unlinked") == [("admin", primary)]
    assert events(gateway, primary, "unlinked") == [("admin", linked)]
    operator = app.test_client()
    login_from(operator, OFFICE, "op2")
    post(operator, f"/tickets/{primary}/status", {"status": "referred", "note": "یادداشت"})
    assert ticket(gateway, linked).status == "registered"
    page = operator.get(f"/tickets/{primary}").get_data(as_text=True)
    assert f'href="/tickets/{linked}"' not in page  # no longer listed as linked (the history still says it was)


def test_moving_a_primary_to_another_region_unlinks_its_reports(client, people, gateway):
    primary, linked = linked_pair(client, gateway)
    login_from(client, OFFICE, "admin")
    post(client, f"/tickets/{primary}/correct", {"neighbourhood": "فین"})
    assert ticket(gateway, linked).linked_to_id is None
    post(client, f"/tickets/{linked}/correct", {"neighbourhood": "بهارستان"})  # the same region: nothing to unlink
    post(client, f"/tickets/{primary}/correct", {"category": "asphalt"})
    assert len(events(gateway, primary, "unlinked")) == 1


# --- 9. caching, metrics and health -------------------------------------------------------------------------

def test_pages_and_exports_with_phone_numbers_are_never_stored_by_caches(client, people):
    code = say(client, REGION_2)
    login_from(client, OFFICE, "admin")
    for path in ("/tickets", f"/tickets/{code}", "/tickets.csv", "/reports", "/reports.csv", "/staff", "/login"):
        response = client.get(path)
        assert response.status_code in (200, 302) and "no-store" in response.headers.get("Cache-Control", ""), path
    revealed = client.post(f"/tickets/{code}/reveal", data={"csrf_token": csrf(client, f"/tickets/{code}")})
    assert "no-store" in revealed.headers["Cache-Control"]
    font = client.get("/static/fonts/Vazirmatn-Regular.woff2")
    assert "no-store" not in font.headers.get("Cache-Control", "")
    font.close()


METRICS_TOKEN = "m" * 32


def metrics_app(settings, clock, **changes):
    app = create_app(settings.replace(**{"metrics_token": "", **changes}), clock=clock)
    return app, app.test_client()


def test_metrics_are_closed_unless_a_token_or_an_allow_list_is_set(settings, clock, app):
    other, client = metrics_app(settings, clock)
    try:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    finally:
        other.extensions["sms_gateway"].engine.dispose()


def test_metrics_need_the_bearer_token(settings, clock, app):
    other, client = metrics_app(settings, clock, metrics_token=METRICS_TOKEN)
    try:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
        assert client.get("/metrics", headers={"Authorization": METRICS_TOKEN}).status_code == 401
        right = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200 and "sms_gateway_inbound_messages_total" in right.get_data(as_text=True)
    finally:
        other.extensions["sms_gateway"].engine.dispose()


def test_metrics_from_allowed_addresses_only(settings, clock, app):
    other, client = metrics_app(settings, clock, metrics_allow=("10.1.0.0/16", "192.0.2.7"))
    both, client2 = metrics_app(settings, clock, metrics_allow=("10.1.0.0/16",), metrics_token=METRICS_TOKEN)
    try:
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 403
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "not-an-ip"}).status_code == 403
        bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        assert client2.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.0.1"}, headers=bearer).status_code == 403
        assert client2.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.0.9"}).status_code == 401
        assert client2.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.0.9"}, headers=bearer).status_code == 200
    finally:
        other.extensions["sms_gateway"].engine.dispose()
        both.extensions["sms_gateway"].engine.dispose()


@pytest.mark.parametrize("env,key", [
    ({"SMS_GATEWAY_METRICS_TOKEN": "short"}, "metrics_token"),
    ({"SMS_GATEWAY_METRICS_ALLOW": "10.0.0.0/8, not-an-address"}, "metrics_allow"),
])
def test_weak_metrics_settings_stop_startup_naming_the_key(env, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=rf"\b{key}\b"):
        load_settings(environ=env)


def test_metrics_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"SMS_GATEWAY_METRICS_TOKEN": METRICS_TOKEN,
                               "SMS_GATEWAY_METRICS_ALLOW": "10.0.0.0/8, 192.0.2.7"})
    assert (s.metrics_token, s.metrics_allow) == (METRICS_TOKEN, ("10.0.0.0/8", "192.0.2.7"))


def test_healthz_carries_no_counts(client, gateway):
    say(client, REGION_2)
    say(client, REGION_4, "09130000000")
    body = client.get("/healthz").get_json()
    assert set(body) == {"status", "database", "scheduler_last_run", "scheduler_age_seconds"}
    assert body["status"] == "ok" and body["scheduler_age_seconds"] is None
