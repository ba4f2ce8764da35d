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
def _token_providers() -> frozenset[str]:
    """Every provider whose webhook URL carries its secret, from the registry: a new one is masked too."""
    from ..providers import PROVIDERS

    return frozenset(name.lower() for name, cls in PROVIDERS.items() if cls.token_in_path)


# A segment that could be a secret: webhook tokens are 24+ URL-safe characters, bot tokens digits:letters.
# Tracking codes (8 digits), file names (with a dot) and route words stay readable.
_SECRET_LIKE = re.compile(r"[A-Za-z0-9_\-:~]{16,}")


def safe_path(path: str) -> str:
    """/webhooks/kavenegar/<token>/sms → /webhooks/kavenegar/***/sms, on any path, route or not: the
    segment after a token-carrying provider's name under /webhooks (any case, any number of slashes),
    and anywhere any segment long enough to be a token (a near miss such as /kavenegar/<token>/sms)."""
    segments = path.split("/")
    named = [n for n, seg in enumerate(segments) if seg]
    for i, n in enumerate(named[:-1]):
        if segments[n].lower() in _token_providers() and i > 0 and segments[named[i - 1]].lower() == "webhooks":
            segments[named[i + 1]] = "***"
    return "/".join("***" if _SECRET_LIKE.fullmatch(seg) else seg for seg in segments)


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
