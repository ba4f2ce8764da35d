"""The desk's pages and actions: referral to a unit, sending back, assignment, internal notes, the weekly
«بازبینی» list and the per-unit report's CSV. Each parses the form, calls one service, redirects."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.exceptions import NotFound

from ..services import audit, reports, unit_report
from ..services import tickets as ticket_actions
from ..services.tickets import Refused, TicketNotFound
from .dashboard import _gateway, _period, _viewer

bp = Blueprint("desk", __name__)


@bp.after_request
def _never_stored(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter("unit_label")
def _unit_label(code: str | None) -> str:
    return _gateway().city.unit_label(code) if code else "—"


@bp.app_template_filter("week_label")
def _week_label(first_day: str) -> str:
    """An audit week by its first day (ISO): «هفته ۱۴۰۵/۰۹/۰۱»."""
    from datetime import date

    from persiantools.jdatetime import JalaliDate

    from ..domain.text import persian_digits

    return persian_digits("هفته " + JalaliDate(date.fromisoformat(first_day)).strftime("%Y/%m/%d"))


@bp.app_context_processor
def _units() -> dict:
    gateway = current_app.extensions.get("sms_gateway")
    return {"UNITS": gateway.city.units if gateway else ()}


@bp.errorhandler(TicketNotFound)
def _not_found(_exc):
    return current_app.handle_http_exception(NotFound())


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    flash(str(exc), "error")
    code = (request.view_args or {}).get("code")
    return redirect(url_for("dashboard.ticket", code=code) if code else url_for("desk.review_page"))


def _done(code: str, message: str):
    flash(message, "ok")
    return redirect(url_for("dashboard.ticket", code=code))


@bp.post("/tickets/<code>/refer")
@login_required
def refer(code: str):
    g, f = _gateway(), request.form
    ticket = ticket_actions.refer_to_unit(g.ctx, _viewer(), code, f.get("unit", "")[:80], f.get("note", ""), g.clock())
    return _done(code, f"به «{g.city.unit_label(ticket.unit)}» ارجاع شد.")


@bp.post("/tickets/<code>/return")
@login_required
def send_back(code: str):
    g = _gateway()
    ticket_actions.return_to_centre(g.ctx, _viewer(), code, request.form.get("reason", ""), g.clock())
    flash("درخواست به مرکز ۱۳۷ بازگردانده شد.", "ok")
    return redirect(url_for("dashboard.tickets"))


@bp.post("/tickets/<code>/assign")
@login_required
def assign(code: str):
    g = _gateway()
    assignee = request.form.get("assignee", "")[:80]
    ticket_actions.assign(g.ctx, _viewer(), code, assignee, g.clock())
    return _done(code, f"به {assignee} سپرده شد." if assignee.strip() else "ارجاع به همکار برداشته شد.")


@bp.post("/tickets/<code>/note")
@login_required
def note(code: str):
    g = _gateway()
    ticket_actions.add_note(g.ctx, _viewer(), code, request.form.get("text", ""), g.clock())
    return _done(code, "یادداشت داخلی ثبت شد.")


@bp.get("/review")
@login_required
def review_page():
    if not _viewer().reviews:
        abort(403)
    samples = audit.review_list(_gateway().ctx, _viewer())
    return render_template("dashboard/review.html", samples=samples, viewer=_viewer())


@bp.post("/review/<int:sample_id>")
@login_required
def review_post(sample_id: int):
    if not _viewer().reviews:
        abort(403)
    g, f = _gateway(), request.form
    audit.review(g.ctx, _viewer(), sample_id, f.get("outcome", ""), f.get("note", ""), g.clock())
    flash("بازبینی ثبت شد.", "ok")
    return redirect(url_for("desk.review_page"))


@bp.get("/reports/units.csv")
@login_required
def units_csv():
    try:
        p = _period()
    except reports.ReportError as exc:
        abort(400, str(exc))
    rows = unit_report.unit_table(_gateway().sessions, _viewer(), p, _gateway().city)
    return Response(unit_report.unit_table_csv(rows), mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": "attachment; filename=report-by-unit.csv"})
