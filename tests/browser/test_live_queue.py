"""The live queue in Debian's chromium driven by Playwright: a citizen's SMS through the console webhook
appears in an open queue page without a reload, unread until the staff member opens it; an emergency is
pinned on top until someone takes it; two tickets are closed at once. Screenshots of each new view go to
/tmp/queue-screens/."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from sms_gateway.adapters.models import Ticket
from sms_gateway.services.staff import create_staff
from tests.browser.helpers import say

SCREENS = Path("/tmp/queue-screens")
TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
EMERGENCY = "آتیش گرفته انبار چوب نزدیک میدان قطب!!! زود بیایید"


def test_live_queue_unread_pinned_and_bulk_close(live_server, browser, gateway, clock):
    SCREENS.mkdir(exist_ok=True)
    create_staff(gateway.sessions, "operator1", "kashan-137-pass", "operator", None, gateway.clock())
    first = say(live_server, "چاله عمیق تو خیابون فین", "09130000000").translate(TO_LATIN)

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fa-IR")
    external, dialogs = [], []
    page.on("request", lambda r: None if r.url.startswith(live_server) else external.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "operator1")
    page.fill("input[name=password]", "kashan-137-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets$"))
    assert page.locator("tbody.rows tr").count() == 1
    loaded = page.evaluate("performance.timeOrigin")

    # a new SMS arrives while the page is open: the 10-second poll brings it in, unread
    code = say(live_server, "سلام، سه روزه زباله های کوچه ما تو طاهرآباد رو نبردن بو گرفته").translate(TO_LATIN)
    row = page.locator(f'tbody.rows tr[data-code="{code}"]')
    row.wait_for(timeout=15_000)
    assert page.evaluate("performance.timeOrigin") == loaded  # the same page: no reload
    assert row.locator(".unread-mark").count() == 1 and "fresh" in row.get_attribute("class")
    assert page.locator("#live-note").inner_text().startswith("۱ ")
    page.screenshot(path=str(SCREENS / "queue-live-new-row.png"), full_page=True)

    # opening it clears this staff member's marker
    row.locator("a.code").click()
    page.wait_for_url(f"{live_server}/tickets/{code}")
    page.goto(f"{live_server}/tickets")
    assert page.locator(f'tr[data-code="{code}"] .unread-mark').count() == 0
    assert page.locator(f'tr[data-code="{first}"] .unread-mark').count() == 1

    # an emergency is pinned on top, above newer tickets, until someone takes it
    urgent = say(live_server, EMERGENCY, "09350000000").translate(TO_LATIN)
    page.evaluate("window.smsLiveQueue.poll()")
    pinned = page.locator(f'tbody.pinned tr[data-code="{urgent}"]')
    pinned.wait_for(timeout=5_000)
    assert "منتظر برداشتن" in pinned.inner_text()
    page.reload()
    assert page.locator("tbody.pinned tr").count() == 1 and page.locator("tbody.rows tr").count() == 2
    page.screenshot(path=str(SCREENS / "queue-emergency-pinned.png"), full_page=True)
    page.click("tbody.pinned a.code")
    page.select_option("select[name=status]", "in_progress")
    page.click("text=ثبت وضعیت")
    page.wait_for_selector("text=وضعیت تغییر کرد")
    page.screenshot(path=str(SCREENS / "ticket-merge-form.png"), full_page=True)
    page.goto(f"{live_server}/tickets")
    assert page.locator("tbody.pinned tr").count() == 0
    assert page.locator(f'tbody.rows tr[data-code="{urgent}"]').count() == 1

    # bulk close of two tickets with one reason
    page.check(f'input[name=codes][value="{first}"]')
    page.check(f'input[name=codes][value="{code}"]')
    page.select_option("#bulk select[name=status]", "done")
    page.screenshot(path=str(SCREENS / "queue-bulk-selected.png"), full_page=True)
    page.click("#bulk button[value=close]")
    page.wait_for_selector("text=۲ درخواست: انجام شد")
    with gateway.sessions() as s:
        statuses = dict(s.execute(select(Ticket.tracking_code, Ticket.status)).all())
    assert statuses[first] == statuses[code] == "done" and statuses[urgent] == "in_progress"
    page.screenshot(path=str(SCREENS / "queue-after-bulk-close.png"), full_page=True)

    # the overdue view: due date and days late, most late first
    clock.advance(days=9)
    page.goto(f"{live_server}/tickets?overdue=1")
    assert page.locator("tbody.rows tr").count() == 1 and page.locator("td.late").first.inner_text().endswith("روز")
    page.screenshot(path=str(SCREENS / "queue-overdue.png"), full_page=True)

    page.goto(f"{live_server}/reports")
    page.click("text=نیمه دوم ۱۴۰۵")
    page.wait_for_url(re.compile(r".*from=.*"))
    assert "۱۴۰۵/۰۷/۰۱ تا ۱۴۰۵/۱۲/۲۹" in page.locator("h1").inner_text()
    page.screenshot(path=str(SCREENS / "reports-half-year.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/tickets")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(SCREENS / "queue-phone.png"), full_page=True)

    assert dialogs == [] and external == []
