"""Provider webhooks, one route per declared route of every configured provider: parse the request,
hand the message to intake, render the provider's answer."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from ..bootstrap import Gateway
from ..domain.phones import InvalidPhone
from ..providers.base import Route, WebhookRejected, WebhookRequest
from ..services import intake
from ..services.outbox import record_delivery


def blueprint(gateway: Gateway) -> Blueprint:
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
    for name, provider in gateway.providers.items():
        for route in provider.routes:
            base = f"/{name}/<token>" if provider.token_in_path else f"/{name}"
            view, methods = _view(name, route), list(route.methods)
            bp.add_url_rule(f"{base}/{route.path}" if route.path else base, view.__name__, view, methods=methods)
            if provider.token_in_path and not route.path:  # no token at all is refused like a wrong one
                bp.add_url_rule(f"/{name}", view.__name__, view, methods=methods, defaults={"token": ""})
    return bp


def _view(name: str, route: Route):
    def view(token: str = "") -> Response:
        gateway: Gateway = current_app.extensions["sms_gateway"]
        provider = gateway.providers[name]
        webhook_request = WebhookRequest(method=request.method, url=request.url, args=request.args,
                                         form=request.form, headers=request.headers,
                                         body=request.get_data(cache=True), token=token)
        provider.verify(webhook_request)
        if route.kind == "delivery":
            known = record_delivery(gateway.sessions, provider.parse_delivery(webhook_request))
            return Response("OK" if known else "unknown message", status=200 if known else 404)
        return _inbound(gateway, provider, webhook_request)

    view.__name__ = f"{name}_{route.kind}"
    return view


def _inbound(gateway: Gateway, provider: Any, webhook_request: WebhookRequest) -> Response:
    message = provider.parse_inbound(webhook_request)
    inline = provider.replies_inline
    if message is None:  # an update that carries no message: acknowledged, nothing stored
        answer = provider.answer_inbound(None)
        return Response(answer.body, status=answer.status, content_type=answer.content_type)
    try:
        receipt = intake.receive(gateway.ctx, message, gateway.clock(), reply_inline=inline)
    except InvalidPhone as exc:
        raise WebhookRejected(400, str(exc)) from None
    if receipt.outbound_id is not None:  # committed: the provider is answered without waiting for the send
        gateway.sender.send(receipt.outbound_id)
    answer = provider.answer_inbound(receipt.reply if inline else None)
    return Response(answer.body, status=answer.status, content_type=answer.content_type)
