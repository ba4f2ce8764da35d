"""The web app: staff dashboard, provider webhooks, health and metrics."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from time import perf_counter
from typing import Any

from flask import Flask, Response, g, request

from ..adapters.logs import safe_path
from ..adapters.resources import resource_dir
from ..bootstrap import Clock, Gateway, build_gateway
from ..settings import Settings, load_settings

log = logging.getLogger("sms_gateway")


def create_app(settings: Settings | None = None, clock: Clock | None = None,
               providers: Mapping[str, Any] | None = None) -> Flask:
    """Application factory: tests pass settings, a fixed clock and fake providers."""
    from flask_wtf.csrf import CSRFProtect

    from . import calls, dashboard, desk, errors, filters, health, open311, public, webhooks

    settings = settings or load_settings()
    app = Flask(__name__, template_folder=str(resource_dir("templates")), static_folder=str(resource_dir("static")))
    secure = settings.public_url.startswith("https://")
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
                      REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SECURE=secure,
                      WTF_CSRF_TIME_LIMIT=None, SEND_FILE_MAX_AGE_DEFAULT=86400)
    gateway = build_gateway(settings, clock, providers, web=True)
    app.extensions["sms_gateway"] = gateway
    errors.init_app(app)
    filters.init_filters(app, settings.timezone, gateway.city)
    webhooks_bp = webhooks.blueprint(gateway)
    csrf = CSRFProtect(app)
    csrf.exempt(webhooks_bp)  # providers prove themselves by signature or token, not by a form token
    csrf.exempt(open311.bp)  # client applications prove themselves by their api_key
    dashboard.login_manager.init_app(app)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(open311.bp)
    if settings.proxy_hops > 0:  # the client's address (login throttling, logs) comes from the proxy
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    app.before_request(_start_timer)
    app.after_request(_log_request)
    app.after_request(_security_headers)
    return app


def gateway_of(app: Flask) -> Gateway:
    gateway: Gateway = app.extensions["sms_gateway"]
    return gateway


def _start_timer() -> None:
    g.started = perf_counter()


def _log_request(response: Response) -> Response:
    """One structured line per request; webhook tokens cut out of the path."""
    if not request.path.startswith("/static/"):
        started = getattr(g, "started", None)
        log.info("request", extra={"method": request.method, "path": safe_path(request.path),
                                   "status": response.status_code,
                                   "ms": round((perf_counter() - started) * 1000, 1) if started else None})
    return response


def _security_headers(response: Response) -> Response:
    """Everything the pages need is served by the app: no inline script, no other origin."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
