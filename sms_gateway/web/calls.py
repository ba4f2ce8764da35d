"""The dashboard's «ثبت تماس تلفنی» page: an operator types what a caller said, reads what understanding
makes of it (category and place pre-filled, editable), and files it through services.calls."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required

from ..services import calls
from ..services.tickets import Refused
from .dashboard import _gateway, _viewer

bp = Blueprint("calls", __name__)


@bp.after_request
def _never_stored(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _form() -> dict[str, str]:
    f = request.form
    return {"phone": f.get("phone", "")[:40], "text": f.get("text", "")[:calls.MAX_CALL_CHARS],
            "category": f.get("category", "")[:40], "neighbourhood": f.get("neighbourhood", "")[:80],
            "call_id": (f.get("call_id", "") or uuid.uuid4().hex)[:40]}


def _page(form: dict[str, str], draft: calls.Draft | None = None, filed: calls.Filed | None = None, status: int = 200):
    return render_template("dashboard/call.html", form=form, draft=draft, filed=filed, viewer=_viewer()), status


@bp.get("/calls/new")
@login_required
def new_call():
    return _page({"phone": "", "text": "", "category": "", "neighbourhood": "", "call_id": uuid.uuid4().hex})


@bp.post("/calls/understand")
@login_required
def understand():
    """What understanding reads in the text typed so far, for the page to pre-fill as the operator types
    (same origin, the CSRF token in the X-CSRFToken header); the operator's own choices are kept."""
    gateway, body = _gateway(), request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        body = {}
    text, category, neighbourhood = (str(body.get(k, ""))[:calls.MAX_CALL_CHARS] for k in
                                     ("text", "category", "neighbourhood"))
    d = calls.understand(gateway.ctx, text, category[:40], neighbourhood[:80])
    return jsonify(category=d.category, neighbourhood=d.neighbourhood, region=d.region,
                   region_label=gateway.city.region_name(d.region), emergency=d.emergency,
                   emergency_service=d.emergency_service, identity_bound=d.identity_bound)


@bp.post("/calls/new")
@login_required
def file_call():
    """«خواندن متن» shows what was read (the choices stay the operator's); «ثبت درخواست» files it."""
    gateway, form = _gateway(), _form()
    if request.form.get("action") == "preview":
        draft = calls.understand(gateway.ctx, form["text"], form["category"], form["neighbourhood"])
        form["category"] = form["category"] or draft.category or ""
        form["neighbourhood"] = form["neighbourhood"] or draft.neighbourhood or ""
        return _page(form, draft)
    try:
        filed = calls.file_call(gateway.ctx, _viewer(), form["phone"], form["text"], form["category"],
                                form["neighbourhood"], gateway.clock(), call_id=form["call_id"],
                                send=gateway.sender.send)
    except Refused as exc:
        flash(str(exc), "error")
        return _page(form, status=400)
    if filed.code is None:
        return _page(form, filed=filed)
    flash("تماس ثبت شد؛ کد رهگیری با پیامک برای تماس‌گیرنده فرستاده شد." if filed.sent == "sent"
          else "تماس ثبت شد؛ پیامک کد رهگیری برای تماس‌گیرنده فرستاده می‌شود.", "ok")
    return redirect(url_for("dashboard.ticket", code=filed.code))
