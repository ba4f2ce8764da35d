"""Open311 GeoReport v2 at /open311/v2/ for the municipality's website and apps: parse the request, call
the service, answer in JSON or XML (the resource's extension), errors as the spec's [{code, description}].

POST requests.json needs an api_key; the GETs are open, as the spec has them, and an api_key sent with
one is checked and counted too."""
from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, Response, current_app, request

from ..bootstrap import Gateway
from ..domain.open311 import Open311Error, client_request_id
from ..services import api_keys, open311

PREFIX = "/open311/v2"
bp = Blueprint("open311", __name__, url_prefix=PREFIX)
FMT = "<any(json, xml):fmt>"


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["sms_gateway"]
    return gateway


def _client(gateway: Gateway, token: str) -> api_keys.Client:
    return api_keys.use_key(gateway.sessions, token, gateway.clock(), gateway.settings.open311_requests_per_minute)


def _open_get() -> None:
    """A GET needs no key; one that carries a key is held to it (a wrong key is refused, a use counted)."""
    token = request.args.get("api_key", "")
    if token:
        _client(_gateway(), token)


@bp.get(f"/services.{FMT}")
def services(fmt: str) -> Response:
    _open_get()
    return _answer(open311.service_list(_gateway().ctx), fmt, "services", "service")


@bp.get(f"/services/<code>.{FMT}")
def service_definition(code: str, fmt: str) -> Response:
    _open_get()
    return _answer(open311.service_definition(_gateway().ctx, code), fmt, "service_definition")


@bp.post(f"/requests.{FMT}")
def create_request(fmt: str) -> Response:
    gateway = _gateway()
    client = _client(gateway, request.form.get("api_key", ""))
    client_id = client_request_id(request.headers.get("Idempotency-Key", ""))
    return _answer(open311.submit(gateway.ctx, client, request.form, client_id, gateway.clock(),
                                  send=gateway.sender.send), fmt)


@bp.get(f"/requests.{FMT}")
def list_requests(fmt: str) -> Response:
    _open_get()
    gateway = _gateway()
    return _answer(open311.find_requests(gateway.ctx, request.args, gateway.clock()), fmt)


@bp.get(f"/requests/<code>.{FMT}")
def one_request(code: str, fmt: str) -> Response:
    _open_get()
    return _answer(open311.find_request(_gateway().ctx, code), fmt)


@bp.get(f"/tokens/<token>.{FMT}")
def token(token: str, fmt: str) -> Response:
    _open_get()
    return _answer(open311.token_request(_gateway().ctx, token), fmt)


def _answer(payload: Any, fmt: str, root: str = "service_requests", item: str = "request", status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    if fmt == "xml":
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(_xml(root, item, payload), encoding="utf-8",
                                                                        xml_declaration=False)
        return Response(body, status=status, headers=headers, content_type="text/xml; charset=utf-8")
    return Response(json.dumps(payload, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def _xml(root: str, item: str, payload: Any) -> Element:
    """The spec's XML for the JSON it maps to: a list under `root` is one `item` element per entry."""
    element = Element(root)
    for entry in payload if isinstance(payload, list) else [payload]:
        _fill(SubElement(element, item) if isinstance(payload, list) else element, entry)
    return element


def _fill(element: Element, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        child = SubElement(element, name)
        if isinstance(value, list):  # attributes → attribute, values → value
            for entry in value:
                _fill(SubElement(child, name.removesuffix("s")), entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def error_response(status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """[{"code", "description"}] with the HTTP status, in the format the path asked for. The app's error
    handlers answer this way for every path under PREFIX (a wrong method, an outage, a fault of ours)."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return _answer([{"code": status, "description": description}], fmt, "errors", "error", status, headers)


@bp.errorhandler(Open311Error)
def _refused(exc: Open311Error) -> Response:
    return error_response(exc.status, exc.description)


@bp.errorhandler(api_keys.InvalidKey)
def _bad_key(exc: api_keys.InvalidKey) -> Response:
    return error_response(403, "api_key نیست، نادرست است یا باطل شده است")


@bp.errorhandler(api_keys.RateLimited)
def _too_many(exc: api_keys.RateLimited) -> Response:
    return error_response(429, "درخواست‌های این کلید در این دقیقه از حد گذشت؛ کمی بعد دوباره بفرستید",
                          {"Retry-After": str(exc.retry_after)})
