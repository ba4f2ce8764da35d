"""One queue (issue 15, item 6): tickets from every channel (SMS, a phone call, the web page, Open311, Bale)
sit in the same queue with their channel shown in Persian and filterable, and the reports break received,
done, not doable and in progress down by channel as well as by region, on the page and in the CSV
(?by=channel), within the viewer's regions."""
from __future__ import annotations

import csv
import io
import re

from sms_gateway.providers.base import Received

from sms_gateway.domain.staff import command_line_viewer
from sms_gateway.services import api_keys, calls, intake, open311
from sms_gateway.services.queue import QueueFilters, queue
from sms_gateway.services.staff import create_staff
from sms_gateway.services.web_reports import WebRules, confirm, request_code
from tests.support import deliver, set_status
from tests.web.test_dashboard import PASSWORD, login

LABELS = {"sms": "پیامک", "phone": "تلفن", "web": "وب‌سایت", "open311": "اپ/Open311", "bale": "بله"}


def one_of_each(gateway) -> dict[str, str]:
    """A ticket by every channel, through each channel's own service; {channel: tracking code}."""
    ctx, now = gateway.ctx, gateway.clock()
    codes = {"sms": deliver(gateway, "چاله عمیق تو خیابون فین", sender="09120000001").ticket_code}
    codes["phone"] = calls.file_call(ctx, command_line_viewer("op"), "09120000002", "زباله های کوچه رو نبردن",
                                     "garbage", "بهارستان", now).code
    rules = WebRules.from_settings(gateway.settings)
    pending = request_code(ctx, rules, "09120000003", "چراغ‌های کوچه خاموش است", "فین", "10.0.0.1", now)
    code = re.search(r"کد تأیید ([۰-۹]{6})", gateway.providers["console"].sent[-1][1]).group(1)
    codes["web"] = confirm(ctx, rules, pending.token, code, now).code
    client = api_keys.use_key(gateway.sessions, api_keys.create_key(gateway.sessions, "app", now), now, 60)
    codes["open311"] = open311.submit(ctx, client, {"service_code": "garbage", "description": "سطل زباله پر است",
                                                    "address_string": "محله فین", "phone": "09120000004"},
                                      "", now)[0]["service_request_id"]
    bale = Received("bale", "u-1", "777001", "", "جوب آب گرفته تو کوی بهارستان", {}, channel="bale")
    codes["bale"] = intake.receive(ctx, bale, now, reply_inline=False).ticket_code
    assert all(codes.values()), codes
    return codes


def test_every_channel_is_in_the_one_queue_labelled_and_filterable(client, gateway):
    codes = one_of_each(gateway)
    rows = queue(gateway.ctx, command_line_viewer(), QueueFilters(), gateway.clock()).rows
    assert sorted((r["channel"], r["code"]) for r in rows) == sorted(codes.items())
    create_staff(gateway.sessions, "admin", PASSWORD, "admin", None, gateway.clock())
    login(client, "admin")
    page = client.get("/tickets").get_data(as_text=True)
    for channel, label in LABELS.items():
        assert f'class="channel ch-{channel}" title="درگاه: {label}">{label}</span>' in page
        only = client.get(f"/tickets?channel={channel}").get_data(as_text=True)
        assert only.count('class="channel ch-') == 1 and f"ch-{channel}" in only
        assert f"ch-{channel}" in client.get(f"/tickets/{codes[channel]}").get_data(as_text=True)
    exported = list(csv.reader(io.StringIO(client.get("/tickets.csv").get_data().decode("utf-8-sig"))))
    column = exported[0].index("درگاه")
    assert sorted(r[column] for r in exported[1:]) == sorted(LABELS.values())
    phone_only = list(csv.reader(io.StringIO(client.get("/tickets.csv?channel=phone").get_data().decode("utf-8-sig"))))
    assert [r[column] for r in phone_only[1:]] == ["تلفن"]


def test_reports_break_the_figures_down_by_channel_on_the_page_and_in_the_csv(client, gateway):
    codes = one_of_each(gateway)
    set_status(gateway, codes["phone"], "done")
    set_status(gateway, codes["web"], "not_doable", note="ملک خصوصی است")
    set_status(gateway, codes["bale"], "in_progress")
    create_staff(gateway.sessions, "admin", PASSWORD, "admin", None, gateway.clock())
    create_staff(gateway.sessions, "op2", PASSWORD, "operator", 2, gateway.clock())
    login(client, "admin")
    page = client.get("/reports").get_data(as_text=True)
    table = page[page.index('id="channel-table"'):page.index("</table>", page.index('id="channel-table"'))]
    for label, figures in [("پیامک", "۱۰۰۱"), ("تلفن", "۱۱۰۰"), ("وب‌سایت", "۱۰۱۰"), ("اپ/Open311", "۱۰۰۱"),
                           ("بله", "۱۰۰۱")]:
        found = re.search(label + r"</span></th>\s*<td>(.)</td><td>(.)</td><td>(.)</td><td>(.)</td>", table)
        assert found and "".join(found.groups()) == figures, label
    assert re.search(r"جمع</th>\s*<td>۵</td><td>۱</td><td>۱</td><td>۳</td>", table)
    rows = list(csv.reader(io.StringIO(client.get("/reports.csv?by=channel").get_data(as_text=True))))
    assert rows == [["channel", "received", "done", "not_doable", "in_progress"], ["sms", "1", "0", "0", "1"],
                    ["phone", "1", "1", "0", "0"], ["web", "1", "0", "1", "0"], ["open311", "1", "0", "0", "1"],
                    ["bale", "1", "0", "0", "1"], ["total", "5", "1", "1", "3"]]
    assert list(csv.reader(io.StringIO(client.get("/reports.csv").get_data(as_text=True))))[0][0] == "region"
    other = client.application.test_client()
    login(other, "op2")  # region 2 sees the phone call and the Bale message (بهارستان), nothing of region 4
    mine = list(csv.reader(io.StringIO(other.get("/reports.csv?by=channel").get_data(as_text=True))))
    assert ["phone", "1", "1", "0", "0"] in mine and ["bale", "1", "0", "0", "1"] in mine
    assert ["sms", "0", "0", "0", "0"] in mine and mine[-1] == ["total", "2", "1", "0", "1"]
