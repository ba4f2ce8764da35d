"""Inbound load: Twilio-signed webhooks against `sms-gateway serve` on PostgreSQL (or SQLite), beside two
references served by the same gunicorn setup in the same run: the durable floor (bench/floor_app.py: the
signature checked, the raw message inserted once and committed, nothing else) and a bare Flask endpoint that
only returns static TwiML. The floor and the gateway are taken in turn, `--rounds` times each, so a noisy
machine shows as the spread between rounds rather than as a false ratio.

Prints per endpoint and round messages/s, p50/p95/p99/max latency, non-200 answers, lost and duplicated
(checked in the database: exactly M raw messages per round, and for the gateway M tickets), the cores each
process used, the load average, and the gateway's rate as a fraction of the floor's.
Usage: python bench/load.py [--messages 3000] [--clients 32] [--workers 4] [--rounds 2] [--known 0.3]
                            [--database-url postgresql://postgres@127.0.0.1:5432/test | sqlite]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

TOKEN = "bench-auth-token"
TEXTS = ["چاله بزرگ جلوی نانوایی خیابان امیرکبیر", "زباله ها سه روزه جمع نشده محله فین",
         "لامپ تیر برق کوچه ۱۲ طاهرآباد سوخته", "سگ ولگرد نزدیک مدرسه لتحر",
         "جوی آب گرفته تو پشت مشهد بو میده", "درخت شکسته افتاده وسط کوچه تو محله سلطان امیر احمد"]
BENCH = Path(__file__).resolve().parent
FLOOR_TABLE = ("CREATE TABLE floor_message (id bigserial PRIMARY KEY, message_id varchar(100) NOT NULL UNIQUE, "
               "sender varchar(64) NOT NULL, body text NOT NULL, raw jsonb NOT NULL, received_at timestamp NOT NULL)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000, help="messages per endpoint and round")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    ap.add_argument("--rounds", type=int, default=2, help="the floor, then the gateway, this many times")
    ap.add_argument("--known", type=float, default=0.0,
                    help="share of messages from 200 numbers that keep writing (known citizens), 0 to 1")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url, cleanup = database(args.database_url, tmp)
    servers: list[subprocess.Popen] = []
    try:
        gateway, floor, bare = (start_gateway(url, tmp, args, servers), start_floor(url, args, servers),
                                start_bare(args, servers))
        print(f"machine: {os.cpu_count()} cores, shared (load average {load()} at the start); gunicorn "
              f"{args.workers} workers x {args.threads} threads; {args.clients} keep-alive clients on the same "
              f"machine; {args.messages} messages per endpoint and round, {args.known:.0%} from known numbers; "
              f"database {url.split('@')[-1].split('?')[0] if 'postgresql' in url else 'sqlite'}")
        report("bare", drive(bare, args, 0, sign=False))
        pairs = []
        for n in range(args.rounds):
            taken = [drive(floor, args, n, sign=True), drive(gateway, args, n, sign=True)]
            taken[0].update(counted(url, "floor", args.messages * (n + 1), taken[0]))
            taken[1].update(counted(url, "gateway", args.messages * (n + 1), taken[1]))
            report(f"floor {n + 1}", taken[0])
            report(f"gateway {n + 1}", taken[1])
            pairs.append(taken[1]["rate"] / taken[0]["rate"])
        print(f"ratio   : the gateway at {' and '.join(f'{r:.2f}' for r in pairs)} of the durable floor's rate "
              f"(load average {load()} at the end)")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        cleanup()


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def report(name: str, r: dict) -> None:
    unit = "requests/s" if name == "bare" else "messages/s"
    counts = "" if name == "bare" else f"  lost {r['lost']}  duplicated {r['duplicated']}" + (
        f"  stored without a ticket {r['unticketed']}" if name.startswith("gateway") else "")
    print(f"{name:<10}: {r['rate']:.0f} {unit}  p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  p99 {r['p99']:.1f} ms"
          f"  max {r['max']:.0f} ms  non-200 {r['errors']}{counts}\n            {r['cpu']}")


def database(url: str, tmp: Path):
    if url == "sqlite":
        return f"sqlite:///{tmp}/bench.sqlite3", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def counted(url: str, endpoint: str, expected: int, result: dict) -> dict:
    """Lost and duplicated so far: the raw messages stored (and, for the gateway, its tickets) against
    those sent."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        if endpoint == "floor":
            stored = tickets = conn.scalar(text("select count(*) from floor_message"))
        else:
            stored = conn.scalar(text("select count(*) from inbound_message"))
            tickets = conn.scalar(text("select count(*) from ticket"))
    engine.dispose()
    return {"lost": max(expected - stored, 0), "duplicated": max(stored - expected, 0) + max(tickets - expected, 0),
            "unticketed": max(expected - tickets, 0)}


def start_gateway(url: str, tmp: Path, args, servers: list) -> tuple[str, int]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=url, SMS_GATEWAY_CONFIG=str(tmp / "c.toml"),
               SMS_GATEWAY_TWILIO_ACCOUNT_SID="AC" + "0" * 32, SMS_GATEWAY_TWILIO_AUTH_TOKEN=TOKEN,
               SMS_GATEWAY_PUBLIC_URL=public, SMS_GATEWAY_MAX_TICKETS_PER_DAY="1000000",
               SMS_GATEWAY_LOG_FORMAT="json", SMS_GATEWAY_SECRET_KEY=uuid.uuid4().hex * 2)
    (tmp / "c.toml").write_text("")
    exe = str(Path(sys.executable).parent / "sms-gateway")
    subprocess.run([exe, "db", "upgrade"], env=env, check=True, capture_output=True)
    servers.append(subprocess.Popen([exe, "serve", "--port", str(port), "--workers", str(args.workers),
                                     "--threads", str(args.threads)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(port)
    return public, servers[-1].pid


def start_floor(url: str, args, servers: list) -> tuple[str, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(FLOOR_TABLE))
    engine.dispose()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = dict(os.environ, FLOOR_DATABASE_URL=url, FLOOR_TWILIO_TOKEN=TOKEN, FLOOR_PUBLIC_URL=public)
    servers.append(gunicorn("floor_app:app", port, args, env))
    wait_for(port)
    return public, servers[-1].pid


def start_bare(args, servers: list) -> tuple[str, int]:
    port = free_port()
    servers.append(gunicorn("bare_app:app", port, args, dict(os.environ)))
    wait_for(port)
    return f"http://127.0.0.1:{port}", servers[-1].pid


def gunicorn(app: str, port: int, args, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
                             "-k", "gthread", "--threads", str(args.threads), app], cwd=str(BENCH), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(0.3)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def cpu_ticks(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of each server worker, of PostgreSQL's processes and of this client (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {"postgres": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[1]) == server_pid:
            found[f"worker {pid}"] = seconds
        elif name == "postgres":
            found["postgres"] += seconds
        elif int(pid) == os.getpid():
            found["client"] = seconds
    return found


def cpu_use(before: dict[str, float], after: dict[str, float], wall: float) -> str:
    workers = [after[k] - before.get(k, 0.0) for k in after if k.startswith("worker")]
    return (f"cores used: workers {' + '.join(f'{w / wall:.2f}' for w in sorted(workers))}, "
            f"postgres {(after['postgres'] - before['postgres']) / wall:.2f}, "
            f"client {(after.get('client', 0) - before.get('client', 0)) / wall:.2f}")


def sender(i: int, known: float) -> int:
    """Message i's number: one of 200 regular writers for a `known` share of messages, else a new one."""
    return i % 200 if (i * 37) % 100 < known * 100 else 1000 + i


def drive(server: tuple[str, int], args, round_: int, sign: bool) -> dict:
    """K clients send M messages as fast as answers come back (bounded in count and in time: 300 s); round
    n's messages follow round n-1's (new ids, and new numbers but for the known share)."""
    public, server_pid = server
    validator = RequestValidator(TOKEN)
    url = public + "/webhooks/twilio/sms"
    jobs = []
    for i in range(round_ * args.messages, (round_ + 1) * args.messages):  # encoded and signed up front: the
        params = {"MessageSid": f"SM{i:032d}", "AccountSid": "AC" + "0" * 32,  # client should cost little CPU
                  "From": f"+98912{sender(i, args.known):07d}",
                  "To": "+15005550006", "Body": TEXTS[i % len(TEXTS)]}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(url, params) if sign else ""}
        jobs.append((urlencode(params).encode(), headers))
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    cursor = iter(jobs)
    deadline = time.monotonic() + 300

    host, port = public.removeprefix("http://").split(":")

    def client() -> None:
        http = HTTPConnection(host, int(port), timeout=30)  # keep-alive, no per-request session machinery
        while time.monotonic() < deadline:
            with lock:
                job = next(cursor, None)
            if job is None:
                break
            started = time.perf_counter()
            http.request("POST", "/webhooks/twilio/sms", body=job[0], headers=job[1])
            response = http.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status != 200
        http.close()

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    cpu_before = cpu_ticks(server_pid)
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cpu = cpu_use(cpu_before, cpu_ticks(server_pid), wall)
    q = statistics.quantiles(latencies, n=100)
    return {"rate": len(latencies) / wall, "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000,
            "max": max(latencies) * 1000, "errors": errors[0], "cpu": cpu}


if __name__ == "__main__":
    main()
