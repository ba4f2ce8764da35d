"""Canned responses: seeded from templates/canned.toml the first time, then edited by admins."""
from __future__ import annotations

import tomllib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from ..adapters.models import CannedResponse
from ..adapters.resources import resource_dir

CANNED_FILE = resource_dir("templates") / "canned.toml"


class CannedError(ValueError):
    pass


def list_canned(sessions: sessionmaker, seed_file: Path = CANNED_FILE) -> list[CannedResponse]:
    with sessions() as session:
        found = list(session.scalars(select(CannedResponse).order_by(CannedResponse.id)))
    if found or not seed_file.exists():
        return found
    with seed_file.open("rb") as fh:
        entries = tomllib.load(fh).get("canned", [])
    try:
        with sessions.begin() as session:
            session.add_all(CannedResponse(title=e["title"], body=e["body"]) for e in entries)
    except IntegrityError:  # another worker seeded them first
        pass
    with sessions() as session:
        return list(session.scalars(select(CannedResponse).order_by(CannedResponse.id)))


def save_canned(sessions: sessionmaker, canned_id: int | None, title: str, body: str) -> None:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise CannedError("عنوان و متن لازم است")
    try:
        with sessions.begin() as session:
            row = session.get(CannedResponse, canned_id) if canned_id else None
            if canned_id and row is None:
                raise CannedError("پاسخ آماده پیدا نشد")
            if row is None:
                session.add(CannedResponse(title=title[:80], body=body))
            else:
                row.title, row.body = title[:80], body
    except IntegrityError:
        raise CannedError("عنوان تکراری است") from None


def delete_canned(sessions: sessionmaker, canned_id: int) -> None:
    with sessions.begin() as session:
        row = session.get(CannedResponse, canned_id)
        if row is not None:
            session.delete(row)
