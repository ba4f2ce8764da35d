"""The real flow in Debian's chromium driven by Playwright: a citizen's SMS arrives through the webhook, a
staff member logs in, finds it, replies, changes its status and opens the report. Screenshots of the
queue, the ticket and the report are saved under tests/artifacts/ to be looked at."""
from __future__ import annotations

import re

from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage, Ticket
from sms_gateway.services.staff import create_staff
from tests.browser.helpers import ARTIFACTS, say

FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def test_staff_flow_from_webhook_to_report(live_server, browser, gateway):
    ARTIFACTS.mkdir(exist_ok=True)
    create_staff(gateway.sessions, "operator1", "kashan-137-pass", "operator", None, gateway.clock())
    code_fa = say(live_server, "سلام، سه روزه زباله های کوچه ما تو طاهرآباد رو نبردن بو گرفته")
    say(live_server, "چاله عمیق تو خیابون فین", "09130000000")
    say(live_server, "<img src=x onerror=alert(1)> جوب گرفته تو لتحر", "09350000000")
    code = code_fa.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fa-IR")
    external, dialogs = [], []
    page.on("request", lambda r: None if r.url.startswith(live_server) else external.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(f"{live_server}/tickets")
    assert page.url.startswith(f"{live_server}/login")
    page.fill("input[name=username]", "operator1")
    page.fill("input[name=password]", "kashan-137-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets$"))
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "fa"
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    assert page.locator("table.queue tbody tr").count() == 3
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)

    page.fill("input[name=q]", code_fa)
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r".*q=.*"))
    assert page.locator("table.queue tbody tr").count() == 1
    page.click(f"text={code_fa}")
    page.wait_for_url(f"{live_server}/tickets/{code}")
    assert page.locator(".badge").first.inner_text() == "ثبت شده"

    answer = "سلام، گروه خدمات شهری امروز برای جمع‌آوری اعزام می‌شود. سپاس از گزارش شما."
    page.fill("textarea[name=body]", answer)
    assert page.locator("#reply-count").inner_text().startswith(f"{len(answer)}".translate(FA))
    assert "۲ پیامک" in page.locator("#reply-count").inner_text()
    page.click("text=ارسال پیامک")
    page.wait_for_selector("text=پاسخ ارسال شد")
    assert page.locator(".msg.out .bubble", has_text="گروه خدمات شهری").count() == 1
    with gateway.sessions() as s:
        sent = s.scalar(select(OutboundMessage).where(OutboundMessage.kind == "staff_reply"))
        assert sent.text == answer and sent.to_address == "+989121234567" and sent.segments == 2

    page.select_option("select[name=status]", "referred")
    page.fill("textarea[name=note]", "به واحد خدمات شهری منطقه ۵")
    page.click("text=ثبت وضعیت")
    page.wait_for_selector("text=وضعیت تغییر کرد")
    assert page.locator(".head .badge").inner_text() == "ارجاع به واحد مربوط"
    page.screenshot(path=str(ARTIFACTS / "ticket.png"), full_page=True)
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.tracking_code == code)) == "referred"

    page.goto(f"{live_server}/tickets?neighbourhood=لتحر")
    page.click("table.queue a.code")
    assert page.locator(".msg.in .bubble").first.inner_text().startswith("<img src=x onerror=alert(1)>")

    page.click("text=گزارش‌ها")
    page.wait_for_url(re.compile(r".*/reports$"))
    region_5 = page.locator("#region-table tr", has_text="منطقه ۵")
    assert region_5.locator("td").nth(0).inner_text() == "۱"
    total = page.locator("#region-table tr.total td")
    assert [total.nth(i).inner_text() for i in range(4)] == ["۳", "۰", "۰", "۳"]
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/tickets")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(ARTIFACTS / "queue-phone.png"))

    assert dialogs == [] and external == []
