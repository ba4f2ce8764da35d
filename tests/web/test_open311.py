"""Open311 GeoReport v2 conformance, from the spec's documented examples (wiki.open311.org/GeoReport_v2):
resource names, request and response shapes, field names, formats and status codes; through Flask's test
client on both databases. Then the whole way: a request from an app to a ticket, an SMS and its status."""
import hashlib
import re
import threading
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sms_gateway.adapters.models import ApiKey, InboundMessage, OutboundMessage, Ticket
from sms_gateway.domain.codes import is_valid_tracking_code
from sms_gateway.domain.staff import command_line_viewer
from sms_gateway.domain.text import persian_digits
from sms_gateway.services import api_keys, lifecycle
from sms_gateway.services import open311 as open311_service
from sms_gateway.services.intake import retry_failed
from sms_gateway.services.queue import QueueFilters, queue
from sms_gateway.settings import Settings
from sms_gateway.web import create_app
from tests.support import deliver, set_status

V2 = "/open311/v2"
PHONE = "09121234567"
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
W3C = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")


@pytest.fixture
def key(gateway):
    return api_keys.create_key(gateway.sessions, "website", gateway.clock())


def report(**fields):
    """A request as the spec's example sends it, with Kashan's words."""
    return {"service_code": "garbage", "description": "سه روز است زباله‌های کوچه را نبرده‌اند",
            "address_string": "کوچه شهید رجایی، محله فین", "phone": PHONE, **fields}


def post(client, key, fmt="json", headers=None, **fields):
    return client.post(f"{V2}/requests.{fmt}", data={"api_key": key, **report(**fields)}, headers=headers)


def _counts(gateway):
    with gateway.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (InboundMessage, Ticket))


def _xml(response):
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.data)


def _error(response, status):
    assert response.status_code == status
    assert response.content_type == "application/json; charset=utf-8"
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]


# --- GET Service List, GET Service Definition ---------------------------------------------------------

def test_service_list_is_the_citys_categories_with_the_specs_fields(client, gateway):
    response = client.get(f"{V2}/services.json")
    assert response.status_code == 200 and response.content_type == "application/json; charset=utf-8"
    services = response.get_json()
    assert [s["service_code"] for s in services] == [c.code for c in gateway.city.categories]
    assert all(set(s) == SERVICE_FIELDS for s in services)
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)
    garbage = next(s for s in services if s["service_code"] == "garbage")
    assert (garbage["service_name"], garbage["group"]) == ("جمع‌آوری زباله", "خدمات شهری")
    assert "۲۴ ساعت" in garbage["description"]  # the category's SLA, in Persian digits
    assert "جمع‌آوری زباله" in response.get_data(as_text=True)  # UTF-8, not \\u escapes


def test_service_list_in_xml_has_the_specs_elements(client):
    root = _xml(client.get(f"{V2}/services.xml"))
    assert root.tag == "services" and {child.tag for child in root} == {"service"}
    first = root.find("service")
    assert {e.tag for e in first} == SERVICE_FIELDS
    assert (first.findtext("metadata"), first.findtext("type")) == ("false", "realtime")


def test_service_definition_has_no_attributes_and_an_unknown_code_is_404(client):
    assert client.get(f"{V2}/services/asphalt.json").get_json() == {"service_code": "asphalt", "attributes": []}
    root = _xml(client.get(f"{V2}/services/asphalt.xml"))
    assert (root.tag, root.findtext("service_code"), len(root.find("attributes"))) == ("service_definition",
                                                                                        "asphalt", 0)
    _error(client.get(f"{V2}/services/potholes.json"), 404)


# --- POST Service Request ---------------------------------------------------------------------------

def test_the_specs_example_request_opens_a_ticket_and_answers_with_its_tracking_code(client, gateway, key):
    """Every field of the spec's example request; the optional ones this city does not use are ignored."""
    response = client.post(f"{V2}/requests.json", data={
        "api_key": key, "jurisdiction_id": "kashan.ir", "service_code": "garbage", "lat": "33.9516",
        "long": "51.3780", "address_string": "محله فین", "email": "citizen@example.ir", "device_id": "tt222111",
        "account_id": "123456", "first_name": "مریم", "last_name": "رضایی", "phone": PHONE,
        "description": "سطل زباله سر کوچه پر شده و سه روز است خالی نشده",
        "media_url": "http://example.ir/photo.jpg", "attribute[WHISPAWN]": "123456"})
    assert response.status_code == 200 and response.content_type == "application/json; charset=utf-8"
    body = response.get_json()
    assert len(body) == 1 and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    code = body[0]["service_request_id"]
    assert is_valid_tracking_code(code) and body[0]["account_id"] is None
    assert persian_digits(code) in body[0]["service_notice"]
    with gateway.sessions() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.tracking_code == code))
        inbound = s.scalar(select(InboundMessage).where(InboundMessage.ticket_id == ticket.id))
    assert (ticket.channel, ticket.category, ticket.neighbourhood) == ("open311", "garbage", "فین")
    assert (inbound.provider, inbound.channel, inbound.sender) == ("open311", "open311", "+989121234567")
    assert "api_key" not in inbound.raw_payload and inbound.raw_payload["first_name"] == "مریم"


def test_the_response_in_xml_is_service_requests_of_request(client, key):
    root = _xml(post(client, key, fmt="xml"))
    request = root.find("request")
    assert root.tag == "service_requests" and {e.tag for e in request} == {"service_request_id", "service_notice",
                                                                            "account_id"}
    assert is_valid_tracking_code(request.findtext("service_request_id"))
    assert request.find("account_id").text is None and len(request.find("account_id")) == 0  # <account_id/>


def test_the_service_code_wins_over_what_the_text_reads(client, gateway, key):
    code = post(client, key, service_code="street_lighting", description="شب‌ها اینجا خیلی تاریک است").get_json()
    with gateway.sessions() as s:
        assert s.scalar(select(Ticket.category).where(Ticket.tracking_code == code[0]["service_request_id"])) \
            == "street_lighting"


@pytest.mark.parametrize("fields, status", [
    ({"service_code": ""}, 400),
    ({"service_code": "potholes"}, 404),
    ({"description": ""}, 400),
    ({"description": "ز" * 4001}, 400),
    ({"address_string": "", "lat": "", "long": ""}, 400),
    ({"address_string": "", "lat": "33.98"}, 400),
    ({"address_string": "", "lat": "north", "long": "51.4"}, 400),
    ({"address_string": "", "lat": "133.9", "long": "51.4"}, 400),
    ({"address_string": "خ" * 501}, 400),
    ({"phone": ""}, 400),
    ({"phone": "03155551234"}, 400),     # a Kashan landline: no SMS reaches it
    ({"phone": "+15005550006"}, 400),    # not an Iranian number
    ({"phone": "0912123"}, 400),
])
def test_missing_or_invalid_fields_are_refused_in_the_error_form_and_nothing_is_stored(client, gateway, key,
                                                                                     fields, status):
    assert _error(post(client, key, **fields), status)
    assert _counts(gateway) == (0, 0)


def test_lat_and_long_are_a_location_without_an_address(client, gateway, key):
    response = post(client, key, address_string="", lat="33.98", long="51.43",
                    description="زباله‌های محله فین را نبرده‌اند")
    assert response.status_code == 200 and is_valid_tracking_code(response.get_json()[0]["service_request_id"])


def test_a_phone_in_any_form_and_digits_reaches_the_same_number(client, gateway, key):
    post(client, key, phone="+98 912 123 4567")
    post(client, key, phone="۰۹۱۲۱۲۳۴۵۶۷", service_code="asphalt", description="چاله بزرگ جلوی مدرسه")
    with gateway.sessions() as s:
        assert set(s.scalars(select(InboundMessage.sender))) == {"+989121234567"}


def test_post_needs_a_valid_unrevoked_key(client, gateway, key):
    assert "api_key" in _error(client.post(f"{V2}/requests.json", data=report()), 403)
    _error(post(client, "not-a-key"), 403)
    api_keys.revoke_key(gateway.sessions, "website", gateway.clock())
    _error(post(client, key), 403)
    root = _xml(post(client, key, fmt="xml"))
    assert root.tag == "errors" and root.find("error").findtext("code") == "403"
    assert _counts(gateway) == (0, 0)


def test_a_retry_with_the_same_idempotency_key_gets_the_same_answer_and_one_ticket(client, gateway, key):
    first = post(client, key, headers={"Idempotency-Key": "web-4711"}).get_json()
    again = post(client, key, headers={"Idempotency-Key": "web-4711"}).get_json()
    assert first == again and _counts(gateway) == (1, 1)
    other_app = api_keys.create_key(gateway.sessions, "android-app", gateway.clock())
    theirs = post(client, other_app, headers={"Idempotency-Key": "web-4711"}, phone="09127654321").get_json()
    assert theirs[0]["service_request_id"] != first[0]["service_request_id"]  # ids are per application
    _error(post(client, key, headers={"Idempotency-Key": "no spaces or ü"}), 400)


def test_identity_bound_requests_open_no_ticket_and_name_the_authenticated_channel(client, gateway, key):
    response = post(client, key, service_code="other", description="برای پروانه ساخت چه مدارکی لازم است؟")
    description = _error(response, 400)
    assert gateway.city.authenticated_channel in description and "از این راه ثبت نمی‌شود" in description
    with gateway.sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0
        sms = s.scalar(select(OutboundMessage))
    assert (sms.to_address, sms.kind, sms.status) == ("+989121234567", "identity_required", "sent")


def test_a_request_that_cannot_be_read_now_gets_a_token_that_later_gives_its_id(client, gateway, key, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("a fault while opening the ticket")

    monkeypatch.setattr(lifecycle, "open_ticket", explode)
    body = post(client, key).get_json()
    assert set(body[0]) == {"token", "service_notice", "account_id"} and "service_request_id" not in body[0]
    token = body[0]["token"]
    assert client.get(f"{V2}/tokens/{token}.json").get_json() == [{"service_request_id": None, "token": token}]
    monkeypatch.undo()
    assert retry_failed(gateway.ctx, gateway.clock()) == 1
    found = client.get(f"{V2}/tokens/{token}.json").get_json()
    assert is_valid_tracking_code(found[0]["service_request_id"]) and found[0]["token"] == token
    _error(client.get(f"{V2}/tokens/unknown.json"), 404)


# --- GET Service Requests, GET Service Request ------------------------------------------------------

def _open(client, key, clock, at=None, **fields):
    if at is not None:
        clock.now = at
    return post(client, key, **fields).get_json()[0]["service_request_id"]


def test_requests_have_the_specs_fields_and_never_the_phone_or_the_citizens_words(client, gateway, key):
    code = _open(client, key, gateway.clock)
    record = client.get(f"{V2}/requests/{code}.json").get_json()
    assert len(record) == 1 and set(record[0]) == REQUEST_FIELDS
    r = record[0]
    assert (r["service_request_id"], r["status"], r["status_notes"]) == (code, "open", "ثبت شده")
    assert (r["service_code"], r["service_name"], r["agency_responsible"]) == ("garbage", "جمع‌آوری زباله",
                                                                               "خدمات شهری")
    assert r["address"] == "فین، منطقه ۴، کاشان" and r["description"] is None
    assert all(W3C.fullmatch(r[f]) for f in ("requested_datetime", "updated_datetime", "expected_datetime"))
    assert datetime.fromisoformat(r["requested_datetime"]) == gateway.clock()
    assert datetime.fromisoformat(r["expected_datetime"]) == gateway.clock() + timedelta(hours=24)  # garbage SLA
    root = _xml(client.get(f"{V2}/requests/{code}.xml"))
    assert root.tag == "service_requests" and {e.tag for e in root.find("request")} == REQUEST_FIELDS
    for path in (f"requests/{code}.json", f"requests/{code}.xml", "requests.json", "requests.xml"):
        text = client.get(f"{V2}/{path}").get_data(as_text=True)
        assert "9121234567" not in text and "۹۱۲۱۲۳۴۵۶۷" not in text and "زباله‌های کوچه" not in text


def test_a_request_by_its_code_in_any_digits_and_an_unknown_one_is_404(client, gateway, key):
    code = _open(client, key, gateway.clock)
    assert client.get(f"{V2}/requests/{persian_digits(code)}.json").get_json()[0]["service_request_id"] == code
    _error(client.get(f"{V2}/requests/12345678.json"), 404)


def test_requests_default_to_the_last_90_days_newest_first_and_list_every_channel(client, gateway, key, clock):
    start = clock.now
    old = _open(client, key, clock, start, phone="09120000001")
    mid = _open(client, key, clock, start + timedelta(days=30), phone="09120000002", service_code="asphalt",
                description="چاله بزرگ جلوی مدرسه")
    by_sms = deliver(gateway, "چراغ‌های خیابان محتشم خاموش است", sender="09120000003",
                     now=start + timedelta(days=60)).ticket_code
    clock.now = start + timedelta(days=91)
    listed = [r["service_request_id"] for r in client.get(f"{V2}/requests.json").get_json()]
    assert listed == [by_sms, mid]  # the first is older than 90 days
    window = {"start_date": "2026-11-01T00:00:00Z", "end_date": "2026-12-31T00:00:00+03:30"}
    assert [r["service_request_id"] for r in client.get(f"{V2}/requests.json", query_string=window).get_json()] \
        == [mid, old]


def test_requests_by_code_list_override_the_other_arguments(client, gateway, key, clock):
    a = _open(client, key, clock, phone="09120000001")
    b = _open(client, key, clock, phone="09120000002", service_code="asphalt", description="چاله بزرگ جلوی مدرسه")
    _open(client, key, clock, phone="09120000003", service_code="street_lighting", description="چراغ خاموش است")
    query = {"service_request_id": f"{a}, {persian_digits(b)},99999999", "status": "closed",
             "service_code": "bus", "start_date": "2010-01-01T00:00:00Z", "end_date": "2010-02-01T00:00:00Z"}
    assert {r["service_request_id"] for r in client.get(f"{V2}/requests.json", query_string=query).get_json()} \
        == {a, b}


def test_requests_by_service_code_and_status(client, gateway, key, clock):
    garbage = _open(client, key, clock, phone="09120000001")
    asphalt = _open(client, key, clock, phone="09120000002", service_code="asphalt",
                    description="چاله بزرگ جلوی مدرسه")
    lights = _open(client, key, clock, phone="09120000003", service_code="street_lighting",
                   description="چراغ خاموش است")
    set_status(gateway, asphalt, "done")

    def codes(**args):
        return {r["service_request_id"] for r in client.get(f"{V2}/requests.json", query_string=args).get_json()}

    assert codes(service_code="garbage,street_lighting") == {garbage, lights}
    assert codes(status="closed") == {asphalt} and codes(status="open") == {garbage, lights}
    assert codes(status="open,closed") == codes() == {garbage, asphalt, lights}
    assert codes(service_code="asphalt", status="open") == set()


def test_requests_are_capped(client, gateway, key, clock, monkeypatch):
    for n in range(3):
        _open(client, key, clock, clock.now + timedelta(minutes=1), phone=f"0912000000{n}")
    monkeypatch.setattr(open311_service, "MAX_RESULTS", 2)
    assert len(client.get(f"{V2}/requests.json").get_json()) == 2


@pytest.mark.parametrize("query", [
    {"start_date": "2026-11-01"},                       # a date without its time and zone
    {"start_date": "2026-11-01T00:00:00"},              # no time zone
    {"start_date": "yesterday"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # more than 90 days
    {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
    {"status": "pending"},
    {"service_code": "potholes"},
])
def test_invalid_query_arguments_are_400(client, query):
    _error(client.get(f"{V2}/requests.json", query_string=query), 400)


def test_a_time_zone_sent_unencoded_in_the_query_still_reads(client, gateway, key, clock):
    code = _open(client, key, clock)
    found = client.get(f"{V2}/requests.json?start_date=2026-11-24T00:00:00+03:30").get_json()
    assert [r["service_request_id"] for r in found] == [code]


# --- errors, keys and limits ------------------------------------------------------------------------

def test_unknown_resources_and_methods_answer_in_the_error_form(client):
    _error(client.get(f"{V2}/requests.csv"), 404)
    _error(client.get(f"{V2}/discovery"), 404)
    _error(client.delete(f"{V2}/requests.json"), 405)
    _error(client.post(f"{V2}/requests.json", data={"api_key": "k", "description": "ز" * 70_000}), 413)
    root = _xml(client.get(f"{V2}/nothing.xml"))
    assert root.tag == "errors" and root.find("error").findtext("code") == "404"


def test_the_database_down_is_503_with_retry_after_and_a_fault_of_ours_500(database_url, clock, tmp_path, client,
                                                                           monkeypatch):
    if database_url.startswith("sqlite"):
        down_url = f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"
    else:
        down_url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    app = create_app(Settings(database_url=down_url), clock=clock)
    try:
        down = app.test_client().get(f"{V2}/requests.json")
    finally:
        app.extensions["sms_gateway"].engine.dispose()
    _error(down, 503)
    assert down.headers["Retry-After"]

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT …", {}, Exception("a constraint of ours"))

    monkeypatch.setattr(open311_service, "find_request", broken)
    faulty = client.get(f"{V2}/requests/12345678.xml")
    assert faulty.status_code == 500 and b"Traceback" not in faulty.data  # a data error is no outage
    assert _xml(faulty).find("error").findtext("code") == "500"


def test_gets_are_open_but_a_key_sent_with_one_is_checked(client, gateway, key):
    assert client.get(f"{V2}/services.json").status_code == 200
    assert client.get(f"{V2}/services.json", query_string={"api_key": key}).status_code == 200
    _error(client.get(f"{V2}/requests.json", query_string={"api_key": "wrong"}), 403)
    with gateway.sessions() as s:
        assert s.scalar(select(ApiKey.last_used_at)) == gateway.clock()


def test_keys_are_stored_as_their_sha256_only(gateway, key):
    with gateway.sessions() as s:
        row = s.scalar(select(ApiKey))
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and row.name == "website"
    assert len(key) >= 43 and key not in repr(row.__dict__)


def test_each_key_is_limited_per_minute_and_every_worker_counts_the_same(settings, clock, client, gateway, key):
    """Two apps on one database stand for two web workers: they share each key's count."""
    other = create_app(settings.replace(open311_requests_per_minute=3), clock=clock).test_client()
    one = create_app(settings.replace(open311_requests_per_minute=3), clock=clock).test_client()
    try:
        assert post(one, key, phone="09120000001").status_code == 200
        assert post(other, key, phone="09120000002").status_code == 200
        assert one.get(f"{V2}/services.json", query_string={"api_key": key}).status_code == 200
        refused = post(other, key, phone="09120000003")
        _error(refused, 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert client.get(f"{V2}/services.json").status_code == 200  # an open GET without a key is not counted
        second = api_keys.create_key(gateway.sessions, "android-app", clock())
        assert post(one, second, phone="09120000004").status_code == 200  # each key has its own count
        clock.advance(minutes=1)
        assert post(one, key, phone="09120000005").status_code == 200
    finally:
        for c in (one, other):
            c.application.extensions["sms_gateway"].engine.dispose()
    assert _counts(gateway) == (4, 4)


def test_concurrent_uses_of_a_key_take_exactly_the_minutes_allowance(gateway, key):
    barrier = threading.Barrier(12)
    outcomes, errors = [], []

    def use():
        barrier.wait()
        try:
            api_keys.use_key(gateway.sessions, key, gateway.clock(), per_minute=5)
            outcomes.append("ok")
        except api_keys.RateLimited:
            outcomes.append("limited")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(outcomes) == ["limited"] * 7 + ["ok"] * 5


# --- end to end -------------------------------------------------------------------------------------

def test_an_apps_request_becomes_a_ticket_an_sms_and_a_status_the_app_reads_back(client, gateway, key, clock):
    body = post(client, key, first_name="مریم").get_json()
    code = body[0]["service_request_id"]
    rows = queue(gateway.ctx, command_line_viewer(), QueueFilters(), clock()).rows
    assert [(r["code"], r["channel"], r["category"], r["neighbourhood"]) for r in rows] == \
        [(code, "open311", "garbage", "فین")]
    with gateway.sessions() as s:
        sms = s.execute(select(OutboundMessage.to_address, OutboundMessage.kind, OutboundMessage.status,
                               OutboundMessage.text)).all()
    assert len(sms) == 1 and sms[0][:3] == ("+989121234567", "ack", "sent") and persian_digits(code) in sms[0].text
    assert gateway.providers["console"].sent == [("+989121234567", sms[0].text)]
    responses = [client.get(f"{V2}/requests/{code}.json")]
    assert (responses[0].get_json()[0]["status"], responses[0].get_json()[0]["status_notes"]) == ("open", "ثبت شده")
    clock.advance(hours=2)
    set_status(gateway, code, "in_progress")
    responses.append(client.get(f"{V2}/requests/{code}.json"))
    assert (responses[-1].get_json()[0]["status"], responses[-1].get_json()[0]["status_notes"]) == \
        ("open", "در حال انجام")
    clock.advance(hours=3)
    set_status(gateway, code, "done")
    responses.append(client.get(f"{V2}/requests/{code}.json"))
    done = responses[-1].get_json()[0]
    assert (done["status"], done["status_notes"]) == ("closed", "انجام شد")
    assert datetime.fromisoformat(done["updated_datetime"]) == clock()
    responses += [client.get(f"{V2}/requests.json"), client.get(f"{V2}/requests.xml", query_string={"status": "closed"})]
    for response in [*responses, client.post(f"{V2}/requests.json", data={"api_key": key, **report()})]:
        text = response.get_data(as_text=True)
        assert "9121234567" not in text and "۹۱۲۱۲۳۴۵۶۷" not in text
