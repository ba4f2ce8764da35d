"""The staff dashboard through real HTTP with CSRF on: login, queue, thread, reply, status, corrections,
permissions by role and region, reports and exports."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from sms_gateway.adapters.models import Correction, OutboundMessage, StaffUser, Ticket, TicketEvent
from sms_gateway.scheduler import run_due
from sms_gateway.services.staff import create_staff

PASSWORD = "correct-horse-137"
REGION_4 = "چاله عمیق تو خیابون فین"              # asphalt, فین, region 4
REGION_2 = "زباله ها جمع نشده تو کوی بهارستان"      # garbage, بهارستان, region 2
UNASSIGNED = "زباله ها جمع نشده تو لتحر"          # garbage, لتحر, region unknown


@pytest.fixture
def people(gateway):
    now = gateway.clock()
    for username, role, region in [("admin", "admin", None), ("op2", "operator", 2), ("sup4", "supervisor", 4),
                                   ("op", "operator", None)]:
        create_staff(gateway.sessions, username, PASSWORD, role, region, now)


def say(client, text, sender="09121234567") -> str | None:
    reply = client.post("/webhooks/console/sms", json={"from": sender, "text": text}).get_json()["reply"]
    found = re.search(r"[۰-۹]{8}", reply or "")
    return found.group(0).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")) if found else None


def csrf(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)})


def post(client, path, data, page=None):
    token = csrf(client, page or "/tickets")
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)


def count(gateway, model, *where) -> int:
    with gateway.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


# --- login, sessions, CSRF -----------------------------------------------------------------------

def test_pages_need_a_login(client):
    response = client.get("/tickets")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert 'dir="rtl"' in page and 'lang="fa"' in page and 'name="username"' in page and 'name="password"' in page


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(client, people):
    assert login(client, "admin", "wrong-password").status_code == 401
    response = login(client, "admin")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tickets")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/tickets").status_code == 200
    post(client, "/logout", {})
    assert client.get("/tickets").status_code == 302


def test_failed_logins_are_throttled(client, people):
    for _ in range(3):
        assert login(client, "op2", "nope-nope").status_code == 401
    assert login(client, "op2").status_code == 429
    assert login(client, "admin").status_code == 302  # another account from the same address still works


def test_forms_without_a_valid_csrf_token_are_refused(client, people, gateway):
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    login(client, "admin")
    code = say(client, REGION_4)
    before = count(gateway, OutboundMessage)
    forged = client.post(f"/tickets/{code}/reply", data={"body": "سلام", "csrf_token": "forged"})
    assert forged.status_code == 400 and "فرم" in forged.get_data(as_text=True)
    assert client.post(f"/tickets/{code}/status", data={"status": "referred"}).status_code == 400
    assert count(gateway, OutboundMessage) == before


def test_disabled_staff_cannot_log_in_and_admin_resets_passwords(client, people, gateway):
    login(client, "admin")
    with gateway.sessions() as s:
        op2 = s.scalar(select(StaffUser).where(StaffUser.username == "op2"))
    post(client, "/staff", {"action": "disable", "user_id": op2.id}, page="/staff")
    post(client, "/staff", {"action": "create", "new_username": "op5", "new_password": "short", "role": "operator",
                            "region": "5"}, page="/staff")
    page = post(client, "/staff", {"action": "create", "new_username": "op5", "new_password": "long-enough-5",
                                   "role": "operator", "region": "5"}, page="/staff").get_data(as_text=True)
    assert "op5" in page
    other = client.application.test_client()
    assert login(other, "op2").status_code == 401
    post(client, "/staff", {"action": "enable", "user_id": op2.id}, page="/staff")
    post(client, "/staff", {"action": "reset", "user_id": op2.id, "new_password": "new-pass-137"}, page="/staff")
    assert login(other, "op2", "new-pass-137").status_code == 302
    assert login(client.application.test_client(), "op5", "long-enough-5").status_code == 302


# --- permissions --------------------------------------------------------------------------------

def test_region_staff_see_their_region_and_unassigned_tickets_only(client, people):
    far, near = say(client, REGION_4), say(client, REGION_2, "09130000000")
    nowhere = say(client, UNASSIGNED, "09350000000")
    login(client, "op2")
    queue = client.get("/tickets").get_data(as_text=True)
    fa = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    assert near.translate(fa) in queue and nowhere.translate(fa) in queue and far.translate(fa) not in queue
    assert client.get(f"/tickets/{far}").status_code == 404
    for action, data in [("reply", {"body": "سلام"}), ("status", {"status": "referred"}), ("reveal", {}),
                         ("correct", {"category": "garbage"})]:
        assert post(client, f"/tickets/{far}/{action}", data).status_code == 404
    assert client.get(f"/tickets/{near}").status_code == 200
    for admin_page in ("/staff", "/canned", "/city"):
        assert client.get(admin_page).status_code == 403
    supervisor = client.application.test_client()
    login(supervisor, "sup4")
    assert supervisor.get(f"/tickets/{far}").status_code == 200
    assert supervisor.get(f"/tickets/{near}").status_code == 404


def test_phone_numbers_are_masked_except_for_admins_and_reveals_are_logged(client, people, gateway):
    code = say(client, REGION_4, "09121234567")
    login(client, "op")
    page = client.get(f"/tickets/{code}").get_data(as_text=True)
    assert "۰۹۱۲***۴۵۶۷" in page and "۰۹۱۲۱۲۳۴۵۶۷" not in page
    assert "۰۹۱۲۱۲۳۴۵۶۷" not in client.get("/tickets").get_data(as_text=True)
    revealed = post(client, f"/tickets/{code}/reveal", {}, page=f"/tickets/{code}").get_data(as_text=True)
    assert "۰۹۱۲۱۲۳۴۵۶۷" in revealed
    assert count(gateway, TicketEvent, TicketEvent.action == "phone_revealed", TicketEvent.actor == "op") == 1
    admin = client.application.test_client()
    login(admin, "admin")
    assert "۰۹۱۲۱۲۳۴۵۶۷" in admin.get(f"/tickets/{code}").get_data(as_text=True)


# --- queue --------------------------------------------------------------------------------------

def test_queue_filters_search_and_counts(client, people, gateway, clock):
    a = say(client, REGION_4)
    b = say(client, REGION_2, "09130000000")
    c = say(client, "جوی آب گرفته بوی بدی میده", "09350000000")  # needs_info
    login(client, "admin")
    post(client, f"/tickets/{b}/status", {"status": "done"})
    fa = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

    def codes(query):
        html = client.get(f"/tickets?{query}").get_data(as_text=True)
        return {x for x in (a, b, c) if f">{x.translate(fa)}<" in html}

    assert codes("") == {a, b, c}
    assert codes("status=done") == {b}
    assert codes("status=needs_info") == {c}
    assert codes("category=asphalt") == {a}
    assert codes("region=2") == {b}
    assert codes("region=none") == {c}
    assert codes("neighbourhood=فین") == {a}
    assert codes(f"q={a.translate(fa)}") == {a}
    assert codes("q=۰۹۱۳۰۰۰۰۰۰۰") == {b}
    assert codes("q=12345678") == set()
    clock.advance(days=8)  # asphalt: 168 hours
    assert codes("overdue=1") == {a}
    say(client, "۳۳", "09130000000")
    assert codes("objections=1") == {b}
    counts = client.get("/tickets").get_data(as_text=True)
    assert re.search(r"انجام شد <b>۰</b>", counts) and re.search(r"بازگشایی شده <b>۱</b>", counts)


def test_queue_pages_by_keyset_without_gaps_or_repeats(client, people, gateway, clock):
    for i in range(120):
        clock.advance(minutes=1)
        say(client, f"چاله عمیق تو خیابون فین شماره {i}", f"0912{i:07d}")
    login(client, "admin")
    seen, url = [], "/tickets"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r'href="/tickets/(\d{8})"', html)
        nxt = re.search(r'<p class="more"><a href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    with gateway.sessions() as s:
        expected = list(s.scalars(select(Ticket.tracking_code).order_by(Ticket.opened_at.desc(), Ticket.id.desc())))
    assert seen == expected and len(seen) == 120


# --- a ticket ---------------------------------------------------------------------------------------

def test_reply_status_and_correction_are_recorded_with_the_staff_member(client, people, gateway):
    code = say(client, REGION_4)
    login(client, "op")
    page = post(client, f"/tickets/{code}/reply", {"body": "  گروه عملیاتی فردا اعزام می‌شود.  "},
                page=f"/tickets/{code}").get_data(as_text=True)
    assert "پاسخ ارسال شد" in page and "گروه عملیاتی فردا اعزام می‌شود." in page
    with gateway.sessions() as s:
        reply = s.scalar(select(OutboundMessage).where(OutboundMessage.kind == "staff_reply"))
    assert (reply.status, reply.to_address, reply.segments) == ("sent", "+989121234567", 1)
    assert "خالی" in post(client, f"/tickets/{code}/reply", {"body": "   "}).get_data(as_text=True)
    page = post(client, f"/tickets/{code}/status", {"status": "not_doable", "note": ""}).get_data(as_text=True)
    assert "ممکن نیست" in page
    post(client, f"/tickets/{code}/status", {"status": "referred", "note": "به واحد عمران"})
    post(client, f"/tickets/{code}/correct", {"category": "drainage", "neighbourhood": "طاهرآباد"})
    assert "ناشناخته" in post(client, f"/tickets/{code}/correct", {"category": "nonsense"}).get_data(as_text=True)
    with gateway.sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.tracking_code == code))
        events = s.execute(select(TicketEvent.actor, TicketEvent.action).where(TicketEvent.ticket_id == t.id)
                           .order_by(TicketEvent.id)).all()
        corrections = s.execute(select(Correction.field, Correction.old_value, Correction.new_value, Correction.staff)
                                .order_by(Correction.id)).all()
    assert (t.status, t.category, t.neighbourhood, t.region) == ("referred", "drainage", "طاهرآباد", 5)
    assert ("op", "reply") in events and ("op", "status") in events and ("op", "corrected") in events
    assert corrections == [("category", "asphalt", "drainage", "op"), ("neighbourhood", "فین", "طاهرآباد", "op")]


def test_thread_shows_messages_delivery_status_and_escapes_citizen_text(client, people, gateway):
    code = say(client, "<script>alert('x')</script> چاله عمیق تو خیابون فین")
    login(client, "admin")
    page = client.get(f"/tickets/{code}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "ارسال شد" in page and 'name="body"' in page and 'name="status"' in page and 'name="note"' in page
    assert client.get("/tickets/99999999").status_code == 404


def test_linked_duplicates_are_shown_both_ways(client, people):
    first = say(client, "زباله ها جمع نشده تو طاهرآباد")
    second = say(client, "کیسه های آشغال سه روزه مونده سر کوچه طاهرآباد", "09130000000")
    login(client, "admin")
    fa = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    assert second.translate(fa) in client.get(f"/tickets/{first}").get_data(as_text=True)
    assert first.translate(fa) in client.get(f"/tickets/{second}").get_data(as_text=True)


def test_canned_responses_are_seeded_and_editable_by_admins(client, people):
    code = say(client, REGION_4)
    login(client, "admin")
    assert "نشانی دقیق‌تر" in client.get(f"/tickets/{code}").get_data(as_text=True)
    post(client, "/canned", {"title": "تشکر", "body": "از گزارش شما سپاسگزاریم."}, page="/canned")
    assert "از گزارش شما سپاسگزاریم." in client.get(f"/tickets/{code}").get_data(as_text=True)


# --- reports, exports, health ------------------------------------------------------------------------

def test_region_report_for_a_jalali_range_and_its_csv(client, people, gateway, clock):
    a = say(client, REGION_4)
    say(client, REGION_2, "09130000000")
    say(client, UNASSIGNED, "09350000000")
    login(client, "admin")
    post(client, f"/tickets/{a}/status", {"status": "done"})
    page = client.get("/reports?from=۱۴۰۵/۰۹/۰۱&to=1405-09-30").get_data(as_text=True)
    table = page[page.index('id="region-table"'):page.index("</table>", page.index('id="region-table"'))]
    assert re.search(r"منطقه ۴</th>\s*<td>۱</td><td>۱</td><td>۰</td><td>۰</td>", table)
    assert re.search(r"منطقه ۲</th>\s*<td>۱</td><td>۰</td><td>۰</td><td>۱</td>", table)
    assert re.search(r"منطقه ۳</th>\s*<td>۰</td>", table)  # a region with no request still has its row
    assert re.search(r"جمع</th>\s*<td>۳</td><td>۱</td><td>۰</td><td>۲</td>", table)
    exported = client.get("/reports.csv?from=1405/09/01&to=1405/09/30").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["region", "received", "done", "not_doable", "in_progress"]
    assert ["4", "1", "1", "0", "0"] in rows and ["unknown", "1", "0", "0", "1"] in rows and rows[-1][0] == "total"
    earlier = client.get("/reports.csv?from=1405/08/01&to=1405/08/30").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(earlier)))[-1] == ["total", "0", "0", "0", "0"]
    assert "تاریخ نادرست" in client.get("/reports?from=1405/13/40").get_data(as_text=True)
    assert client.get("/reports.csv?from=yesterday").status_code == 400


def test_tickets_csv_export_follows_the_filters_and_masks_for_operators(client, people):
    say(client, REGION_4, "09121234567")
    say(client, REGION_2, "09130000000")
    login(client, "op")
    rows = list(csv.reader(io.StringIO(client.get("/tickets.csv?category=asphalt").get_data().decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2] == "آسفالت و چاله" and rows[1][rows[0].index("شهروند")] == "۰۹۱۲***۴۵۶۷"


def test_healthz_reports_database_and_scheduler(client, gateway):
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok" and body["scheduler_last_run"] is None
    run_due(gateway, gateway.clock())
    assert client.get("/healthz").get_json()["scheduler_last_run"] == gateway.clock().isoformat()


def test_security_headers_and_no_external_assets(client, people):
    login(client, "admin")
    response = client.get("/tickets")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "same-origin"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    font = client.get("/static/fonts/Vazirmatn-Regular.woff2")
    assert font.status_code == 200 and font.get_data()[:4] == b"wOF2"
    font.close()


def test_admin_pages_render_for_admins(client, people):
    login(client, "admin")
    assert client.get("/").headers["Location"].endswith("/tickets")
    city = client.get("/city").get_data(as_text=True)
    assert "طاهرآباد" in city and "جمع‌آوری زباله" in city and "۲۴" in city
    assert "نشانی دقیق‌تر" in client.get("/canned").get_data(as_text=True)
    assert "op2" in client.get("/staff").get_data(as_text=True)


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(settings, clock, gateway):
    from sms_gateway.web import create_app

    app = create_app(settings.replace(proxy_hops=1), clock=clock)
    create_staff(app.extensions["sms_gateway"].sessions, "proxied", PASSWORD, "operator", None, clock())
    client = app.test_client()
    for _ in range(3):  # failures from one address slow that name down from that address, not the proxy's
        client.post("/login", data={"username": "proxied", "password": "nope-nope", "csrf_token": csrf(client)},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    token = csrf(client)
    locked = client.post("/login", data={"username": "proxied", "password": PASSWORD, "csrf_token": token},
                         headers={"X-Forwarded-For": "203.0.113.7"})
    other = client.post("/login", data={"username": "proxied", "password": PASSWORD, "csrf_token": token},
                        headers={"X-Forwarded-For": "198.51.100.9"})
    assert locked.status_code == 429 and other.status_code == 302
    app.extensions["sms_gateway"].engine.dispose()


def test_corrections_become_labelled_examples_for_evaluate(client, people, gateway):
    from sms_gateway.services.corrections import corrected_examples
    from sms_gateway.understanding.evaluate import score

    code = say(client, "آب کوچه رو گرفته بوی بدی میده تو فین")
    login(client, "op")
    post(client, f"/tickets/{code}/correct", {"category": "drainage", "neighbourhood": "ماداب"})
    [row] = corrected_examples(gateway.sessions)
    assert row["text"] == "آب کوچه رو گرفته بوی بدی میده تو فین"
    assert (row["intent"], row["category"], row["neighbourhood"]) == ("report", "drainage", "ماداب")
    scores = score([row], gateway.ctx.classifier)
    assert scores.total["neighbourhood"] == 1 and scores.right["neighbourhood"] == 0  # the classifier said فین
