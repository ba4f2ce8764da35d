"""The one writer of API keys: one per client application of the Open311 API (the municipality's website,
an app). A key is 32 random bytes, shown once when made; only its SHA-256 is stored. Each use is checked
and counted for its minute by one UPDATE on the key's row, so every web worker counts the same requests
and two at once never both take the last one."""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..adapters.models import ApiKey
from ..domain.text import persian_digits

MAX_NAME = 80


class ApiKeyError(ValueError):
    """A key cannot be made or revoked; the message says why."""


class InvalidKey(Exception):
    """No key, an unknown one, or a revoked one."""


class RateLimited(Exception):
    """The key has made its requests for this minute; `retry_after` seconds until the next."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate limit reached; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Client:
    """The application a request came from."""

    id: int
    name: str


@dataclass(frozen=True)
class KeyInfo:
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(sessions: sessionmaker[Session], name: str, now: datetime) -> str:
    """A new key for the application `name`; the key itself is returned once and never stored."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"نام کلید باید ۱ تا {persian_digits(str(MAX_NAME))} نویسه باشد")
    token = secrets.token_urlsafe(32)
    try:
        with sessions.begin() as session:
            if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
                raise ApiKeyError(f"کلیدی به نام «{name}» از پیش هست (کلید باطل‌شده هم نامش را نگه می‌دارد)")
            session.add(ApiKey(name=name, key_hash=key_hash(token), created_at=now, window_count=0))
    except IntegrityError:
        raise ApiKeyError(f"کلیدی به نام «{name}» از پیش هست") from None
    return token


def list_keys(sessions: sessionmaker[Session]) -> list[KeyInfo]:
    with sessions() as session:
        rows = session.execute(select(ApiKey.name, ApiKey.created_at, ApiKey.last_used_at, ApiKey.revoked_at)
                               .order_by(ApiKey.name)).all()
    return [KeyInfo(r.name, r.created_at, r.last_used_at, r.revoked_at) for r in rows]


def revoke_key(sessions: sessionmaker[Session], name: str, now: datetime) -> None:
    """From now on the key is refused (403); its row stays, for the record."""
    with sessions.begin() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.name == name.strip()).with_for_update())
        if key is None:
            raise ApiKeyError(f"کلیدی به نام «{name}» نیست")
        if key.revoked_at is not None:
            raise ApiKeyError(f"کلید «{name}» پیش‌تر باطل شده است")
        key.revoked_at = now


def use_key(sessions: sessionmaker[Session], token: str, now: datetime, per_minute: int) -> Client:
    """The application behind `token`, this request counted; raises InvalidKey or RateLimited."""
    if not token:
        raise InvalidKey("no api_key")
    minute = now.replace(second=0, microsecond=0)
    with sessions.begin() as session:
        row = session.execute(
            update(ApiKey).where(ApiKey.key_hash == key_hash(token), ApiKey.revoked_at.is_(None))
            .values(window_count=case((ApiKey.window_start == minute, ApiKey.window_count + 1), else_=1),
                    window_start=minute, last_used_at=now)
            .returning(ApiKey.id, ApiKey.name, ApiKey.window_count)
            .execution_options(synchronize_session=False)).first()
    if row is None:
        raise InvalidKey("unknown or revoked api_key")
    if row.window_count > per_minute:
        left = (minute + timedelta(minutes=1) - now).total_seconds()
        raise RateLimited(max(1, math.ceil(left)))
    return Client(row.id, row.name)
