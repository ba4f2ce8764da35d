"""The staff dashboard: Persian, right to left, server-rendered. Parses forms, calls desk services."""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.exceptions import NotFound

from ..bootstrap import Gateway
from ..domain.staff import Viewer
from ..domain.text import persian_digits
from ..services import bulk, exports, lifecycle, live, reports, staff, unit_report
from ..services import queue as queue_service
from ..services import tickets as ticket_actions
from ..services.canned import CannedError, delete_canned, list_canned, save_canned
from ..services.ticket_view import ticket_view
from ..services.tickets import Refused, TicketNotFound

bp = Blueprint("dashboard", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
login_manager = LoginManager()
login_manager.login_view = "dashboard.login"
login_manager.login_message = "برای دیدن این صفحه وارد شوید."
login_manager.session_protection = "strong"


class StaffSession(UserMixin):
    """Flask-Login's user: a thin wrapper around the Viewer the services use. Its id, kept in the session
    cookie, is the staff member's id and session version (see services.staff.session_id_of)."""

    def __init__(self, viewer: Viewer, session_id: str):
        self.viewer = viewer
        self.id = session_id


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["sms_gateway"]
    return gateway


@login_manager.user_loader
def _load(session_id: str):
    """On every request: the cookie's staff member, unless their sessions were ended since it was issued."""
    viewer = staff.load_viewer(_gateway().sessions, session_id)
    return StaffSession(viewer, session_id) if viewer else None


def _viewer() -> Viewer:
    return current_user.viewer


def _admin_only() -> None:
    if not _viewer().is_admin:
        abort(403)


@bp.after_request
def _never_stored(response: Response) -> Response:
    """Dashboard pages and exports carry citizens' numbers: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
def home():
    return redirect(url_for("dashboard.tickets"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("dashboard/login.html")
    gateway = _gateway()
    try:
        viewer = staff.authenticate(gateway.sessions, request.form.get("username", ""),
                                    request.form.get("password", ""), request.remote_addr or "", gateway.clock())
    except staff.TooManyAttempts as exc:
        flash(str(exc), "error")
        return render_template("dashboard/login.html"), 429, {"Retry-After": str(exc.retry_after)}
    if viewer is None:
        flash("نام کاربری یا گذرواژه درست نیست.", "error")
        return render_template("dashboard/login.html"), 401
    login_user(StaffSession(viewer, staff.session_id_of(gateway.sessions, viewer.id)))
    return redirect(_local_target(request.args.get("next", "")))


def _local_target(raw: str) -> str:
    """Where to go after logging in: `next` when it is a path on this site, else the queue. Browsers drop
    tabs and newlines from a URL and read a backslash as a slash, so those go before the check: «/%09/x»
    would otherwise pass as a path and be followed as //x, another site."""
    target = "".join(ch for ch in raw if ch != "\\" and unicodedata.category(ch) != "Cc")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.tickets")
    return target


@bp.post("/logout")
@login_required
def logout():
    staff.end_sessions(_gateway().sessions, _viewer().id)
    logout_user()
    return redirect(url_for("dashboard.login"))


def _filters() -> queue_service.QueueFilters:
    a = request.args
    return queue_service.QueueFilters(
        status=a.get("status", ""), category=a.get("category", ""), region=a.get("region", ""),
        neighbourhood=a.get("neighbourhood", ""), overdue=a.get("overdue") == "1",
        objections=a.get("objections") == "1", incomplete=a.get("incomplete") == "1",
        uncategorised=a.get("uncategorised") == "1", unread=a.get("unread") == "1", q=a.get("q", "")[:40],
        channel=a.get("channel", "")[:20], unit=a.get("unit", "")[:60],
        assignee_id=_viewer().id if a.get("mine") == "1" else 0)


@bp.get("/tickets")
@login_required
def tickets():
    f = _filters()
    gateway = _gateway()
    now = gateway.clock()
    page = queue_service.queue(gateway.ctx, _viewer(), f, now, request.args.get("after", ""))
    return render_template("dashboard/queue.html", page=page, filters=f, viewer=_viewer(), since=now.isoformat(),
                           reason_room=lifecycle.reason_room(gateway.ctx), units=gateway.city.units,
                           colleagues=[p.username for p in staff.list_staff(gateway.sessions) if p.active])


@bp.get("/tickets/live")
@login_required
def tickets_live():
    """The open queue page's poll (static/js/app.js, every 10 s): the rows changed since its last mark."""
    gateway, f = _gateway(), _filters()
    now = gateway.clock()
    found = live.changes(gateway.ctx, _viewer(), f, live.parse_since(request.args.get("since", ""), now), now)
    row = current_app.jinja_env.get_template("dashboard/_row.html").module.queue_row
    return {"mark": found.mark.isoformat(),
            "rows": [{"code": r["code"], "updated": r["updated_at"].isoformat(), "pinned": r["pinned"],
                      "html": str(row(r, f.overdue, _viewer()))} for r in found.rows]}


@bp.post("/tickets/bulk")
@login_required
def tickets_bulk():
    """Several tickets closed with one reason, referred to one unit or assigned to one colleague; what could
    not be done is said ticket by ticket."""
    gateway, form = _gateway(), request.form
    codes, action, now = form.getlist("codes"), form.get("action", ""), gateway.clock()
    if not codes:
        flash("درخواستی انتخاب نشده است.", "error")
        return redirect(url_for("dashboard.tickets"))
    try:
        if action == "refer":
            done = bulk.refer_many(gateway.ctx, _viewer(), codes, form.get("unit", ""), form.get("note", ""), now)
        elif action == "assign":
            done = bulk.assign_many(gateway.ctx, _viewer(), codes, form.get("assignee", ""), now)
        else:
            done = bulk.close_many(gateway.ctx, _viewer(), codes, form.get("status", ""), form.get("note", ""), now)
    except Refused as exc:
        flash(str(exc), "error")
        return redirect(url_for("dashboard.tickets"))
    if done.changed:
        flash(f"{persian_digits(str(len(done.changed)))} درخواست: انجام شد.", "ok")
    for code, reason in done.refused:
        flash(f"{persian_digits(code)}: {reason}", "error")
    return redirect(url_for("dashboard.tickets"))


@bp.get("/tickets.csv")
@login_required
def tickets_csv():
    gateway = _gateway()
    rows = exports.ticket_rows(gateway.ctx, _viewer(), _filters(), gateway.clock())
    return Response(exports.to_csv(rows), mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": "attachment; filename=tickets.csv"})


@bp.get("/tickets.xlsx")
@login_required
def tickets_xlsx():
    gateway = _gateway()
    rows = exports.ticket_rows(gateway.ctx, _viewer(), _filters(), gateway.clock())
    return Response(exports.to_xlsx(rows), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=tickets.xlsx"})


@bp.errorhandler(TicketNotFound)
def _ticket_not_found(_exc):
    """Unknown, or in another region: the same 404 page either way."""
    return current_app.handle_http_exception(NotFound())


@bp.errorhandler(staff.TooManySearches)
def _too_many_searches(exc: staff.TooManySearches):
    return (render_template("dashboard/error.html", code=429, message=str(exc)), 429,
            {"Retry-After": str(exc.retry_after)})


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    """An action staff may not do as asked: say why on the ticket's page."""
    flash(str(exc), "error")
    return _back((request.view_args or {})["code"])


def _back(code: str):
    return redirect(url_for("dashboard.ticket", code=code))


def _render_ticket(code: str, reveal: bool = False):
    gateway = _gateway()
    detail = ticket_view(gateway.ctx, _viewer(), code, gateway.clock(), reveal=reveal)
    return render_template("dashboard/ticket.html", t=detail, canned=list_canned(gateway.sessions),
                           viewer=_viewer(), reason_room=lifecycle.reason_room(gateway.ctx))


@bp.get("/tickets/<code>")
@login_required
def ticket(code: str):
    ticket_actions.mark_read(_gateway().ctx, _viewer(), code, _gateway().clock())
    return _render_ticket(code)


@bp.post("/tickets/<code>/reply")
@login_required
def ticket_reply(code: str):
    gateway = _gateway()
    outbound_id = ticket_actions.reply(gateway.ctx, _viewer(), code, request.form.get("body", ""), gateway.clock())
    status = gateway.sender.send(outbound_id)  # committed: sent in the background when the web app has threads
    flash("پاسخ ارسال شد." if status == "sent" else "پاسخ ثبت شد و فرستاده می‌شود.", "ok")
    return _back(code)


@bp.post("/tickets/<code>/status")
@login_required
def ticket_status(code: str):
    gateway = _gateway()
    ticket_actions.change_status(gateway.ctx, _viewer(), code, request.form.get("status", ""),
                                 request.form.get("note", ""), gateway.clock())
    flash("وضعیت تغییر کرد.", "ok")
    return _back(code)


@bp.post("/tickets/<code>/correct")
@login_required
def ticket_correct(code: str):
    gateway = _gateway()
    changed = ticket_actions.correct(gateway.ctx, _viewer(), code, request.form.get("category", ""),
                                     request.form.get("neighbourhood", ""), gateway.clock())
    flash("اصلاح ثبت شد." if changed else "چیزی تغییر نکرد.", "ok")
    return _back(code)


@bp.post("/tickets/<code>/merge")
@login_required
def ticket_merge(code: str):
    gateway = _gateway()
    survivor = bulk.merge(gateway.ctx, _viewer(), code, request.form.get("into", ""), gateway.clock())
    flash(f"در درخواست {persian_digits(survivor)} ادغام شد.", "ok")
    return _back(code)


@bp.post("/tickets/<code>/reveal")
@login_required
def ticket_reveal(code: str):
    ticket_actions.reveal_phone(_gateway().ctx, _viewer(), code, _gateway().clock())
    return _render_ticket(code, reveal=True)


def _today(gateway: Gateway):
    return gateway.clock().astimezone(ZoneInfo(gateway.settings.timezone)).date()


def _period():
    gateway = _gateway()
    return reports.period(request.args.get("from", ""), request.args.get("to", ""), _today(gateway),
                          gateway.settings.timezone)


@bp.get("/reports")
@login_required
def reports_page():
    gateway = _gateway()
    try:
        p = _period()
    except reports.ReportError as exc:
        flash(str(exc), "error")
        p = reports.period("", "", _today(gateway), gateway.settings.timezone)
    viewer, sessions = _viewer(), gateway.sessions
    return render_template(
        "dashboard/reports.html", period=p, viewer=viewer, halves=reports.half_years(_today(gateway)),
        regions=reports.region_table(sessions, viewer, p, gateway.city),
        channels=reports.channel_table(sessions, viewer, p),
        categories=reports.by_category(sessions, viewer, p),
        quiet=reports.quiet_neighbourhoods(sessions, viewer, p, gateway.city),
        figures=reports.service_figures(sessions, viewer, p),
        units=unit_report.unit_table(sessions, viewer, p, gateway.city))


@bp.get("/reports.csv")
@login_required
def reports_csv():
    try:
        p = _period()
    except reports.ReportError as exc:
        abort(400, str(exc))
    if request.args.get("by") == "channel":  # the same figures by the channel requests came in by
        table = reports.channel_table(_gateway().sessions, _viewer(), p)
        return Response(reports.channel_table_csv(table), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=report-by-channel.csv"})
    rows = reports.region_table(_gateway().sessions, _viewer(), p, _gateway().city)
    return Response(reports.region_table_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=report-by-region.csv"})


@bp.route("/staff", methods=["GET", "POST"])
@login_required
def staff_page():
    _admin_only()
    gateway = _gateway()
    if request.method == "POST":
        form = request.form
        try:
            action = form.get("action", "")
            if action == "create":
                region = form.get("region", "")
                staff.create_staff(gateway.sessions, form.get("new_username", ""), form.get("new_password", ""),
                                   form.get("role", "operator"), int(region) if region.isdigit() else None,
                                   gateway.clock(), department=form.get("department"), city=gateway.city)
            elif action in ("disable", "enable"):
                staff.set_active(gateway.sessions, int(form.get("user_id", "0")), action == "enable")
            elif action == "role":
                region = form.get("region", "")
                staff.set_role(gateway.sessions, int(form.get("user_id", "0")), form.get("role", ""),
                               int(region) if region.isdigit() else None, form.get("department"), gateway.city)
            elif action == "reset":
                staff.reset_password(gateway.sessions, int(form.get("user_id", "0")), form.get("new_password", ""))
            else:
                abort(400)
            flash("انجام شد.", "ok")
        except (staff.StaffError, ValueError) as exc:
            flash(str(exc), "error")
        return redirect(url_for("dashboard.staff_page"))
    return render_template("dashboard/staff.html", people=staff.list_staff(gateway.sessions), viewer=_viewer())


@bp.route("/canned", methods=["GET", "POST"])
@login_required
def canned_page():
    _admin_only()
    gateway = _gateway()
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "delete":
                delete_canned(gateway.sessions, int(form.get("canned_id", "0")))
            else:
                canned_id = form.get("canned_id", "")
                save_canned(gateway.sessions, int(canned_id) if canned_id.isdigit() else None,
                            form.get("title", ""), form.get("body", ""))
            flash("ذخیره شد.", "ok")
        except (CannedError, ValueError) as exc:
            flash(str(exc), "error")
        return redirect(url_for("dashboard.canned_page"))
    return render_template("dashboard/canned.html", canned=list_canned(gateway.sessions), viewer=_viewer())


@bp.get("/city")
@login_required
def city_page():
    _admin_only()
    return render_template("dashboard/city.html", city=_gateway().city, viewer=_viewer())
