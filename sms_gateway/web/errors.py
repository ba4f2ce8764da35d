"""Clear answers for bad input and outages; never a traceback in a response."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from ..providers.base import WebhookRejected
from . import open311

log = logging.getLogger("sms_gateway.web")


def init_app(app: Flask) -> None:
    @app.errorhandler(WebhookRejected)
    def rejected(exc: WebhookRejected):
        log.warning("webhook rejected (%s): %s", exc.status, exc.reason)
        return jsonify(error=exc.reason), exc.status

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        if not isinstance(exc, (OperationalError, InterfaceError)) and not exc.connection_invalidated:
            return unexpected(exc)  # a data error is a fault of ours, never reported as an outage
        timed_out = getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED  # web_statement_timeout_seconds
        log.error("database %s: %s", "too slow" if timed_out else "unavailable",
                  type(exc.orig).__name__ if exc.orig else exc)
        message = _SLOW_DATABASE if timed_out else _PERSIAN[503]
        if _is_open311():
            return open311.error_response(503, message, {"Retry-After": "5"})
        if _wants_json():  # a provider told 503 sends the message again: it is stored then, or still refused
            error = "database too slow, try again" if timed_out else "database unavailable, try again"
            return jsonify(error=error, message=message), 503, {"Retry-After": "5"}
        return (render_template("dashboard/error.html", code=503, message=message), 503,
                {"Retry-After": "5"})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _is_open311():
            return open311.error_response(exc.code or 400, _PERSIAN.get(exc.code or 400, _PERSIAN[400]))
        if _wants_json():
            return jsonify(error=exc.description), exc.code
        message = _PERSIAN.get(exc.code or 500, "")
        return render_template("dashboard/error.html", code=exc.code, message=message), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        if _is_open311():
            return open311.error_response(500, _PERSIAN[500])
        if _wants_json():
            return jsonify(error="internal error"), 500
        return render_template("dashboard/error.html", code=500, message=_PERSIAN[500]), 500


_PERSIAN = {400: "درخواست نادرست است؛ اگر فرم را فرستادید، صفحه را دوباره باز کنید و دوباره بفرستید.",
            403: "دسترسی به این صفحه را ندارید.", 404: "پیدا نشد.", 405: "این روش پشتیبانی نمی‌شود.",
            413: "درخواست بیش از حد بزرگ است.", 429: "تلاش‌ها بیش از حد بود.",
            500: "خطای داخلی؛ دوباره امتحان کنید.", 503: "پایگاه داده در دسترس نیست؛ چند لحظه دیگر امتحان کنید."}


QUERY_CANCELED = "57014"  # PostgreSQL: statement_timeout (or a cancel) stopped the statement
_SLOW_DATABASE = "پایگاه داده به‌موقع پاسخ نداد؛ چند لحظه دیگر دوباره امتحان کنید."


def _is_open311() -> bool:
    """The Open311 API answers errors in the spec's own form."""
    return request.path.startswith(open311.PREFIX + "/")


def _wants_json() -> bool:
    return request.path.startswith(("/webhooks/", "/healthz", "/metrics", "/api/"))
