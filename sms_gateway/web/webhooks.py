"""Provider webhooks: parse the request, call intake, render the provider's answer."""
from __future__ import annotations


from flask import Blueprint, Response, abort, current_app, request

from providers.base import WebhookRejected, WebhookRequest

from ..outbound import record_delivery
from ..phone import InvalidPhone

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _gateway():
    return current_app.extensions["sms_gateway"]


def _provider(name: str):
    provider = _gateway().webhook_providers.get(name)
    if provider is None:
        abort(404)
    return provider


def _webhook_request(token: str = "") -> WebhookRequest:
    return WebhookRequest(method=request.method, url=request.url, args=request.args, form=request.form,
                          headers=request.headers, body=request.get_data(cache=True), token=token)


def _inbound(name: str, token: str = "") -> Response:
    gateway = _gateway()
    provider = _provider(name)
    webhook_request = _webhook_request(token)
    provider.verify(webhook_request)
    sms = provider.parse_inbound(webhook_request)
    inline = provider.replies_inline()
    try:
        result = gateway.take_inbound(sms, inline)
    except InvalidPhone as exc:
        raise WebhookRejected(400, str(exc)) from None
    answer = provider.answer_inbound(result.reply if inline else None)
    return Response(answer.body, content_type=answer.content_type)


@bp.post("/console/sms")
def console_sms():
    return _inbound("console")


@bp.post("/twilio/sms")
def twilio_sms():
    return _inbound("twilio")


@bp.route("/kavenegar/<token>/sms", methods=["GET", "POST"])
def kavenegar_sms(token: str):
    return _inbound("kavenegar", token)


@bp.route("/melipayamak/<token>/sms", methods=["GET", "POST"])
def melipayamak_sms(token: str):
    return _inbound("melipayamak", token)


@bp.post("/twilio/status")
def twilio_status():
    provider = _provider("twilio")
    webhook_request = _webhook_request()
    provider.verify(webhook_request)
    record_delivery(_gateway().sessions, provider.parse_delivery(webhook_request))
    return Response("", status=204)


@bp.route("/kavenegar/<token>/status", methods=["GET", "POST"])
def kavenegar_status(token: str):
    provider = _provider("kavenegar")
    webhook_request = _webhook_request(token)
    provider.verify(webhook_request)
    known = record_delivery(_gateway().sessions, provider.parse_delivery(webhook_request))
    return Response("OK" if known else "unknown message", status=200 if known else 404)
