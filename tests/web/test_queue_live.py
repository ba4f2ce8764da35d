"""Issue 16 part B, the live queue: the poll, unread per staff member, emergencies pinned until taken, the
overdue view; bulk close and merge, through the dashboard and the services."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from sms_gateway.adapters.models import OutboundMessage, Ticket, TicketEvent
from sms_gateway.domain.tickets import AWAITING_CITY
from sms_gateway.services import bulk
from sms_gateway.services.tickets import Refused
from tests.web.test_dashboard import REGION_2, REGION_4, UNASSIGNED, login, people, post, say  # noqa: F401 (fixture)

EMERGENCY = "آتیش گرفته انبار چوب نزدیک میدان قطب!!! زود بیایید"
ANOTHER_FIN = "یه چاله بزرگ وسط کوچه تو فین هست"


def _codes(html: str, tbody: str) -> list[str]:
    part = html[html.index(f'<tbody class="{tbody}"'):]
    part = part[:part.index("</tbody>")]
    return re.findall(r'data-code="(\d+)"', part)


def _live(client, since: str, query: str = "") -> dict:
    return client.get(f"/tickets/live?since={since}{query}").get_json()


def _since(html: str) -> str:
    return re.search(r'data-since="([^"]+)"', html).group(1).replace("+", "%2B")


def test_the_index_predicate_names_the_statuses_awaiting_the_city():
    from sms_gateway.adapters.models import AWAITING
    assert set(re.findall(r"'(\w+)'", str(AWAITING))) == set(AWAITING_CITY)


def test_a_new_message_reaches_an_open_page_through_the_poll(client, people, clock):  # noqa: F811
    first = say(client, REGION_4)
    login(client, "admin")
    html = client.get("/tickets").get_data(as_text=True)
    since = _since(html)
    clock.advance(minutes=5)
    assert [r["code"] for r in _live(client, since)["rows"]] == [first]  # within the slack: sent again
    idle = _live(client, _live(client, since)["mark"].replace("+", "%2B"))
    assert idle["rows"] == []  # nothing written since: nothing to send
    code = say(client, REGION_2, "09130000000")
    answer = _live(client, idle["mark"].replace("+", "%2B"))
    assert [r["code"] for r in answer["rows"]] == [code] and "پیام تازه" in answer["rows"][0]["html"]
    assert f'data-code="{code}"' in answer["rows"][0]["html"] and answer["mark"] >= idle["mark"]
    # the citizen of the first ticket writes again: that row comes back too, unread
    client.get(f"/tickets/{first}")
    clock.advance(minutes=1)
    say(client, "هنوز کسی نیومده چاله رو درست کنه", "09121234567")
    again = _live(client, answer["mark"].replace("+", "%2B"))
    assert first in [r["code"] for r in again["rows"]]
    assert "unread-mark" in next(r["html"] for r in again["rows"] if r["code"] == first)
    # a filtered view only hears of its own tickets
    assert _live(client, since, "&region=4")["rows"][0]["code"] == first
    assert all(r["code"] != code for r in _live(client, since, "&region=4")["rows"])


def test_unread_is_per_staff_member(client, people, gateway, clock):  # noqa: F811
    code = say(client, REGION_4)
    login(client, "admin")
    assert "unread-mark" in client.get("/tickets").get_data(as_text=True)
    client.get(f"/tickets/{code}")
    page = client.get("/tickets").get_data(as_text=True)
    assert "unread-mark" not in page and code not in _codes(client.get("/tickets?unread=1").get_data(as_text=True),
                                                              "rows")
    second = client.application.test_client()
    login(second, "op")
    assert code in _codes(second.get("/tickets?unread=1").get_data(as_text=True), "rows")
    clock.advance(minutes=3)
    say(client, "هنوز کسی نیومده چاله رو درست کنه", "09121234567")
    login(client, "admin")
    assert code in _codes(client.get("/tickets?unread=1").get_data(as_text=True), "rows")


def test_an_emergency_stays_pinned_until_someone_takes_it(client, people, gateway, clock):  # noqa: F811
    urgent = say(client, EMERGENCY)
    clock.advance(minutes=1)
    for n in range(3):
        say(client, REGION_4, f"0912000000{n}")
    login(client, "admin")
    html = client.get("/tickets").get_data(as_text=True)
    assert _codes(html, "pinned") == [urgent] and urgent not in _codes(html, "rows")
    assert "منتظر برداشتن" in html
    assert _codes(client.get("/tickets?region=2").get_data(as_text=True), "pinned") == [urgent]
    post(client, f"/tickets/{urgent}/reply", {"body": "گروه آتش‌نشانی در راه است."})
    html = client.get("/tickets").get_data(as_text=True)
    assert _codes(html, "pinned") == [] and urgent in _codes(html, "rows")
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.taken_at).where(Ticket.tracking_code == urgent)) == clock.now


def test_a_status_change_takes_an_emergency_too(client, people):  # noqa: F811
    urgent = say(client, EMERGENCY)
    login(client, "admin")
    post(client, f"/tickets/{urgent}/status", {"status": "in_progress"})
    assert _codes(client.get("/tickets").get_data(as_text=True), "pinned") == []


def test_the_overdue_view_shows_due_date_and_days_late_most_late_first(client, people, gateway, clock):  # noqa: F811
    older = say(client, REGION_4)
    clock.advance(days=2)
    newer = say(client, REGION_2, "09130000000")
    clock.advance(days=12)
    login(client, "admin")
    html = client.get("/tickets?overdue=1").get_data(as_text=True)
    with gateway.sessions() as s:
        by_due = s.scalars(select(Ticket.tracking_code).order_by(Ticket.expected_at)).all()
    assert _codes(html, "rows") == by_due and {older, newer} == set(by_due)
    assert "<th>موعد انجام</th><th>تأخیر</th>" in html
    late = re.findall(r'<td class="late">([^<]+)</td>', html)
    assert len(late) == 2 and late[0].endswith("روز") and late[0] != late[1]
    assert re.search(r'<td class="when due">۱۴۰۵/۰۹/[۰-۹]{2} ', html)


def test_the_overdue_view_pages_by_due_date(client, gateway, clock):
    from sms_gateway.services.queue import QueueFilters, queue
    for n in range(7):
        say(client, REGION_4 if n % 2 else REGION_2, f"0912000000{n}")
        clock.advance(hours=5)
    clock.advance(days=20)
    f, seen, cursor = QueueFilters(overdue=True), [], ""
    while True:
        page = queue(gateway.ctx, _admin(), f, clock.now, cursor, page_size=3)
        seen += [(r["expected_at"], r["code"]) for r in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 7 and seen == sorted(seen)


def test_bulk_close_with_one_reason(client, people, gateway):  # noqa: F811
    a, b, c = say(client, REGION_4), say(client, REGION_2, "09130000000"), say(client, UNASSIGNED, "09350000000")
    login(client, "admin")
    page = client.post("/tickets/bulk", data={"codes": [a, b], "status": "not_doable", "note": "خارج از محدوده شهر",
                                             "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get(
                                                 "/tickets").get_data(as_text=True)).group(1)},
                       follow_redirects=True).get_data(as_text=True)
    assert "۲ درخواست: انجام شد" in page
    with gateway.sessions() as s:
        statuses = dict(s.execute(select(Ticket.tracking_code, Ticket.status)).all())
        sent = s.scalars(select(OutboundMessage.text).where(OutboundMessage.kind == "not_doable")).all()
    assert statuses[a] == statuses[b] == "not_doable" and statuses[c] != "not_doable"
    assert len(sent) == 2 and all("خارج از محدوده شهر" in t for t in sent)


def test_bulk_close_says_what_it_could_not_do(gateway, clock, client, people):  # noqa: F811
    from sms_gateway.domain.staff import Viewer
    a = say(client, REGION_4)
    b = say(client, REGION_2, "09130000000")
    op4 = Viewer(99, "op4", "operator", 4)
    result = bulk.close_many(gateway.ctx, op4, [a, b, "99999999"], "not_doable", "", clock.now)
    assert result.changed == [] and {code for code, _ in result.refused} == {a, b, "99999999"}
    result = bulk.close_many(gateway.ctx, op4, [a, b], "done", "", clock.now)
    assert result.changed == [a] and result.refused == [(b, "پیدا نشد")]  # region 2 is out of its reach
    with pytest.raises(Refused):
        bulk.close_many(gateway.ctx, op4, [a], "in_progress", "", clock.now)


def test_merge_a_duplicate_both_citizens_get_the_updates(client, people, gateway, clock):  # noqa: F811
    survivor = say(client, REGION_4, "09121234567")
    duplicate = say(client, ANOTHER_FIN, "09130000000")
    login(client, "admin")
    with gateway.sessions() as s:
        s.execute(Ticket.__table__.update().where(Ticket.tracking_code == duplicate).values(linked_to_id=None))
        s.commit()
    post(client, f"/tickets/{survivor}/status", {"status": "in_progress"})
    page = post(client, f"/tickets/{duplicate}/merge", {"into": survivor}).get_data(as_text=True)
    assert "ادغام شد" in page and survivor in page.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    post(client, f"/tickets/{survivor}/status", {"status": "done"})
    with gateway.sessions() as s:
        tickets = {t.tracking_code: t for t in s.scalars(select(Ticket))}
        done_to = s.scalars(select(OutboundMessage.to_address).where(OutboundMessage.kind == "done")).all()
        events = s.scalars(select(TicketEvent.note).where(TicketEvent.action == "merged")).all()
    assert tickets[duplicate].linked_to_id == tickets[survivor].id and tickets[duplicate].status == "done"
    assert sorted(done_to) == ["+989121234567", "+989130000000"]
    assert sorted(events) == sorted([survivor, duplicate])
    with pytest.raises(Refused):
        bulk.merge(gateway.ctx, _admin(), duplicate, duplicate, clock.now)


def test_merge_refuses_another_region_and_a_closed_ticket(client, people, gateway, clock):  # noqa: F811
    a, b = say(client, REGION_4), say(client, REGION_2, "09130000000")
    with pytest.raises(Refused, match="منطقه"):
        bulk.merge(gateway.ctx, _admin(), a, b, clock.now)
    with pytest.raises(Refused, match="پیدا نشد"):
        bulk.merge(gateway.ctx, _admin(), a, "12345678", clock.now)


def _admin():
    from sms_gateway.domain.staff import command_line_viewer
    return command_line_viewer()


def test_bulk_close_and_merge_from_the_command_line(client, gateway, clock, database_url, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    a, b, c = say(client, REGION_4), say(client, REGION_2, "09130000000"), say(client, UNASSIGNED, "09350000000")
    (tmp_path / "none.toml").write_text("")
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=database_url, SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    binary, now = str(Path(sys.executable).parent / "sms-gateway"), clock.now.isoformat()
    run = lambda *args: subprocess.run([binary, *args, "--now", now], env=env, capture_output=True, text=True,
                                       timeout=60)
    merged = run("tickets", "merge", c, "--into", b)
    assert merged.returncode == 0 and f"{c} merged into {b}" in merged.stdout
    closed = run("tickets", "close", a, b, "99999999", "--status", "not_doable", "--note", "خارج از محدوده")
    assert closed.returncode == 1 and f"{a} is now not_doable" in closed.stdout and "99999999" in closed.stderr
    with gateway.sessions() as s:
        statuses = dict(s.execute(select(Ticket.tracking_code, Ticket.status)).all())
    assert statuses == {a: "not_doable", b: "not_doable", c: "not_doable"}  # the merged one followed b


def test_bulk_refer_to_a_unit_and_assign_to_a_colleague(client, people, gateway, clock, database_url, tmp_path):  # noqa: F811
    import os
    import subprocess
    import sys
    from pathlib import Path

    a, b, c = say(client, REGION_4), say(client, REGION_2, "09130000000"), say(client, UNASSIGNED, "09350000000")
    login(client, "admin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/tickets").get_data(as_text=True)).group(1)
    unit = gateway.city.units[0]
    page = client.post("/tickets/bulk", data={"codes": [a, b], "action": "refer", "unit": unit.code,
                                             "csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "۲ درخواست: انجام شد" in page
    client.post("/tickets/bulk", data={"codes": [a, c], "action": "assign", "assignee": "op", "csrf_token": token})
    with gateway.sessions() as s:
        rows = {t.tracking_code: t for t in s.scalars(select(Ticket))}
    assert rows[a].unit == rows[b].unit == unit.code and rows[c].unit is None
    assert rows[a].assignee_id == rows[c].assignee_id is not None and rows[b].assignee_id is None
    (tmp_path / "none.toml").write_text("")
    env = dict(os.environ, SMS_GATEWAY_DATABASE_URL=database_url, SMS_GATEWAY_CONFIG=str(tmp_path / "none.toml"))
    binary = str(Path(sys.executable).parent / "sms-gateway")
    done = subprocess.run([binary, "tickets", "assign-many", b, "99999999", "--to", "op2", "--now",
                           clock.now.isoformat()], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and f"{b} done" in done.stdout and "99999999" in done.stderr
    referred = subprocess.run([binary, "tickets", "refer-many", c, "--unit", unit.code], env=env,
                              capture_output=True, text=True, timeout=60)
    assert referred.returncode == 0, referred.stderr


def test_chips_count_up_to_the_cap_and_go_without_figures_past_the_budget(client, people, monkeypatch):  # noqa: F811
    from sms_gateway.services import queue as queue_service
    say(client, REGION_4)
    say(client, REGION_2, "09130000000")
    login(client, "admin")
    assert re.search(r"ثبت شده <b>۲</b>", client.get("/tickets").get_data(as_text=True))
    monkeypatch.setattr(queue_service, "COUNT_CAP", 2)
    assert re.search(r"ثبت شده <b>۲\+</b>", client.get("/tickets").get_data(as_text=True))
    monkeypatch.setattr(queue_service, "counts", lambda *args: None)
    page = client.get("/tickets").get_data(as_text=True)
    assert "ثبت شده</a>" in page and len(_codes(page, "rows")) == 2


def test_an_assignment_or_a_referral_takes_an_emergency(client, people, gateway, clock):  # noqa: F811
    from sms_gateway.services.tickets import assign, refer_to_unit
    first, second = say(client, EMERGENCY), say(client, "بوی گاز خیلی شدید تو کوچه، فوری", "09130000000")
    login(client, "admin")
    assert sorted(_codes(client.get("/tickets").get_data(as_text=True), "pinned")) == sorted([first, second])
    assign(gateway.ctx, _admin(), first, "op", clock.now)
    refer_to_unit(gateway.ctx, _admin(), second, gateway.city.units[0].code, "", clock.now)
    assert _codes(client.get("/tickets").get_data(as_text=True), "pinned") == []
    page = post(client, f"/tickets/{second}/merge", {"into": first}).get_data(as_text=True)
    assert "ادغام شد" in page and "ادغام شده در درخواست" in page
