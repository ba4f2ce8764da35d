"""The citizen web page in Debian's chromium driven by Playwright, at a phone's width: a citizen writes a
report on /report, reads the one-time code the outbox handed the SMS panel, types it, gets a tracking code
(a ticket of channel web, in the staff queue) and reads its state on /status with that code and number; a
wrong number reads as not found. Screenshots under tests/artifacts/."""
from __future__ import annotations

import re

from playwright import sync_api
from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage, Ticket
from tests.browser.helpers import ARTIFACTS, LATIN
from tests.support import set_status


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_citizen_reports_on_the_web_confirms_by_sms_code_and_follows_it(live_server, browser, gateway, clock):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fa-IR")
    external, dialogs = [], []
    page.on("request", lambda r: None if r.url.startswith(live_server) else external.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(f"{live_server}/report")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "fa" and fits_the_screen(page)
    page.fill("textarea[name=text]", "چند روز است چراغ‌های کوچه خاموش است و شب‌ها تاریک است")
    page.fill("input[name=place]", "فین")
    page.fill("input[name=phone]", "۰۹۱۲۱۲۳۴۵۶۷")
    page.screenshot(path=str(ARTIFACTS / "web-report-phone.png"), full_page=True)
    page.click("text=دریافت کد تأیید")
    page.wait_for_selector("#confirm-form")
    assert "۰۹۱۲***۴۵۶۷" in page.inner_text("main") and fits_the_screen(page)

    to, text = gateway.providers["console"].sent[-1]  # what the outbox handed the SMS panel
    code = re.search(r"کد تأیید ([۰-۹]{6})", text).group(1)
    with gateway.sessions() as s:
        stored = s.scalar(select(OutboundMessage.text).where(OutboundMessage.kind == "verification_code"))
    assert to == "+989121234567" and code not in stored

    page.fill("input[name=code]", "۰۰۰۰۰۰" if code != "۰۰۰۰۰۰" else "۱۱۱۱۱۱")
    page.click("button[type=submit]")
    page.wait_for_selector("#error")
    assert "کد نادرست است" in page.inner_text("#error")
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_selector("#tracking-code")
    tracking_fa = page.inner_text("#tracking-code")
    tracking = tracking_fa.translate(LATIN)
    page.screenshot(path=str(ARTIFACTS / "web-filed-phone.png"), full_page=True)
    with gateway.sessions() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.tracking_code == tracking))
        acks = s.scalars(select(OutboundMessage.text).where(OutboundMessage.kind == "ack")).all()
    assert (ticket.channel, ticket.category, ticket.neighbourhood) == ("web", "street_lighting", "فین")
    assert len(acks) == 1 and tracking_fa in acks[0]

    clock.advance(hours=2)
    set_status(gateway, tracking, "in_progress")
    page.click("text=صفحه پیگیری")
    page.wait_for_selector("#status-form")
    page.fill("input[name=code]", tracking_fa)
    page.fill("input[name=phone]", "09121234567")
    page.click("text=نمایش وضعیت")
    page.wait_for_selector("#status-result")
    assert page.inner_text("#state") == "در حال انجام" and "۱۴۰۵/۰۹/۰۳" in page.inner_text("#status-result")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "web-status-phone.png"), full_page=True)

    page.fill("input[name=code]", tracking_fa)
    page.fill("input[name=phone]", "09351112233")
    page.click("text=نمایش وضعیت")
    page.wait_for_selector("#not-found")
    assert page.locator("#status-result").count() == 0

    assert dialogs == [] and external == []


def test_an_operator_types_in_a_call_and_finds_it_in_the_queue_by_channel(live_server, browser, gateway):
    from sms_gateway.services.staff import create_staff

    create_staff(gateway.sessions, "operator1", "kashan-137-pass", "operator", None, gateway.clock())
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fa-IR")
    external = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else external.append(r.url))
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "operator1")
    page.fill("input[name=password]", "kashan-137-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets$"))
    page.click("text=ثبت تماس تلفنی")
    page.wait_for_url(re.compile(r".*/calls/new$"))
    page.fill("input[name=phone]", "09131112233")
    page.fill("textarea[name=text]", "تماس گرفت گفت سه روزه زباله های کوچه شون تو فین رو نبردن")
    sync_api.expect(page.locator("select[name=category]")).to_have_value("garbage")  # filled as it was typed
    sync_api.expect(page.locator("input[name=neighbourhood]")).to_have_value("فین")
    page.click("text=خواندن متن")
    page.wait_for_selector("#call-draft")
    assert page.locator("select[name=category]").input_value() == "garbage"
    assert page.locator("input[name=neighbourhood]").input_value() == "فین"
    page.select_option("select[name=category]", "street_cleaning")  # the operator knows better
    page.screenshot(path=str(ARTIFACTS / "call-preview.png"), full_page=True)
    page.click("text=ثبت درخواست")
    page.wait_for_selector("text=تماس ثبت شد")
    assert page.locator(".head .channel").inner_text().endswith("تلفن")
    code = page.url.rsplit("/", 1)[1]
    with gateway.sessions() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.tracking_code == code))
    assert (ticket.channel, ticket.category, ticket.neighbourhood) == ("phone", "street_cleaning", "فین")
    assert gateway.providers["console"].sent[-1][0] == "+989131112233"

    page.goto(f"{live_server}/tickets")
    page.select_option("select[name=channel]", "phone")  # the filters submit themselves
    page.wait_for_url(re.compile(r".*channel=phone.*"))
    assert page.locator("table.queue tbody tr").count() == 1

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/calls/new")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "call-phone.png"), full_page=True)
    assert external == []
