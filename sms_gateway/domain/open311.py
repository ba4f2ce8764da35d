"""Open311 GeoReport v2 as this product speaks it: what a client application may send, what its queries
mean, and how a ticket's life reads as the spec's open/closed. Pure: the service reads and writes."""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .phones import InvalidPhone, is_mobile, normalise_phone
from .text import persian_digits, to_latin_digits
from .tickets import CLOSED

MAX_DESCRIPTION = 4000          # the spec's limit on a description
MAX_ADDRESS = 500
MAX_RESULTS = 1000              # the spec's default: at most 1000 requests, or 90 days, whichever is smaller
DEFAULT_SPAN = timedelta(days=90)
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# A "+03:30" sent unencoded in a query string arrives as " 03:30".
_SPACE_FOR_PLUS = re.compile(r" (\d\d(?::?\d\d)?)$")


class SpecStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Open311Error(Exception):
    """A request the API refuses: the HTTP status and a description meant for the person using the app."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def spec_status(status: str) -> SpecStatus:
    """A ticket's status as the spec says it: done and not doable are closed, everything else open."""
    return SpecStatus.CLOSED if status in CLOSED else SpecStatus.OPEN


@dataclass(frozen=True)
class NewRequest:
    """A POSTed service request, checked."""

    service_code: str
    description: str
    address: str
    lat: float | None
    long: float | None
    phone: str               # +989…

    def text(self) -> str:
        """What intake reads: the description, then the address the citizen gave."""
        return f"{self.description} — {self.address}" if self.address else self.description


def _field(params: Mapping[str, str], name: str) -> str:
    return (params.get(name) or "").strip()


def new_request(params: Mapping[str, str], service_codes: Collection[str]) -> NewRequest:
    """The fields of a POST, checked; raises Open311Error (400 missing or invalid, 404 unknown service)."""
    code = _field(params, "service_code")
    if not code:
        raise Open311Error(400, "service_code لازم است (فهرست خدمات: services.json)")
    if code not in service_codes:
        raise Open311Error(404, "service_code شناخته نیست؛ فهرست خدمات در services.json است")
    description = _field(params, "description")
    if not description:
        raise Open311Error(400, "description لازم است: مشکل را در چند کلمه بنویسید")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description بیش از {persian_digits(str(MAX_DESCRIPTION))} نویسه است")
    address = " ".join(_field(params, "address_string").split())
    if len(address) > MAX_ADDRESS:
        raise Open311Error(400, f"address_string بیش از {persian_digits(str(MAX_ADDRESS))} نویسه است")
    lat, long = _coordinates(params)
    if not address and lat is None:
        raise Open311Error(400, "محل لازم است: address_string یا lat و long را بفرستید")
    return NewRequest(code, description, address, lat, long, _phone(_field(params, "phone")))


def _coordinates(params: Mapping[str, str]) -> tuple[float | None, float | None]:
    lat_text, long_text = _field(params, "lat"), _field(params, "long")
    if not lat_text and not long_text:
        return None, None
    if not lat_text or not long_text:
        raise Open311Error(400, "lat و long باید با هم فرستاده شوند")
    try:
        lat, long = float(to_latin_digits(lat_text)), float(to_latin_digits(long_text))
    except ValueError:
        raise Open311Error(400, "lat و long باید عدد باشند (WGS84)") from None
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise Open311Error(400, "lat باید میان -۹۰ و ۹۰ و long میان -۱۸۰ و ۱۸۰ باشد")
    return lat, long


def _phone(raw: str) -> str:
    """The citizen's mobile number, as +98…: the tracking code and every follow-up go to it by SMS."""
    if not raw:
        raise Open311Error(400, "phone لازم است: کد رهگیری و پیگیری‌ها با پیامک به این شماره فرستاده می‌شود")
    try:
        phone = normalise_phone(raw)
    except InvalidPhone:
        phone = ""
    if not is_mobile(phone):
        raise Open311Error(400, "phone باید شماره همراه ایران باشد، مانند ۰۹۱۲۱۲۳۴۵۶۷")
    return phone


def client_request_id(value: str) -> str:
    """The client's own id for a request (Idempotency-Key): a retry with it gets the same answer."""
    value = value.strip()
    if value and not _CLIENT_ID.fullmatch(value):
        raise Open311Error(400, "Idempotency-Key باید تا ۶۴ نویسه از حروف و ارقام لاتین و . _ : - باشد")
    return value


@dataclass(frozen=True)
class RequestsQuery:
    """GET requests: by tracking codes (which override everything else), or by services, time and status."""

    codes: tuple[str, ...]
    service_codes: tuple[str, ...]
    start: datetime
    end: datetime
    statuses: frozenset[SpecStatus]


def _list(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in _field(params, name).split(",") if v.strip()))


def requests_query(params: Mapping[str, str], now: datetime, service_codes: Collection[str]) -> RequestsQuery:
    """The query's arguments, checked; raises Open311Error(400) naming the wrong one."""
    codes = tuple(to_latin_digits(c) for c in _list(params, "service_request_id"))
    if len(codes) > MAX_RESULTS:
        raise Open311Error(400, f"بیش از {persian_digits(str(MAX_RESULTS))} service_request_id در یک درخواست")
    services = _list(params, "service_code")
    if any(code not in service_codes for code in services):
        raise Open311Error(400, "service_code شناخته نیست؛ فهرست خدمات در services.json است")
    words = _list(params, "status")
    if any(w not in set(SpecStatus) for w in words):
        raise Open311Error(400, "status باید open یا closed باشد")
    start, end = _instant(params, "start_date"), _instant(params, "end_date")
    if start is None:
        end = end or now
        start = end - DEFAULT_SPAN
    elif end is None:
        end = start + DEFAULT_SPAN
    if start > end:
        raise Open311Error(400, "start_date پس از end_date است")
    if end - start > DEFAULT_SPAN:
        raise Open311Error(400, "بازه start_date تا end_date نباید بیش از ۹۰ روز باشد")
    statuses = frozenset(SpecStatus(w) for w in words) or frozenset(SpecStatus)
    return RequestsQuery(codes, services, start, end, statuses)


def _instant(params: Mapping[str, str], name: str) -> datetime | None:
    """A W3C datetime with its time zone (2010-01-01T00:00:00Z, …+03:30); None when not given."""
    text = _field(params, name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(_SPACE_FOR_PLUS.sub(r"+\1", text))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text:
        raise Open311Error(400, f"{name} باید به قالب W3C با منطقه زمانی باشد، مانند 2026-11-01T00:00:00Z")
    return moment
