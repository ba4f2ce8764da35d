"""A city is data: Kashan and Isfahan, each end to end through the webhook, intake and the dashboard."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from sms_gateway.adapters.models import Ticket
from sms_gateway.services.staff import create_staff
from sms_gateway.web import create_app
from tests.conftest import _empty_tables

CASES = [
    ("kashan", "کاشان", "زباله های کوچه ما تو محله فین سه روزه جمع نشده", "فین", 4, "garbage"),
    ("isfahan", "اصفهان", "زباله های کوچه ما تو محله لنبان سه روزه جمع نشده", "لنبان", 1, "garbage"),
    ("isfahan", "اصفهان", "چاله بزرگ وسط خیابون مطهری ماشینا میفتن توش", "خیابان مطهری", 1, "asphalt"),
]


@pytest.mark.parametrize("city,name,text,place,region,category", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_a_city_runs_end_to_end(settings, clock, city, name, text, place, region, category):
    app = create_app(settings.replace(city_data=city), clock=clock)
    gateway = app.extensions["sms_gateway"]
    try:
        client = app.test_client()
        reply = client.post("/webhooks/console/sms", json={"from": "09121234567", "text": text}).get_json()["reply"]
        assert f"۱۳۷ {name}" in reply
        with gateway.sessions() as s:
            t = s.scalar(select(Ticket))
        assert (t.neighbourhood, t.region, t.category) == (place, region, category)
        create_staff(gateway.sessions, "admin", "long-enough-1", "admin", None, clock())
        page = client.get("/login").get_data(as_text=True)
        assert f"شهرداری {name}" in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", data={"username": "admin", "password": "long-enough-1", "csrf_token": token})
        queue = client.get("/tickets").get_data(as_text=True)
        assert "<title>" in queue and f"شهرداری {name}" in queue
        assert gateway.city.region_name(region) in queue
    finally:
        _empty_tables(gateway.engine)
        gateway.engine.dispose()


def test_a_city_file_by_path_and_an_unknown_city_is_a_clear_error(tmp_path):
    from sms_gateway.settings import SettingsError, settings_from_mapping

    with pytest.raises(SettingsError, match="city_data"):
        settings_from_mapping({"city_data": "atlantis"})
    kashan = (__import__("sms_gateway.domain.city", fromlist=["CITIES_DIR"]).CITIES_DIR / "kashan.toml").read_text()
    (tmp_path / "kashan-copy.toml").write_text(kashan.replace('name = "کاشان"', 'name = "کاشان نو"', 1))
    s = settings_from_mapping({"city_data": str(tmp_path / "kashan-copy.toml")})
    from sms_gateway.domain.city import load_city

    assert load_city(s.city_data).name == "کاشان نو"
