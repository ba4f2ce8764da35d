"""One JSON line per log record (request, outbound message, job), for log shippers; text for a terminal.

Nothing here ever sees a secret: webhook tokens are cut out of paths before logging, phone numbers are
masked by the callers, provider URLs (Kavenegar's carries the API key) are never logged."""
from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from functools import lru_cache

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@lru_cache(maxsize=1)
def _token_path() -> re.Pattern[str]:
    """Every provider whose webhook URL carries its secret, from the registry: a new one is masked too."""
    from ..providers import PROVIDERS

    names = sorted(name for name, cls in PROVIDERS.items() if cls.token_in_path)
    return re.compile(r"^(/+webhooks/+(?:" + "|".join(map(re.escape, names)) + r"))/+[^/]*")


def safe_path(path: str) -> str:
    """/webhooks/kavenegar/<token>/sms → /webhooks/kavenegar/***/sms, also on paths that match no route."""
    return _token_path().sub(r"\1/***", path)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        line.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(fmt: str = "json", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # urllib3 writes each request line at DEBUG, and Kavenegar's and Bale's URLs carry their secrets.
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))
