"""Issue 16 part B through the dashboard: the Excel exports and the triage filter."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from sms_gateway.services.exports import HEADERS, formula_safe
from tests.web.test_dashboard import REGION_2, REGION_4, login, people, say  # noqa: F401 (fixture)

FORMULA = "=HYPERLINK(\"http://evil.example\") چاله عمیق تو خیابون فین"


def test_formula_safe_prefixes_what_a_spreadsheet_would_run():
    for text in ("=1+1", "+98912", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert formula_safe(text) == "'" + text
    assert formula_safe("چاله") == "چاله" and formula_safe("") == ""


def test_tickets_csv_opens_as_persian_in_excel(client, people):  # noqa: F811
    say(client, REGION_4, "09121234567")
    say(client, REGION_2, "09130000000")
    say(client, FORMULA, "09350000000")
    login(client, "op")
    response = client.get("/tickets.csv")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and "charset=utf-8" in response.headers["Content-Type"]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and rows[0][0] == "کد رهگیری" and len(rows) == 4
    by_text = {r[-1]: r for r in rows[1:]}
    fin = by_text[REGION_4]
    assert fin[1] == "ثبت شده" and fin[3] == "فین" and fin[4] == "منطقه ۴"
    assert fin[6] == "۱۴۰۵/۰۹/۰۳ ۱۳:۰۰"  # 09:30 UTC is 13:00 in Tehran, 3 Azar 1405
    assert fin[9] == "۰۹۱۲***۴۵۶۷" and fin[0].isdigit() and fin[0][0] in "۰۱۲۳۴۵۶۷۸۹"
    assert "'" + FORMULA in by_text
    only = list(csv.reader(io.StringIO(client.get("/tickets.csv?category=asphalt").get_data().decode("utf-8-sig"))))
    assert len(only) == 3 and {r[2] for r in only[1:]} == {"آسفالت و چاله"}


def test_tickets_xlsx_reads_back_with_persian_headers_and_text(client, people):  # noqa: F811
    say(client, REGION_4, "09121234567")
    say(client, FORMULA, "09350000000")
    login(client, "admin")
    response = client.get("/tickets.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert sheet.sheet_view.rightToLeft
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADERS and len(rows) == 3
    texts = [r[-1] for r in rows[1:]]
    assert REGION_4 in texts and "'" + FORMULA in texts
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)


def test_uncategorised_filter_and_label(client, people, gateway):  # noqa: F811
    say(client, REGION_4, "09121234567")
    say(client, "سلام تو فین یه مشکلی هست", "09130000000")
    login(client, "admin")
    from sqlalchemy import select

    from sms_gateway.adapters.models import Ticket
    with gateway.sessions() as s:
        none = s.scalars(select(Ticket.tracking_code).where(Ticket.category.is_(None))).all()
    page = client.get("/tickets?uncategorised=1").get_data(as_text=True)
    assert page.count('class="code"') == len(none) >= 1
    assert "دسته‌بندی نشده</span>" in page


def test_jalali_half_years_are_one_click(client, people, clock):  # noqa: F811
    from datetime import date

    from sms_gateway.services.reports import half_years
    assert half_years(date(2026, 11, 24)) == [("نیمه دوم 1405", "1405/07/01", "1405/12/29"),
                                              ("نیمه نخست 1405", "1405/01/01", "1405/06/31"),
                                              ("نیمه دوم 1404", "1404/07/01", "1404/12/29")]
    assert half_years(date(2025, 3, 20))[0] == ("نیمه دوم 1403", "1403/07/01", "1403/12/30")  # a leap Esfand
    say(client, REGION_4)
    login(client, "admin")
    page = client.get("/reports").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">نیمه دوم ۱۴۰۵</a>', page).group(1).replace("&amp;", "&")
    half = client.get(link).get_data(as_text=True)
    assert "۱۴۰۵/۰۷/۰۱ تا ۱۴۰۵/۱۲/۲۹" in half and 'class="chip on"' in half
    table = half[half.index('id="region-table"'):]
    assert re.search(r"منطقه ۴</th>\s*<td>۱</td>", table)
