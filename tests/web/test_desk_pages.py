"""The desk through real HTTP with CSRF on: referral, a unit account's queue and its 404s, sending back,
assignment and «کارهای من», internal notes kept out of the outbox, the review list, the per-unit report."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from sms_gateway.adapters.models import AuditSample, OutboundMessage, Ticket
from sms_gateway.scheduler import run_audit
from sms_gateway.services.staff import create_staff
from tests.web.test_dashboard import PASSWORD, REGION_2, REGION_4, login, post, say


def people(gateway):
    now = gateway.clock()
    create_staff(gateway.sessions, "op", PASSWORD, "operator", None, now)
    create_staff(gateway.sessions, "zahra", PASSWORD, "operator", None, now)
    create_staff(gateway.sessions, "sup", PASSWORD, "supervisor", None, now)
    create_staff(gateway.sessions, "khadamat2", PASSWORD, "unit", 2, now, department="urban_services",
                 city=gateway.city)
    create_staff(gateway.sessions, "omran4", PASSWORD, "unit", 4, now, department="civil_works", city=gateway.city)


def outbox(gateway) -> list[str]:
    with gateway.sessions() as s:
        return list(s.scalars(select(OutboundMessage.text)))


def test_referral_unit_work_and_unit_scoping(app, gateway):
    people(gateway)
    centre, unit = app.test_client(), app.test_client()
    code, other = say(centre, REGION_2), say(centre, REGION_4, "09130000000")
    login(centre, "op")
    page = centre.get(f"/tickets/{code}").get_data(as_text=True)
    assert "ارجاع به واحد" in page and 'value="urban_services:2" selected' in page  # the suggested unit
    response = post(centre, f"/tickets/{code}/refer", {"unit": "urban_services:2", "note": "فوری"}, f"/tickets/{code}")
    assert "به «خدمات شهری منطقه ۲» ارجاع شد" in response.get_data(as_text=True)

    login(unit, "khadamat2")
    queue = unit.get("/tickets").get_data(as_text=True)
    assert code in queue.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")) and "کارتابل خدمات شهری منطقه ۲" in queue
    assert unit.get(f"/tickets/{other}").status_code == 404
    assert unit.get("/tickets/00000000").status_code == 404
    page = unit.get(f"/tickets/{code}").get_data(as_text=True)
    assert "پاسخ به شهروند" not in page and "اصلاح دسته" not in page and "بازگرداندن به مرکز ۱۳۷" in page
    assert post(unit, f"/tickets/{other}/note", {"text": "x"}, f"/tickets/{code}").status_code == 404
    refused = post(unit, f"/tickets/{code}/reply", {"body": "سلام"}, f"/tickets/{code}").get_data(as_text=True)
    assert "کار مرکز ۱۳۷ است" in refused
    done = post(unit, f"/tickets/{code}/status", {"status": "done", "note": "جمع شد"}, f"/tickets/{code}")
    assert "وضعیت تغییر کرد" in done.get_data(as_text=True)
    with app.extensions["sms_gateway"].sessions() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.tracking_code == code)) == "done"


def test_a_unit_sends_back_and_notes_stay_inside(app, gateway):
    people(gateway)
    centre, unit = app.test_client(), app.test_client()
    code = say(centre, REGION_2)
    login(centre, "op")
    post(centre, f"/tickets/{code}/refer", {"unit": "urban_services:2"}, f"/tickets/{code}")
    secret = "یادداشت محرمانه درباره پیمانکار"
    page = post(centre, f"/tickets/{code}/note", {"text": secret}, f"/tickets/{code}").get_data(as_text=True)
    notes = page.split('id="notes"')[1].split("</section>")[0]
    thread = page.split('aria-label="گفتگو و رویدادها"')[1].split("</section>")[0]
    assert secret in notes and secret not in thread
    assert all(secret not in text for text in outbox(gateway))
    login(unit, "khadamat2")
    sent = len(outbox(gateway))
    back = post(unit, f"/tickets/{code}/return", {"reason": "کار فضای سبز است"}, f"/tickets/{code}")
    assert "بازگردانده شد" in back.get_data(as_text=True)
    assert unit.get(f"/tickets/{code}").status_code == 404 and len(outbox(gateway)) == sent
    page = centre.get(f"/tickets/{code}").get_data(as_text=True)
    assert "بازگشت به مرکز ۱۳۷" in page and "کار فضای سبز است" in page


def test_assignment_and_my_work(app, gateway):
    people(gateway)
    centre, zahra = app.test_client(), app.test_client()
    code, other = say(centre, REGION_2), say(centre, REGION_4, "09130000000")
    login(centre, "op")
    page = centre.get(f"/tickets/{code}").get_data(as_text=True)
    assert 'value="zahra"' in page and 'value="omran4"' not in page  # only who can see it
    post(centre, f"/tickets/{code}/assign", {"assignee": "zahra"}, f"/tickets/{code}")
    login(zahra, "zahra")
    mine = zahra.get("/tickets?mine=1").get_data(as_text=True).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    assert code in mine and other not in mine
    everything = zahra.get("/tickets").get_data(as_text=True).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    assert code in everything and other in everything
    assert "ارجاع به همکار" in zahra.get(f"/tickets/{code}").get_data(as_text=True)


def test_staff_page_makes_a_unit_account(app, gateway):
    create_staff(gateway.sessions, "admin", PASSWORD, "admin", None, gateway.clock())
    client = app.test_client()
    login(client, "admin")
    page = post(client, "/staff", {"action": "create", "new_username": "sabz3", "new_password": PASSWORD,
                                   "role": "unit", "department": "urban_services", "region": "3"}, "/staff")
    assert "خدمات شهری منطقه ۳" in page.get_data(as_text=True)
    refused = post(client, "/staff", {"action": "create", "new_username": "x", "new_password": PASSWORD,
                                      "role": "unit", "department": ""}, "/staff")
    assert "اداره" in refused.get_data(as_text=True)


def test_weekly_audit_review_and_per_unit_report(app, gateway, clock):
    people(gateway)
    centre, unit, sup = app.test_client(), app.test_client(), app.test_client()
    codes = [say(centre, REGION_2, f"0912000000{i}") for i in range(5)]
    login(centre, "op")
    login(unit, "khadamat2")
    for code in codes:
        post(centre, f"/tickets/{code}/refer", {"unit": "urban_services:2"}, f"/tickets/{code}")
        post(unit, f"/tickets/{code}/status", {"status": "done", "note": ""}, f"/tickets/{code}")
    clock.advance(days=7)
    assert run_audit(gateway, clock()) == 3 and run_audit(gateway, clock()) == 0  # safe to run twice
    assert unit.get("/review").status_code == 403 and centre.get("/review").status_code == 403
    login(sup, "sup")
    page = sup.get("/review").get_data(as_text=True)
    assert "خدمات شهری منطقه ۲" in page and page.count('name="outcome" value="sound"') == 3
    with gateway.sessions() as s:
        first, second = s.scalars(select(AuditSample.id).order_by(AuditSample.id)).all()[:2]
    post(sup, f"/review/{first}", {"outcome": "sound"}, "/review")
    refused = post(sup, f"/review/{second}", {"outcome": "reopened", "note": ""}, "/review").get_data(as_text=True)
    assert "یادداشت بنویسید" in refused
    post(sup, f"/review/{second}", {"outcome": "reopened", "note": "عکس بعد از کار نیست"}, "/review")
    with gateway.sessions() as s:
        reopened = s.scalar(select(Ticket.status).join(AuditSample, AuditSample.ticket_id == Ticket.id)
                            .where(AuditSample.id == second))
    assert reopened == "reopened"

    report = sup.get("/reports").get_data(as_text=True)
    assert 'id="unit-table"' in report and "خدمات شهری منطقه ۲" in report
    raw = sup.get("/reports/units.csv").data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "واحد" and rows[1][0] == "خدمات شهری منطقه ۲"
    assert rows[1][1] == "۵" and rows[1][8:] == ["۳", "۱", "۱"]


def test_every_desk_action_is_an_event_on_the_ticket_page(app, gateway, clock):
    people(gateway)
    centre, unit, sup = app.test_client(), app.test_client(), app.test_client()
    code = say(centre, REGION_2)
    login(centre, "op")
    login(unit, "khadamat2")
    login(sup, "sup")
    post(centre, f"/tickets/{code}/refer", {"unit": "urban_services"}, f"/tickets/{code}")
    post(centre, f"/tickets/{code}/refer", {"unit": "urban_services:2", "note": "منطقه ۲ است"}, f"/tickets/{code}")
    post(centre, f"/tickets/{code}/assign", {"assignee": "zahra"}, f"/tickets/{code}")
    post(centre, f"/tickets/{code}/note", {"text": "با پیمانکار تماس گرفته شد"}, f"/tickets/{code}")
    post(unit, f"/tickets/{code}/return", {"reason": "کار فضای سبز است"}, f"/tickets/{code}")
    post(centre, f"/tickets/{code}/refer", {"unit": "urban_services:2"}, f"/tickets/{code}")
    post(unit, f"/tickets/{code}/status", {"status": "done", "note": ""}, f"/tickets/{code}")
    clock.advance(days=7)
    run_audit(gateway, clock())
    with gateway.sessions() as s:
        sample = s.scalar(select(AuditSample.id))
    post(sup, f"/review/{sample}", {"outcome": "sound", "note": "خوب بود"}, "/review")
    page = sup.get(f"/tickets/{code}").get_data(as_text=True)
    thread = page.split('aria-label="گفتگو و رویدادها"')[1].split("</section>")[0]
    for label in ("ارجاع به واحد", "ارجاع به همکار", "بازگشت به مرکز ۱۳۷", "نمونه بازبینی", "بازبینی"):
        assert f"<b>{label}</b>" in thread, label
    assert "خدمات شهری منطقه ۲: منطقه ۲ است" in thread and "درست: خوب بود" in thread
    notes = page.split('id="notes"')[1].split("</section>")[0]
    assert "با پیمانکار تماس گرفته شد" in notes and "با پیمانکار" not in thread
