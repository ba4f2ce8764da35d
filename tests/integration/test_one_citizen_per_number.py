"""However a panel writes the sender's number, it is one citizen with one contact (issue 14, item 17)."""
from sqlalchemy import func, select

from sms_gateway.adapters.models import Citizen, Contact
from tests.support import deliver

FORMS = ["09121234567", "+0098 912 123 4567", "0098 9121234567", "+98 0912 123 4567", "+9809121234567",
         "۰۰۹۸۹۱۲۱۲۳۴۵۶۷"]


def test_every_form_of_a_number_reaches_the_same_citizen(gateway):
    for n, sender in enumerate(FORMS):
        deliver(gateway, "پیگیری" if n else "چاله عمیق تو خیابون فین", sender=sender)
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(Citizen.id))) == 1
        assert s.scalars(select(Contact.address)).all() == ["+989121234567"]
