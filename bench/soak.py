"""Soak: an hour of a 137 centre compressed into a few minutes, on PostgreSQL, against `sms-gateway serve`.

Citizens write through three providers at once (Kavenegar POST, Melipayamak GET, Twilio signed POST):
reports, provider retries of the same delivery, status queries with and without a code, opt-outs and
opt-ins. Staff change statuses and reply through the same entry points as the dashboard; the scheduler's
run (`run_due`) goes every couple of seconds with a simulated `now` that moves through the hour (from 10:00
Tehran, so quiet hours never depend on the wall clock). On the way one gunicorn worker is killed with
SIGKILL; its master starts another. Providers' send APIs are a local fake that records every send. Web and
scheduler share one simulated clock (the server is `sms-gateway serve`'s own, given that clock), so leases
and quiet hours mean what they mean in production.

Prints messages in, tickets, SMS out, lost (acknowledged but not stored, or never acknowledged), duplicated
(a delivery stored twice, a report ticketed twice, one outbound message reaching the panel twice) and errors
by kind. Not part of the test suite (tests/integration/test_soak_smoke.py runs it with tiny numbers).
Usage: python bench/soak.py [--database-url postgresql://postgres@127.0.0.1:5432/test] [--minutes 3]
                            [--rate 6] [--workers 2] [--seed 137]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import database, free_port, wait_for  # noqa: E402

KAVE_TOKEN, MELI_TOKEN, TWILIO_TOKEN = "soak-kave-" + "k" * 24, "soak-meli-" + "m" * 24, "soak-twilio-token"
REPORTS = ["چاله بزرگ جلوی نانوایی خیابان امیرکبیر", "زباله ها سه روزه جمع نشده محله فین",
           "لامپ تیر برق کوچه ۱۲ طاهرآباد سوخته", "سگ ولگرد نزدیک مدرسه لتحر",
           "جوی آب گرفته تو پشت مشهد بو میده", "درخت شکسته افتاده وسط کوچه تو محله سلطان امیر احمد"]
CODE = re.compile(r"[۰-۹]{8}")
PERSIAN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
STEPS = {"registered": "referred", "referred": "in_progress", "in_progress": "done", "reopened": "in_progress"}


class Panel:
    """Kavenegar's and Melipayamak's send APIs: each accepted send recorded; a Kavenegar localid sent
    again is answered with the first send's id and not sent again, as Kavenegar does."""

    def __init__(self) -> None:
        self.sends: list[dict] = []
        self.absorbed = 0
        self._localids: dict[str, int] = {}
        self._lock = threading.Lock()
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                path = urlparse(self.path).path
                if "json" in self.headers.get("Content-Type", ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                payload = panel.answer(path, body)
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, body: dict) -> dict:
        with self._lock:
            if path.endswith("sms/send.json"):
                localid = body.get("localid", "")
                if localid in self._localids:
                    self.absorbed += 1
                    return {"return": {"status": 200, "message": "تایید شد"},
                            "entries": [{"messageid": self._localids[localid], "status": 1}]}
                self.sends.append({"panel": "kavenegar", "to": body.get("receptor"), "text": body.get("message"),
                                   "localid": localid})
                self._localids[localid] = len(self.sends)
                return {"return": {"status": 200, "message": "تایید شد"},
                        "entries": [{"messageid": len(self.sends), "status": 1}]}
            self.sends.append({"panel": "melipayamak", "to": body.get("to"), "text": body.get("text")})
            return {"recId": 10_000 + len(self.sends), "status": "ارسال موفق بود"}

    def codes_for(self, phone: str) -> list[str]:
        with self._lock:
            return [c.translate(PERSIAN) for s in self.sends if s["to"] == phone for c in CODE.findall(s["text"])]


class Citizens:
    """Webhook deliveries, as the three providers make them, each retried until answered 200 (a provider
    retries what it did not see answered); some also retried after a 200, as providers do on a timeout."""

    def __init__(self, port: int, public: str, panel: Panel, rng: random.Random) -> None:
        self.port, self.public, self.panel, self.rng = port, public, panel, rng
        self.validator = RequestValidator(TWILIO_TOKEN)
        self.sent: list[dict] = []          # every distinct delivery: provider, id, sender, text, kind, acked
        self.errors: Counter[str] = Counter()
        self.retries = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self._n = 0

    def _connection(self) -> HTTPConnection:
        if getattr(self._local, "conn", None) is None:
            self._local.conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self._local.conn

    def _request(self, method: str, path: str, body: str | None, headers: dict) -> int:
        for attempt in range(20):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return 200
                with self._lock:
                    self.errors[f"HTTP {response.status}"] += 1
            except (OSError, http_exceptions()) as exc:
                with self._lock:
                    self.errors[f"connection: {type(exc).__name__}"] += 1
                self.close()
            with self._lock:
                self.retries += 1
            time.sleep(0.2 * (attempt + 1))
        return 0

    def close(self) -> None:
        """Close this thread's connection (the next request opens another)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def write(self) -> None:
        """One citizen message, of a mix like a real hour's."""
        with self._lock:
            self._n += 1
            n = self._n
        phone = f"0912{self.rng.randrange(400):07d}"
        roll = self.rng.random()
        if roll < 0.62:
            kind, body = "report", self.rng.choice(REPORTS)
        elif roll < 0.80:
            codes = self.panel.codes_for("+98" + phone[1:])
            kind, body = "status", f"پیگیری {codes[-1]}" if codes and self.rng.random() < 0.7 else "پیگیری"
        elif roll < 0.86:
            kind, body = "opt_out", "لغو ۱۱"
        elif roll < 0.90:
            kind, body = "opt_in", "۱۲"
        else:
            kind, body = "thanks", "ممنون از پیگیری"
        provider = ("kavenegar", "melipayamak", "twilio")[n % 3]
        delivery = {"provider": provider, "id": f"soak-{n}", "sender": phone, "text": f"{body} ({n})"
                    if kind == "report" else body, "kind": kind}
        delivery["acked"] = self.deliver(delivery) == 200
        with self._lock:
            self.sent.append(delivery)
        if self.rng.random() < 0.08:  # the provider did not see our answer in time: the same delivery again
            self.deliver(delivery)

    def deliver(self, d: dict) -> int:
        if d["provider"] == "kavenegar":
            form = urlencode({"messageid": d["id"], "from": d["sender"], "to": "10007000137", "message": d["text"]})
            return self._request("POST", f"/webhooks/kavenegar/{KAVE_TOKEN}/sms", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if d["provider"] == "melipayamak":
            query = urlencode({"from": d["sender"], "to": "10007000137", "body": d["text"]})
            return self._request("GET", f"/webhooks/melipayamak/{MELI_TOKEN}/sms?{query}", None, {})
        params = {"MessageSid": "SM" + uuid.uuid5(uuid.NAMESPACE_URL, d["id"]).hex, "AccountSid": "AC" + "0" * 32,
                  "From": "+98" + d["sender"][1:], "To": "+15005550006", "Body": d["text"], "NumMedia": "0"}
        signature = self.validator.compute_signature(self.public + "/webhooks/twilio/sms", params)
        return self._request("POST", "/webhooks/twilio/sms", urlencode(params),
                             {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def http_exceptions() -> type[Exception]:
    from http.client import HTTPException

    return HTTPException


def write_config(tmp: Path, url: str, public: str, panel: Panel) -> Path:
    config = tmp / "soak.toml"
    config.write_text(f"""database_url = "{url}"
secret_key = "{uuid.uuid4().hex * 2}"
provider = "kavenegar"
public_url = "{public}"
max_tickets_per_day = 1000
claim_lease_seconds = 60

[kavenegar]
api_key = "soak-kave-key"
webhook_token = "{KAVE_TOKEN}"
api_url = "{panel.url}"

[melipayamak]
api_key = "soak-meli-key"
webhook_token = "{MELI_TOKEN}"
api_url = "{panel.url}"

[twilio]
account_sid = "AC{'0' * 32}"
auth_token = "{TWILIO_TOKEN}"
from_number = "+15005550006"
""")
    return config


def workers_of(master: int) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == master:
            found.append(int(pid))
    return sorted(found)


def simulated_start(wall: datetime) -> datetime:
    """The next 10:00 in Tehran after the wall clock: every message is due by then, quiet hours are over."""
    tehran = ZoneInfo("Asia/Tehran")
    local = wall.astimezone(tehran).replace(hour=10, minute=0, second=0, microsecond=0)
    if local <= wall.astimezone(tehran):
        local += timedelta(days=1)
    return local.astimezone(UTC)


def staff_and_scheduler(config: Path, stop: threading.Event, clock, rng: random.Random, counts: Counter) -> None:
    """Staff at their desks and the one scheduler, in this process, on the simulated clock."""
    from sms_gateway.bootstrap import build_gateway
    from sms_gateway.domain.staff import command_line_viewer
    from sms_gateway.scheduler import run_due
    from sms_gateway.services import tickets
    from sms_gateway.settings import load_settings

    gateway = build_gateway(load_settings(environ={}, path=config))
    viewer = command_line_viewer("soak-staff")
    last_run = 0.0
    try:
        while not stop.is_set():
            now = clock()
            if time.monotonic() - last_run > 2:
                try:
                    counts["scheduler: sent"] += len(run_due(gateway, now))
                    counts["scheduler runs"] += 1
                except Exception as exc:  # noqa: BLE001 — a soak counts faults, it does not stop on them
                    counts[f"scheduler error: {type(exc).__name__}"] += 1
                last_run = time.monotonic()
            with gateway.sessions() as s:
                open_ = s.execute(text("select tracking_code, status from ticket where status in "
                                       "('registered','referred','in_progress','reopened') order by random() "
                                       "limit 3")).all()
            for code, status in open_:
                try:
                    if rng.random() < 0.25:
                        outbound = tickets.reply(gateway.ctx, viewer, code, "همکاران ما در حال پیگیری هستند", now)
                        gateway.ctx.outbox.deliver(gateway.sessions, outbound, now)
                        counts["staff replies"] += 1
                    tickets.change_status(gateway.ctx, viewer, code, STEPS[status], "پیگیری شد", now)
                    counts["staff status changes"] += 1
                except tickets.Refused:
                    counts["staff refused (as designed)"] += 1
                except Exception as exc:  # noqa: BLE001
                    counts[f"staff error: {type(exc).__name__}"] += 1
            time.sleep(0.3)
        counts["scheduler: sent"] += len(run_due(gateway, clock() + timedelta(minutes=30)))  # drain the backoffs
        # (half an hour past the end: nothing is in flight then, so a lease may end)
    finally:
        gateway.engine.dispose()


def simulated_clock(sim_start: datetime, wall_start: float, speed: float):
    """The soak's one clock, the same in every process: the simulated hour moving `speed` times as fast as
    the wall clock from `wall_start` (time.time())."""
    def clock() -> datetime:
        return sim_start + timedelta(seconds=(time.time() - wall_start) * speed)
    return clock


def serve_child(port: int, workers: int, sim_start: str, wall_start: float, speed: float) -> None:
    """`sms-gateway serve`'s own server (request-line guard, app built before the fork, a pool per worker)
    on the simulated clock."""
    from sms_gateway.settings import load_settings
    from sms_gateway.web.server import run

    run(load_settings(), "127.0.0.1", port, workers, 4, "warning",
        clock=simulated_clock(datetime.fromisoformat(sim_start), wall_start, speed))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--minutes", type=float, default=3.0, help="wall-clock minutes the simulated hour takes")
    ap.add_argument("--rate", type=float, default=6.0, help="citizen messages per wall-clock second")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--seed", type=int, default=137)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp())
    url, cleanup = database(args.database_url, tmp)
    panel = Panel()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = write_config(tmp, url, public, panel)
    # Only the soak's own config: an SMS_GATEWAY_* of the caller (make exports a SQLite database_url) would win.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SMS_GATEWAY_")}
    env = dict(inherited, SMS_GATEWAY_CONFIG=str(config), SMS_GATEWAY_LOG_LEVEL="warning",
               SMS_GATEWAY_LOG_FORMAT="json")
    exe = str(Path(sys.executable).parent / "sms-gateway")
    subprocess.run([exe, "db", "upgrade"], env=env, check=True, capture_output=True)
    log = (tmp / "serve.log").open("w")
    duration = args.minutes * 60
    sim_start, wall_start = simulated_start(datetime.now(UTC)), time.time() + 5
    clock = simulated_clock(sim_start, wall_start, 3600 / duration)
    server = subprocess.Popen([sys.executable, __file__, "--serve-child", str(port), str(args.workers),
                               sim_start.isoformat(), str(wall_start), str(3600 / duration)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    counts: Counter[str] = Counter()
    try:
        wait_for(port)
        time.sleep(max(0.0, wall_start - time.time()))
        started = time.monotonic()

        stop = threading.Event()
        back_office = threading.Thread(target=staff_and_scheduler, args=(config, stop, clock, random.Random(
            args.seed + 1), counts), daemon=True)
        back_office.start()
        citizens = Citizens(port, public, panel, rng)
        killed = kill_later(server.pid, duration * 0.4, counts)
        pace = args.clients / args.rate

        def client() -> None:
            while time.monotonic() - started < duration:
                began = time.monotonic()
                citizens.write()
                time.sleep(max(0.0, pace - (time.monotonic() - began)) * rng.uniform(0.5, 1.5))
            citizens.close()

        clients = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        stop.set()
        back_office.join(timeout=120)
        killed.join(timeout=5)
        figures = tally(url, citizens, panel, counts, time.monotonic() - started)
        print_figures(figures, args, sim_start)
        return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        panel.close()
        cleanup()


def kill_later(master: int, after: float, counts: Counter) -> threading.Thread:
    def kill() -> None:
        time.sleep(after)
        workers = workers_of(master)
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            counts["workers killed (SIGKILL)"] += 1
            for _ in range(100):
                time.sleep(0.2)
                if len(workers_of(master)) == len(workers) and workers[0] not in workers_of(master):
                    counts["workers replaced"] += 1
                    return

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def tally(url: str, citizens: Citizens, panel: Panel, counts: Counter, wall: float) -> dict:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        inbound = conn.execute(text("select provider, provider_message_id, sender, text, state from inbound_message"))\
            .all()
        tickets = conn.scalar(text("select count(*) from ticket"))
        by_text = Counter(t for (t,) in conn.execute(text("select description from ticket")))
        outbound = Counter(dict(conn.execute(text("select status, count(*) from outbound_message group by status"))
                                .all()))
        out_errors = Counter(e.split(":")[0] for (e,) in conn.execute(text(
            "select last_error from outbound_message where last_error is not null")))
        sent_rows = Counter(dict(conn.execute(text(
            "select provider, count(*) from outbound_message where status in ('sent','delivered') group by provider"))
            .all()))
    engine.dispose()
    stored = Counter()
    for provider, message_id, sender, body, _state in inbound:
        key = message_id if provider in ("kavenegar", "twilio") else (sender, body)
        stored[(provider, key)] += 1
    lost, unacked, duplicated_in = 0, 0, 0
    for d in citizens.sent:
        unacked += not d["acked"]
        if d["provider"] == "kavenegar":
            key = ("kavenegar", d["id"])
        elif d["provider"] == "twilio":
            key = ("twilio", "SM" + uuid.uuid5(uuid.NAMESPACE_URL, d["id"]).hex)
        else:
            key = ("melipayamak", ("+98" + d["sender"][1:], d["text"]))
        stored_count = stored.get(key, 0)
        if d["acked"] and stored_count == 0:
            lost += 1
        if d["provider"] != "melipayamak" and stored_count > 1:
            duplicated_in += stored_count - 1
    reports = [d for d in citizens.sent if d["kind"] == "report"]
    ticketed_twice = sum(max(0, by_text.get(d["text"], 0) - 1) for d in reports)
    panel_by = Counter(s["panel"] for s in panel.sends)
    localids = Counter(s["localid"] for s in panel.sends if s["panel"] == "kavenegar")
    return {
        "wall seconds": round(wall), "messages in": len(citizens.sent),
        "messages in by kind": dict(Counter(d["kind"] for d in citizens.sent)),
        "deliveries retried": citizens.retries, "stored inbound": len(inbound),
        "inbound failed (kept for the scheduler)": sum(1 for *_, s in inbound if s == "failed"),
        "tickets": tickets, "reports": len(reports),
        "SMS out (panel sends)": dict(panel_by), "SMS out (Twilio, inline)": sent_rows.get("twilio", 0),
        "outbound by status": dict(outbound),
        "lost (acknowledged, not stored)": lost, "never acknowledged": unacked,
        "duplicated: deliveries stored twice": duplicated_in, "duplicated: reports ticketed twice": ticketed_twice,
        "duplicated: one outbound reaching Kavenegar twice": sum(n - 1 for n in localids.values() if n > 1),
        "resends absorbed by Kavenegar's localid": panel.absorbed,
        "duplicated: Melipayamak sends over its sent rows": max(0, panel_by.get("melipayamak", 0)
                                                               - sent_rows.get("melipayamak", 0)),
        "errors by kind (client)": dict(citizens.errors), "errors by kind (outbound last_error)": dict(out_errors),
        "back office": dict(counts),
    }


def print_figures(f: dict, args, sim_start: datetime) -> None:
    print(f"soak: one simulated hour from {sim_start.isoformat()} in {f['wall seconds']} s of wall clock; "
          f"{args.rate}/s from {args.clients} clients; gunicorn {args.workers} workers x 4 threads; PostgreSQL")
    for key, value in f.items():
        if key != "wall seconds":
            print(f"  {key:<50} {value}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-child"]:
        serve_child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    else:
        main()
