"""Use case: staff accounts, and the logins they make."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache
from math import ceil
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement
from werkzeug.security import check_password_hash, generate_password_hash

from ..adapters.models import LoginFailure, StaffUser
from ..domain.city import CityData
from ..domain.staff import ROLES, Viewer
from ..domain.text import persian_digits
from ..domain.values import Role


class StaffError(ValueError):
    pass


def _checked_department(role: str, department: str | None, region: int | None, city: CityData | None) -> str | None:
    """A unit account names its unit's department (and region, for a regional unit); others none."""
    if role not in ROLES:
        raise StaffError(f"نقش باید یکی از این‌ها باشد: {'، '.join(ROLES)}")
    department = (department or "").strip() or None
    if role != Role.UNIT:
        return None
    if department is None:
        raise StaffError("برای نقش واحد اجرایی، اداره (department) را بگویید")
    code = department if region is None else f"{department}:{region}"
    if city is not None and city.unit(code) is None:
        raise StaffError(f"واحد «{code}» در فهرست واحدهای شهر نیست")
    return department


def create_staff(sessions: sessionmaker, username: str, password: str, role: str, region: int | None,
                 now: datetime, department: str | None = None, city: CityData | None = None) -> StaffUser:
    """A staff login; a unit account (role unit) belongs to the city's unit of `department` in `region`."""
    username = username.strip()
    if not username:
        raise StaffError("نام کاربری خالی است")
    if len(password) < 8:
        raise StaffError("گذرواژه باید دست‌کم ۸ نویسه باشد")
    department = _checked_department(role, department, region, city)
    with sessions.begin() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise StaffError(f"کاربر {username} از پیش هست")
        user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                         region=region, department=department, active=True, created_at=now)
        session.add(user)
    return user


# Throttling is per (username, address): an office behind one NAT shares an address, an attacker does not
# share the admin's. A name's first few wrong passwords from an address cost nothing; then each waits
# twice as long as the one before, up to a cap; a pair quiet for a day starts afresh.
FREE_FAILURES = 3
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)


class TooManyAttempts(StaffError):
    """This name from this address must wait `retry_after` seconds before its next password is checked."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        wait = f"{ceil(retry_after / 60)} دقیقه" if retry_after >= 60 else f"{retry_after} ثانیه"
        super().__init__(persian_digits(f"تلاش‌های ناموفق زیاد بود؛ {wait} دیگر دوباره امتحان کنید."))


def delay_after(failures: int) -> timedelta:
    """How long a pair with this many failures waits before its next attempt."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 30), MAX_DELAY)


def viewer_of(user: StaffUser) -> Viewer:
    return Viewer(user.id, user.username, user.role, user.region, user.department)


def authenticate(sessions: sessionmaker, username: str, password: str, address: str,
                 now: datetime) -> Viewer | None:
    """The staff member for these credentials, or None; raises TooManyAttempts while this name from this
    address must wait. Failures are kept in the database so every web worker counts the same ones."""
    username, address = username.strip()[:80], address[:64]
    counted = _reserve_attempt(sessions, username, address, now)
    dummy = _dummy_hash()  # made by whichever attempt comes first, so the first unknown name is not slower
    with sessions() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    # Unknown and disabled names are hashed too, at the same cost: how long the answer takes says nothing.
    matches = check_password_hash(user.password_hash if user is not None else dummy, password)
    if user is None or not user.active or not matches:
        return None
    _take_back(sessions, username, address, counted, now)
    return viewer_of(user)


@cache
def _dummy_hash() -> str:
    """A hash made as every staff password's is (same method, same cost), of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _pair(username: str, address: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return LoginFailure.username == username, LoginFailure.ip == address


def _reserve_attempt(sessions: sessionmaker, username: str, address: str, now: datetime) -> int:
    """Count this attempt as a failure before its password is checked, in the same statement that checks
    the pair may try now: concurrent attempts queue on the pair's row, so a burst gets no more password
    checks than the rules allow. The count, this attempt included; raises TooManyAttempts."""
    pair = _pair(username, address)
    with sessions.begin() as session:
        session.execute(_insert_ignoring_conflict(session).values(username=username, ip=address, failures=0,
                                                                  last_at=now))
        may_try = or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= now)
        failures = case((LoginFailure.last_at < now - FORGET_AFTER, 1), else_=LoginFailure.failures + 1)
        counted = session.execute(
            update(LoginFailure).where(*pair, may_try).values(failures=failures, last_at=now)
            .returning(LoginFailure.failures).execution_options(synchronize_session=False)).scalar()
        if counted is None:
            locked_until = session.scalar(select(LoginFailure.locked_until).where(*pair)) or now
            raise TooManyAttempts(max(1, ceil((locked_until - now).total_seconds())))
        if wait := delay_after(counted):
            session.execute(update(LoginFailure).where(*pair).values(locked_until=now + wait)
                            .execution_options(synchronize_session=False))
        return int(counted)


def _take_back(sessions: sessionmaker, username: str, address: str, counted: int, now: datetime) -> None:
    """A right password: this attempt and the failures before it no longer count (those other attempts
    made meanwhile still do). Pairs quiet for a day are cleared away on the way (skipping any row another
    login holds, so two of these never wait on each other)."""
    pair, left = _pair(username, address), LoginFailure.failures - counted
    with sessions.begin() as session:
        session.execute(update(LoginFailure).where(*pair).values(
            failures=case((left > 0, left), else_=0),
            locked_until=case((left >= FREE_FAILURES, LoginFailure.locked_until), else_=None))
            .execution_options(synchronize_session=False))
        quiet = select(LoginFailure.id).where(LoginFailure.last_at < now - FORGET_AFTER) \
            .with_for_update(skip_locked=True)
        session.execute(delete(LoginFailure).where(or_(and_(*pair, LoginFailure.failures == 0),
                                                       LoginFailure.id.in_(quiet)))
                        .execution_options(synchronize_session=False))


def _insert_ignoring_conflict(session: Session) -> Any:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(LoginFailure).on_conflict_do_nothing(index_elements=["username", "ip"])


def session_id_of(sessions: sessionmaker, user_id: int) -> str:
    """What a staff member's session cookie carries: their id and session version. Logging out, a new
    password, disabling and a new role bump the version, so every cookie issued before stops working."""
    with sessions() as session:
        version = session.scalar(select(StaffUser.session_version).where(StaffUser.id == user_id))
    return f"{user_id}:{version or 0}"


def load_viewer(sessions: sessionmaker, session_id: str) -> Viewer | None:
    """The staff member a session cookie names, while it is still valid: active, the same version."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    with sessions() as session:
        user = session.get(StaffUser, int(user_id))
        valid = user is not None and user.active and user.session_version == int(version)
        return viewer_of(user) if user is not None and valid else None


def end_sessions(sessions: sessionmaker, user_id: int) -> None:
    """Every session of this staff member ends (logout: a copied cookie stops working too)."""
    with sessions.begin() as session:
        session.execute(update(StaffUser).where(StaffUser.id == user_id)
                        .values(session_version=StaffUser.session_version + 1))


def list_staff(sessions: sessionmaker) -> list[StaffUser]:
    with sessions() as session:
        return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def _staff_member(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        raise StaffError("چنین کاربری نیست")
    return user


def set_active(sessions: sessionmaker, user_id: int, active: bool) -> None:
    with sessions.begin() as session:
        user = _staff_member(session, user_id)
        user.active = active
        user.session_version += 1


def set_role(sessions: sessionmaker, user_id: int, role: str, region: int | None, department: str | None = None,
             city: CityData | None = None) -> None:
    """A new role, region or unit; the staff member's sessions end, so the new reach applies at once."""
    department = _checked_department(role, department, region, city)
    with sessions.begin() as session:
        user = _staff_member(session, user_id)
        if (user.role, user.region, user.department) != (role, region, department):
            user.role, user.region, user.department = role, region, department
            user.session_version += 1


def reset_password(sessions: sessionmaker, user_id: int, password: str) -> None:
    if len(password) < 8:
        raise StaffError("گذرواژه باید دست‌کم ۸ نویسه باشد")
    with sessions.begin() as session:
        user = _staff_member(session, user_id)
        user.password_hash = generate_password_hash(password)
        user.session_version += 1


# Searching the queue by phone number confirms a masked number: staff without full numbers get this
# many searches (of any kind) per window, and every ticket a number search finds logs a reveal.
SEARCH_LIMIT = 30
SEARCH_WINDOW = timedelta(minutes=10)


class TooManySearches(StaffError):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(persian_digits(f"جستجوهای شما بیش از حد بود؛ {ceil(retry_after / 60)} دقیقه دیگر "
                                        "دوباره جستجو کنید."))


def count_search(sessions: sessionmaker, viewer: Viewer, now: datetime) -> None:
    """One more search by this staff member, counted and checked in one statement (as logins are);
    raises TooManySearches past SEARCH_LIMIT in the window that began with their first search."""
    fresh = or_(StaffUser.searches_since.is_(None), StaffUser.searches_since <= now - SEARCH_WINDOW)
    with sessions.begin() as session:
        counted = session.execute(
            update(StaffUser).where(StaffUser.id == viewer.id, or_(fresh, StaffUser.searches < SEARCH_LIMIT))
            .values(searches=case((fresh, 1), else_=StaffUser.searches + 1),
                    searches_since=case((fresh, now), else_=StaffUser.searches_since))
            .returning(StaffUser.id).execution_options(synchronize_session=False)).scalar()
        if counted is None:
            since = session.scalar(select(StaffUser.searches_since).where(StaffUser.id == viewer.id)) or now
            raise TooManySearches(max(1, ceil((since + SEARCH_WINDOW - now).total_seconds())))
