"""The Kashan 137 SMS gateway: application factory."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

from flask import Flask

from providers import PROVIDERS
from providers.base import Provider

from .settings import Settings, load_settings

log = logging.getLogger("sms_gateway")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Gateway:
    """Everything built once per process and shared by the blueprints and commands."""

    settings: Settings
    engine: object
    sessions: object
    clock: Callable[[], datetime]
    providers: dict[str, Provider]
    webhook_providers: dict[str, Provider] = field(default_factory=dict)
    intake: object = None
    followups: object = None
    failover: object = None

    @property
    def outbound_provider(self) -> Provider:
        return self.providers[self.settings.provider]

    def send_now(self, outbound_id: int) -> str:
        """Send one queued direct answer right after its commit; returns its new status."""
        from .outbound import deliver

        return deliver(self.sessions, outbound_id, self.providers, self.clock, self.followups.policy, self.failover)

    def take_inbound(self, sms, reply_inline: bool):
        """Store and answer an inbound SMS; a reply that does not ride on the provider's answer goes out
        at once through the provider it came in on."""
        from .intake import handle_inbound_sms

        result = handle_inbound_sms(self.sessions, sms, self.intake, sms.provider, reply_inline)
        if not reply_inline and result.outbound_id is not None:
            self.send_now(result.outbound_id)
        return result


def build_gateway(settings: Settings, clock=None, providers: Mapping[str, Provider] | None = None) -> Gateway:
    """Wire engine, sessions, providers and understanding; shared by the web app and the CLI."""
    from .db import make_engine, make_session_factory
    from .intake import IntakeContext
    from .lifecycle import FollowUps
    from .messages import SmsTemplates
    from .understanding import Classifier

    engine = make_engine(settings.database_url)
    built: dict[str, Provider] = {}
    for name, cls in PROVIDERS.items():
        section = getattr(settings, name, None)
        if name == "console" or (section is not None and section.configured):
            built[name] = cls(settings)
    built.update(providers or {})
    webhook = {n: p for n, p in built.items() if n != "console" or settings.provider == "console"}
    for name in PROVIDERS:
        if name not in webhook and name != "console":
            log.warning("%s is not configured: its webhook is disabled", name)
    clock = clock or utc_now
    classifier = Classifier(settings.city_data or None)
    templates = SmsTemplates()
    followups = FollowUps(templates=templates, policy=policy_from(settings), city=classifier.city,
                          outbound_provider=settings.provider, clock=clock)
    intake = IntakeContext(classifier=classifier, templates=templates, clock=clock, followups=followups,
                           max_text_chars=settings.max_text_chars, timezone=settings.timezone)
    failover = None
    if settings.fallback_provider and settings.fallback_provider in built:
        from .outbound import Failover
        failover = Failover(settings.provider, settings.fallback_provider, settings.fallback_after)
    return Gateway(settings, engine, make_session_factory(engine), clock, built, webhook, intake, followups, failover)


def policy_from(settings: Settings):
    from .domain import Policy
    from .phone import normalise_phone
    from .settings import parse_quiet_hours

    quiet_start, quiet_end = parse_quiet_hours(settings.quiet_hours)
    return Policy(timezone=settings.timezone, quiet_start=quiet_start, quiet_end=quiet_end,
                  reminder_days=settings.reminder_days, clarify_hours=settings.clarify_hours,
                  duplicate_days=settings.duplicate_days, max_tickets_per_day=settings.max_tickets_per_day,
                  blocked_numbers=frozenset(normalise_phone(n) for n in settings.blocked_numbers),
                  verdict_accept=settings.verdict_accept, verdict_object=settings.verdict_object,
                  max_send_attempts=settings.max_send_attempts,
                  claim_lease=timedelta(seconds=settings.claim_lease_seconds))


def create_app(settings: Settings | None = None, clock=None, providers: Mapping[str, Provider] | None = None) -> Flask:
    """Application factory: tests pass settings, a fixed clock and fake providers."""
    from pathlib import Path

    from flask_wtf.csrf import CSRFProtect

    from .web import dashboard, errors, filters, health, webhooks

    settings = settings or load_settings()
    root = Path(__file__).resolve().parent.parent
    app = Flask(__name__, template_folder=str(root / "templates"), static_folder=str(root / "static"))
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"))
    app.config.update(REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
                      REMEMBER_COOKIE_SECURE=settings.public_url.startswith("https://"),
                      WTF_CSRF_TIME_LIMIT=None, SEND_FILE_MAX_AGE_DEFAULT=86400)
    gateway = build_gateway(settings, clock, providers)
    app.extensions["sms_gateway"] = gateway
    errors.init_app(app)
    filters.init_filters(app, settings.timezone, gateway.followups.city)
    csrf = CSRFProtect(app)
    csrf.exempt(webhooks.bp)  # providers prove themselves by signature or token, not by a form token
    dashboard.login_manager.init_app(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    if settings.proxy_hops > 0:  # the client's address (login throttling, logs) comes from the proxy
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
    app.before_request(_start_timer)
    app.after_request(_log_request)
    app.after_request(_security_headers)
    return app


def _start_timer() -> None:
    from time import perf_counter

    from flask import g

    g.started = perf_counter()


def _log_request(response):
    """One structured line per request; webhook tokens cut out of the path."""
    from time import perf_counter

    from flask import g, request

    from .logs import safe_path

    if not request.path.startswith("/static/"):
        started = getattr(g, "started", None)
        log.info("request", extra={"method": request.method, "path": safe_path(request.path),
                                   "status": response.status_code,
                                   "ms": round((perf_counter() - started) * 1000, 1) if started else None})
    return response


def _security_headers(response):
    """Everything the pages need is served by the app: no inline script, no other origin."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
