"""Inbound throughput of the Twilio webhook on SQLite, served by gunicorn (`sms-gateway serve`).

Prints messages/s and p50/p95/p99 latency, then checks that exactly M tickets exist.
Usage: python bench/webhook.py [--messages 2000] [--clients 8] [--workers 2]
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
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

TOKEN = "bench-auth-token"
TEXTS = ["چاله بزرگ جلوی نانوایی خیابان امیرکبیر", "زباله ها سه روزه جمع نشده محله فین",
         "لامپ تیر برق کوچه ۱۲ طاهرآباد سوخته", "سگ ولگرد نزدیک مدرسه لتحر"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
               SMS_GATEWAY_CONFIG=str(tmp / "c.toml"), SMS_GATEWAY_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
               SMS_GATEWAY_TWILIO_AUTH_TOKEN=TOKEN, SMS_GATEWAY_PUBLIC_URL=public)
    (tmp / "c.toml").write_text("")
    exe = str(Path(sys.executable).parent / "sms-gateway")
    subprocess.run([exe, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([exe, "serve", "--port", str(port), "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        run(public, args)
    finally:
        server.terminate()
        server.wait(timeout=10)
    engine = create_engine(env["SMS_GATEWAY_DATABASE_URL"])
    with engine.connect() as conn:
        tickets = conn.scalar(text("select count(*) from ticket"))
        inbound = conn.scalar(text("select count(*) from inbound_message"))
    print(f"tickets={tickets} inbound={inbound} lost={args.messages - inbound} "
          f"duplicated={max(tickets - args.messages, 0)}")


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def run(public: str, args) -> None:
    validator = RequestValidator(TOKEN)
    url = public + "/webhooks/twilio/sms"
    jobs = []
    for i in range(args.messages):
        params = {"MessageSid": f"SM{i:032d}", "From": f"+98912{i % 9000000:07d}", "To": "+15005550006",
                  "Body": TEXTS[i % len(TEXTS)]}
        jobs.append((params, validator.compute_signature(url, params)))
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    cursor = iter(jobs)

    def client() -> None:
        http = requests.Session()
        while True:
            with lock:
                job = next(cursor, None)
            if job is None:
                return
            started = time.perf_counter()
            r = http.post(url, data=job[0], headers={"X-Twilio-Signature": job[1]}, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures[0] += r.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    print(f"twilio webhook on SQLite, gunicorn {args.workers} workers, {args.clients} clients, "
          f"{args.messages} messages, {os.cpu_count()} cores")
    print(f"messages/s={args.messages / wall:.0f} p50={q[49] * 1000:.1f}ms p95={q[94] * 1000:.1f}ms "
          f"p99={q[98] * 1000:.1f}ms non-200={failures[0]}")


if __name__ == "__main__":
    main()
