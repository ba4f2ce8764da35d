"""Clear answers for bad input and outages; never a traceback in a response."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from providers.base import WebhookRejected

log = logging.getLogger("sms_gateway.web")


def init_app(app: Flask) -> None:
    @app.errorhandler(WebhookRejected)
    def rejected(exc: WebhookRejected):
        log.warning("webhook rejected (%s): %s", exc.status, exc.reason)
        return jsonify(error=exc.reason), exc.status

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_down(exc):
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return jsonify(error="database unavailable, try again"), 503, {"Retry-After": "5"}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error="internal error"), 500
