"""What store-first intake costs on the database, per message, in CPU of this process and wall time: the raw
message stored and committed alone (the durable floor); then with its reading in the same transaction
behind a SAVEPOINT (what a failed reading would roll back to); and with a second transaction only when
reading fails (what intake does: nothing extra while nothing fails).

Usage: python bench/statements.py [--rows 3000] [--database-url postgresql://postgres@127.0.0.1:5432/test | sqlite]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from bench.load import database  # noqa: E402
from sms_gateway.adapters.db import make_engine, make_session_factory  # noqa: E402
from sms_gateway.adapters.migrate import upgrade  # noqa: E402
from sms_gateway.adapters.models import InboundMessage  # noqa: E402


def raw(i: int, tag: str, now: datetime) -> dict:
    return dict(provider="bench", provider_message_id=f"{tag}-{i}", channel="sms", sender="+989120000000",
                to_number="", text="چاله عمیق تو خیابون فین", raw_payload={}, received_at=now, state="received",
                attempts=0, truncated=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    url, cleanup = database(args.database_url, Path(tempfile.mkdtemp()))
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        now = datetime.now(UTC)

        def floor(session, i, tag):
            session.execute(insert(InboundMessage).values(**raw(i, tag, now)))

        def savepoint(session, i, tag):
            session.execute(insert(InboundMessage).values(**raw(i, tag, now)))
            with session.begin_nested():
                session.execute(text("SELECT 1"))

        def plain(session, i, tag):
            session.execute(insert(InboundMessage).values(**raw(i, tag, now)))
            session.execute(text("SELECT 1"))

        ways = {"raw insert + commit (floor)": floor, "+ one statement, no savepoint": plain,
                "+ one statement behind a savepoint": savepoint}
        print(f"{engine.dialect.name}, {args.rows} transactions each:")
        for round_ in range(2):  # the first round warms caches and prepared statements
            for n, (name, run) in enumerate(ways.items()):
                cpu, wall = time.process_time(), time.perf_counter()
                for i in range(args.rows):
                    with sessions.begin() as session:
                        run(session, i, f"{round_}{n}")
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if round_:
                    print(f"  {name:36s} {cpu / args.rows * 1e6:6.0f} µs CPU  {wall / args.rows * 1e6:6.0f} µs wall")
    finally:
        engine.dispose()
        cleanup()


if __name__ == "__main__":
    main()
