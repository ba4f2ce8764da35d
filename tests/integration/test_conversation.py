"""A conversation that follows the citizen (issue 13): each row of the issue's table through the real
classifier, intake and database, on SQLite and PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from sms_gateway.adapters.models import Ticket, TicketEvent
from sms_gateway.domain.staff import command_line_viewer
from sms_gateway.domain.text import persian_digits
from sms_gateway.scheduler import run_due
from sms_gateway.services.ticket_view import ticket_view
from sms_gateway.services.tickets import mark_read
from tests.support import deliver, set_status

CITIZEN = "09121234567"


def say(gateway, text, sender=CITIZEN):
    return deliver(gateway, text, sender, inline=True)


def tickets(gateway):
    with gateway.sessions() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def count(gateway, model):
    with gateway.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def code_in(reply: str) -> str:
    return re.search(r"[۰-۹]{8}", reply).group().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))


def test_the_place_answers_the_question_and_completes_the_first_ticket(gateway):
    first = say(gateway, "چهار روزه کسی نیومده زباله ها رو ببره، بوی گندش کل کوچه رو برداشته")
    assert "کجاست" in first.reply
    answer = say(gateway, "محله پشت مشهد، کوچه شهید رحیمی")
    assert answer.ticket_code == first.ticket_code and count(gateway, Ticket) == 1
    [t] = tickets(gateway)
    assert (t.status, t.category, t.neighbourhood) == ("registered", "garbage", "پشت مشهد")


def test_still_not_collected_joins_the_open_ticket_with_its_code_and_status(gateway, clock):
    first = say(gateway, "زباله های کوچه ما تو فین سه روزه جمع نشده")
    clock.advance(days=2)
    again = say(gateway, "هنوز کسی نیومده آشغالا رو ببره!")
    assert again.ticket_code == first.ticket_code and count(gateway, Ticket) == 1
    assert persian_digits(first.ticket_code) in again.reply and "ثبت شده" in again.reply
    view = ticket_view(gateway.ctx, command_line_viewer(), first.ticket_code, clock.now)
    assert [i["text"] for i in view["items"] if i["kind"] == "inbound"][-1] == "هنوز کسی نیومده آشغالا رو ببره!"
    assert view["unread"] is True
    mark_read(gateway.ctx, command_line_viewer("op1"), first.ticket_code, clock.now)
    assert ticket_view(gateway.ctx, command_line_viewer(), first.ticket_code, clock.now)["unread"] is False


def test_the_reason_for_an_objection_joins_the_reopened_ticket(gateway, clock):
    code = say(gateway, "یه چاله بزرگ وسط خیابون امیرکبیر هست").ticket_code
    set_status(gateway, code, "done")
    clock.advance(hours=3)
    assert "اعتراض" in say(gateway, "۳۳").reply
    reason = say(gateway, "چاله هنوز هست، فقط یه کم خاک ریختن روش")
    assert reason.ticket_code == code and count(gateway, Ticket) == 1 and "اعتراض" in reason.reply
    with gateway.sessions() as s:
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.action == "note")).all()
    assert any(n.startswith("دلیل اعتراض: چاله هنوز هست") for n in notes)
    assert tickets(gateway)[0].status == "reopened"


def test_the_same_report_twice_is_already_registered_and_referred_once(gateway, clock):
    first = say(gateway, "تیر چراغ برق کوچه ما تو طاهرآباد خاموشه")
    clock.advance(minutes=6)
    second = say(gateway, "تیر چراغ برق کوچه ما تو طاهرآباد خاموشه")
    assert second.ticket_code == first.ticket_code and "پیش‌تر" in second.reply
    assert "شهروندان دیگری" not in second.reply and count(gateway, Ticket) == 1
    set_status(gateway, first.ticket_code, "referred")
    assert [s.kind for s in run_due(gateway, clock.now)] == ["referred"]


def test_thanks_get_thanks_and_no_ticket(gateway):
    for text in ("خیلی ممنون از رسیدگی سریعتون", "مرسی از پیگیریتون"):
        assert "خواهش می‌کنیم" in say(gateway, text).reply
    assert count(gateway, Ticket) == 0


def test_a_status_query_without_a_code_lists_the_open_requests(gateway, clock):
    assert "کد رهگیری را بفرستید" in say(gateway, "پیگیری").reply  # nothing open: asked for the code
    one = say(gateway, "چاله عمیق تو خیابون فین").ticket_code
    alone = say(gateway, "پیگیری").reply
    assert persian_digits(one) in alone and "آسفالت" in alone and "فین" in alone
    codes = [one]
    for text in ("سگ ولگرد تو پارک طاهرآباد", "جدول کنار خیابون تو حسن آباد شکسته", "تابلوی نام کوچه تو ماداب افتاده"):
        clock.advance(minutes=90)
        codes.append(say(gateway, text).ticket_code)
    listed = say(gateway, "پیگیری").reply
    assert [code_in(part) for part in re.findall(r"[۰-۹]{8}", listed)] == list(reversed(codes))[:3]


def test_a_status_answer_names_problem_place_unit_state_and_date(gateway):
    code = say(gateway, "جوی آب تو محله فین گرفته و آب برگشته تو کوچه").ticket_code
    set_status(gateway, code, "referred")
    reply = say(gateway, f"درخواستم به کجا رسید؟ کد {persian_digits(code)}").reply
    for part in ("آب‌گرفتگی", "فین", "ارجاع به واحد مربوط", "فنی و عمرانی منطقه ۴", "موعد"):
        assert part in reply, part
    assert re.search(r"[۰-۹]+ [آ-ی]+ ۱۴۰۵", reply)


def test_a_report_after_opting_out_is_acknowledged_and_says_how_to_opt_back_in(gateway):
    say(gateway, "لغو ۱۱")
    reply = say(gateway, "چاله عمیق تو خیابون فین").reply
    assert "کد رهگیری" in reply and "۱۲ بفرستید" in reply


def test_a_new_problem_or_the_same_one_elsewhere_is_a_new_ticket(gateway, clock):
    say(gateway, "زباله های کوچه ما تو فین سه روزه جمع نشده")
    clock.advance(minutes=10)
    say(gateway, "چراغ کوچه ما تو فین شبا خاموشه")
    say(gateway, "زباله ها تو طاهرآباد هم جمع نشده")
    assert count(gateway, Ticket) == 3
