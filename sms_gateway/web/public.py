"""The citizen web page: /report files a request once a one-time SMS code confirms the number; /status
shows a request's state to whoever gives its code and that number. Persian, right to left, no script
from elsewhere, CSRF on every form; the limits and their messages come from services.web_reports."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from ..bootstrap import Gateway
from ..services import web_reports
from ..services.web_reports import CodeExpired, TooMany, WebRefused, WebRules

bp = Blueprint("public", __name__)


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["sms_gateway"]
    return gateway


def _rules(gateway: Gateway) -> WebRules:
    return WebRules.from_settings(gateway.settings)


@bp.after_request
def _never_stored(response: Response) -> Response:
    """The pages carry a citizen's number and request: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(template: str, exc: WebRefused, **values):
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooMany) else {}
    return render_template(template, error=str(exc), **values), exc.status, headers


def _report_form() -> dict[str, str]:
    f = request.form
    return {"text": f.get("text", "")[:web_reports.MAX_TEXT + 100], "place": f.get("place", "")[:300],
            "phone": f.get("phone", "")[:40]}


@bp.get("/report")
def report():
    return render_template("public/report.html", form={"text": "", "place": "", "phone": ""})


@bp.post("/report")
def send_code():
    gateway, form = _gateway(), _report_form()
    try:
        pending = web_reports.request_code(gateway.ctx, _rules(gateway), form["phone"], form["text"], form["place"],
                                           request.remote_addr or "", gateway.clock())
    except WebRefused as exc:
        return _refused("public/report.html", exc, form=form)
    return render_template("public/confirm.html", pending=pending, minutes=gateway.settings.web_code_minutes)


@bp.post("/report/confirm")
def confirm():
    gateway = _gateway()
    token, masked = request.form.get("token", "")[:40], request.form.get("masked", "")[:20]
    try:
        filed = web_reports.confirm(gateway.ctx, _rules(gateway), token, request.form.get("code", "")[:20],
                                    gateway.clock(), send=gateway.sender.send)
    except CodeExpired as exc:
        return _refused("public/report.html", exc, form={"text": "", "place": "", "phone": ""})
    except WebRefused as exc:
        return _refused("public/confirm.html", exc, pending=web_reports.Pending(token, masked),
                        minutes=gateway.settings.web_code_minutes)
    return render_template("public/filed.html", filed=filed)


@bp.get("/status")
def status():
    return render_template("public/status.html", asked=False, found=None)


@bp.post("/status")
def look_up():
    gateway = _gateway()
    try:
        found = web_reports.look_up(gateway.ctx, _rules(gateway), request.form.get("code", "")[:30],
                                    request.form.get("phone", "")[:40], request.remote_addr or "", gateway.clock())
    except TooMany as exc:
        return _refused("public/status.html", exc, asked=False, found=None)
    return render_template("public/status.html", asked=True, found=found)
