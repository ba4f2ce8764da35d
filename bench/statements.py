"""CPU per INSERT … RETURNING id on the intake hot path: through the ORM session, through a Core connection,
and through `sms_gateway.driver.DriverStatement` (the driver's cursor). Why the hot path uses the last one.

Usage: python bench/statements.py [--rows 5000] [--database-url postgresql://postgres@127.0.0.1:5432/test | sqlite]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bench.load import database  # noqa: E402
from sms_gateway.db import make_engine, make_session_factory  # noqa: E402
from sms_gateway.driver import DriverStatement  # noqa: E402
from sms_gateway.migrate import upgrade  # noqa: E402
from sms_gateway.models import Citizen  # noqa: E402

TABLE = Citizen.__table__
STATEMENT = insert(TABLE).returning(TABLE.c.id)
DRIVER = DriverStatement(STATEMENT)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    url, cleanup = database(args.database_url, Path(tempfile.mkdtemp()))
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        now = datetime.now(timezone.utc)
        ways = {"orm session": lambda s, v: s.execute(STATEMENT, v).scalar_one(),
                "core connection": lambda s, v: s.connection().execute(STATEMENT, v).scalar_one(),
                "driver statement": lambda s, v: DRIVER.one(s, v)[0]}
        print(f"{engine.dialect.name}, {args.rows} rows each, CPU of this process per statement:")
        for round_ in range(2):  # the first round warms caches and prepared statements
            for name, run in ways.items():
                with sessions() as session, session.begin():
                    started = time.process_time()
                    for i in range(args.rows):
                        run(session, dict(phone=f"+98{round_}{name[:1]}{i:09d}", opted_out=False, created_at=now))
                    cpu = time.process_time() - started
                if round_:
                    print(f"  {name:17s} {cpu / args.rows * 1e6:6.0f} µs")
    finally:
        engine.dispose()
        cleanup()


if __name__ == "__main__":
    main()
