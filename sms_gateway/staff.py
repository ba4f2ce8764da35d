"""Use case: staff accounts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from werkzeug.security import generate_password_hash

from .models import StaffUser

ROLES = ("operator", "supervisor", "admin")


class StaffError(ValueError):
    pass


def create_staff(sessions: sessionmaker, username: str, password: str, role: str, region: int | None,
                 now: datetime) -> StaffUser:
    username = username.strip()
    if not username:
        raise StaffError("username is empty")
    if len(password) < 8:
        raise StaffError("password must be at least 8 characters")
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    with sessions.begin() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise StaffError(f"staff member {username} exists")
        user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                         region=region, active=True, created_at=now)
        session.add(user)
    return user
