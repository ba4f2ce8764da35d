"""The queue as people open it in Excel: Persian headers, Jalali local times, the citizen's words, every
cell formula-safe; a UTF-8 CSV with a BOM (without one Excel reads it as ANSI) and the same as .xlsx."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from persiantools.jdatetime import JalaliDateTime

from ..domain.staff import Viewer
from ..domain.text import persian_digits
from ..domain.tickets import STAFF_LABELS
from ..domain.values import CHANNEL_LABELS
from . import queue as queue_service
from .context import Context

HEADERS = ["کد رهگیری", "وضعیت", "دسته", "محله", "منطقه", "فوری", "زمان ثبت", "موعد انجام", "زمان بستن",
           "شهروند", "درگاه", "متن پیام"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def formula_safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is kept as text with a '."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def jalali_local(moment: datetime | None, timezone: str) -> str:
    """An aware moment as the city's clock shows it, Jalali, Persian digits: «۱۴۰۵/۰۹/۰۳ ۱۳:۰۰»."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return persian_digits(JalaliDateTime(local).strftime("%Y/%m/%d %H:%M"))


def ticket_rows(ctx: Context, viewer: Viewer, f: queue_service.QueueFilters, now: datetime) -> Iterator[list[str]]:
    """The filtered queue, newest first, one list of cells per ticket (what the viewer may see of it)."""
    zone, cursor = ctx.policy.timezone, ""
    while True:
        page = queue_service.queue(ctx, viewer, f, now, cursor, page_size=1000, summary=False)
        for r in page.rows:
            yield [formula_safe(cell) for cell in _cells(ctx, r, zone)]
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _cells(ctx: Context, r: dict[str, Any], zone: str) -> list[str]:
    region = ctx.city.region_name(r["region"]) or (persian_digits(f"منطقه {r['region']}") if r["region"] else "")
    return [persian_digits(r["code"]), STAFF_LABELS.get(r["status"], r["status"]),
            ctx.city.category_label(r["category"]) if r["category"] else "دسته‌بندی نشده",
            r["neighbourhood"] or "", region, "بله" if r["emergency"] else "",
            jalali_local(r["opened_at"], zone), jalali_local(r["expected_at"], zone),
            jalali_local(r["closed_at"], zone), persian_digits(r["phone"]),
            CHANNEL_LABELS.get(r["channel"], r["channel"]), r["text"]]


def to_csv(rows: Iterator[list[str]]) -> bytes:
    """UTF-8 with a BOM and CRLF line ends, as Excel expects."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterator[list[str]]) -> bytes:
    """One right-to-left sheet, every cell a string (openpyxl would take «=…» for a formula)."""
    from openpyxl import Workbook  # only the export needs it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("درخواست‌ها")
    sheet.sheet_view.rightToLeft = True
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
