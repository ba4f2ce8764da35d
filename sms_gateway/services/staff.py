"""Use case: staff accounts."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from ..adapters.models import LoginFailure, StaffUser
from ..domain.staff import ROLES, Viewer


class StaffError(ValueError):
    pass


def create_staff(sessions: sessionmaker, username: str, password: str, role: str, region: int | None,
                 now: datetime) -> StaffUser:
    username = username.strip()
    if not username:
        raise StaffError("نام کاربری خالی است")
    if len(password) < 8:
        raise StaffError("گذرواژه باید دست‌کم ۸ نویسه باشد")
    if role not in ROLES:
        raise StaffError(f"نقش باید یکی از این‌ها باشد: {'، '.join(ROLES)}")
    with sessions.begin() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise StaffError(f"کاربر {username} از پیش هست")
        user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                         region=region, active=True, created_at=now)
        session.add(user)
    return user


MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
FAILURE_WINDOW = timedelta(minutes=15)


class TooManyAttempts(StaffError):
    pass


def viewer_of(user: StaffUser) -> Viewer:
    return Viewer(user.id, user.username, user.role, user.region)


def authenticate(sessions: sessionmaker, username: str, password: str, ip: str, now: datetime) -> Viewer | None:
    """The staff member for these credentials, or None; raises TooManyAttempts while throttled.
    Failures are kept in the database so every web worker counts the same ones."""
    username = username.strip()[:80]
    since = now - FAILURE_WINDOW
    with sessions.begin() as session:
        by_user = session.scalar(select(func.count(LoginFailure.id)).where(
            LoginFailure.username == username, LoginFailure.at > since)) or 0
        by_ip = session.scalar(select(func.count(LoginFailure.id)).where(
            LoginFailure.ip == ip, LoginFailure.at > since)) or 0
        if by_user >= MAX_FAILURES_PER_USER or by_ip >= MAX_FAILURES_PER_IP:
            raise TooManyAttempts("تلاش‌های ناموفق زیاد بود؛ ۱۵ دقیقه دیگر دوباره امتحان کنید")
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None or not user.active or not check_password_hash(user.password_hash, password):
            session.add(LoginFailure(username=username, ip=ip[:64], at=now))
            return None
        session.execute(delete(LoginFailure).where(LoginFailure.username == username))
        return viewer_of(user)


def load_viewer(sessions: sessionmaker, user_id: int) -> Viewer | None:
    with sessions() as session:
        user = session.get(StaffUser, user_id)
        return viewer_of(user) if user is not None and user.active else None


def list_staff(sessions: sessionmaker) -> list[StaffUser]:
    with sessions() as session:
        return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def set_active(sessions: sessionmaker, user_id: int, active: bool) -> None:
    with sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise StaffError("چنین کاربری نیست")
        user.active = active


def reset_password(sessions: sessionmaker, user_id: int, password: str) -> None:
    if len(password) < 8:
        raise StaffError("گذرواژه باید دست‌کم ۸ نویسه باشد")
    with sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise StaffError("چنین کاربری نیست")
        user.password_hash = generate_password_hash(password)
