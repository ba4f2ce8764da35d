"""Issue 16's done-when in Debian's chromium: an SMS comes in through the console webhook, the 137 operator
refers it to a unit and writes an internal note, the unit's account (logged in apart) marks it done with
a note and the citizen's outcome SMS is in the outbox; the unit gets 404 for another unit's ticket; the
internal note is never in the outbox. Screenshots of each new view go to /tmp/desk-screens/."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage, Ticket
from sms_gateway.scheduler import run_audit
from sms_gateway.services.staff import create_staff
from tests.browser.helpers import say

SCREENS = Path("/tmp/desk-screens")
LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
SECRET_NOTE = "یادداشت داخلی: پیمانکار منطقه ۲ دیروز نیامد"


def log_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fa-IR")
    page = context.new_page()
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else external.append(r.url))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "kashan-137-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets$"))
    return page, external


def outbox(gateway) -> list[OutboundMessage]:
    with gateway.sessions() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_an_sms_from_referral_to_the_unit_marking_it_done(live_server, browser, gateway, clock):
    SCREENS.mkdir(parents=True, exist_ok=True)
    now = gateway.clock()
    create_staff(gateway.sessions, "op137", "kashan-137-pass", "operator", None, now)
    create_staff(gateway.sessions, "sup", "kashan-137-pass", "supervisor", None, now)
    create_staff(gateway.sessions, "khadamat2", "kashan-137-pass", "unit", 2, now, department="urban_services",
                 city=gateway.city)
    code = say(live_server, "زباله ها جمع نشده تو کوی بهارستان بو گرفته").translate(LATIN)
    other = say(live_server, "چاله عمیق تو خیابون فین", "09130000000").translate(LATIN)

    operator, operator_external = log_in(browser, live_server, "op137")
    operator.goto(f"{live_server}/tickets/{other}")
    operator.select_option("#refer select[name=unit]", "civil_works:4")
    operator.click("#refer button[type=submit]")
    operator.wait_for_selector("text=ارجاع شد")

    operator.goto(f"{live_server}/tickets/{code}")
    assert operator.input_value("#refer select[name=unit]") == "urban_services:2"  # the suggested unit
    operator.fill("#refer textarea[name=note]", "بوی بد؛ امروز بررسی شود")
    operator.click("#refer button[type=submit]")
    operator.wait_for_selector("text=به «خدمات شهری منطقه ۲» ارجاع شد")
    assert operator.locator(".head .badge").inner_text() == "ارجاع به واحد مربوط"
    assert "خدمات شهری منطقه ۲" in operator.locator("#unit").inner_text()
    operator.fill("#notes textarea[name=text]", SECRET_NOTE)
    operator.click("text=ثبت یادداشت داخلی")
    operator.wait_for_selector("text=یادداشت داخلی ثبت شد")
    assert operator.locator("#notes li").count() == 1
    assert operator.locator(".thread", has_text="پیمانکار").count() == 0
    operator.screenshot(path=str(SCREENS / "ticket-with-referral-and-notes.png"), full_page=True)

    unit, unit_external = log_in(browser, live_server, "khadamat2")
    assert unit.locator("table.queue tbody tr").count() == 1
    assert "کارتابل خدمات شهری منطقه ۲" in unit.locator("h1.unit-head").inner_text()
    unit.screenshot(path=str(SCREENS / "unit-queue.png"), full_page=True)
    assert unit.goto(f"{live_server}/tickets/{other}").status == 404
    unit.goto(f"{live_server}/tickets")
    unit.click("table.queue a.code")
    unit.wait_for_url(f"{live_server}/tickets/{code}")
    assert unit.locator("text=پاسخ به شهروند").count() == 0
    assert unit.locator("#notes li", has_text="پیمانکار").count() == 1  # the unit reads the centre's notes
    unit.select_option("select[name=status]", "done")
    unit.fill("textarea[name=note]", "زباله‌ها جمع‌آوری و محل شست‌وشو شد")
    unit.click("text=ثبت وضعیت")
    unit.wait_for_selector("text=وضعیت تغییر کرد")
    assert unit.locator(".head .badge").inner_text() == "انجام شد"

    sent = outbox(gateway)
    outcome = [m for m in sent if m.kind == "done"]
    assert len(outcome) == 1 and outcome[0].to_address == "+989121234567"
    assert code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in outcome[0].text
    assert all("پیمانکار" not in m.text for m in sent)
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.unit).where(Ticket.tracking_code == code)) == "urban_services:2"

    clock.advance(days=7)
    assert run_audit(gateway, clock()) == 1
    supervisor, supervisor_external = log_in(browser, live_server, "sup")
    supervisor.click("nav >> text=بازبینی")
    supervisor.wait_for_url(re.compile(r".*/review$"))
    assert supervisor.locator("#review-table tbody tr").count() == 1
    supervisor.screenshot(path=str(SCREENS / "review-list.png"), full_page=True)
    supervisor.fill("#review-table input[name=note]", "عکس پس از کار در پرونده هست")
    supervisor.click("#review-table button[value=sound]")
    supervisor.wait_for_selector("text=بازبینی ثبت شد")

    supervisor.click("nav >> text=گزارش‌ها")
    supervisor.wait_for_url(re.compile(r".*/reports$"))
    row = supervisor.locator("#unit-table tr", has_text="خدمات شهری منطقه ۲")
    cells = [row.locator("td").nth(i).inner_text() for i in range(9)]
    assert cells[0] == "۱" and cells[1] == "۱" and cells[2].startswith("۱") and cells[7:] == ["۱", "۰"]
    supervisor.locator("#unit-table").scroll_into_view_if_needed()
    supervisor.screenshot(path=str(SCREENS / "per-unit-report.png"), full_page=True)
    assert operator_external == unit_external == supervisor_external == []
