"""The one composition root: settings in, a typed Gateway out. Shared by the web app, the CLI and the
scheduler; tests hand in a fixed clock and fake providers."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .adapters.db import make_engine, make_session_factory
from .adapters.texts import SmsTexts
from .domain.city import CityData, load_city
from .domain.phones import normalise_phone
from .domain.policy import Policy
from .providers import PROVIDERS
from .services.context import Context
from .services.outbox import Failover, Outbox
from .services.sending import BackgroundSender
from .settings import Settings, parse_quiet_hours
from .understanding import Classifier

log = logging.getLogger("sms_gateway")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Gateway:
    """Everything built once per process."""

    settings: Settings
    engine: Engine
    clock: Clock
    ctx: Context
    providers: Mapping[str, Any]  # the configured providers by name: their webhooks are open, they send
    sender: BackgroundSender      # direct answers, sent once committed: off the request in the web app

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.ctx.sessions

    @property
    def city(self) -> CityData:
        return self.ctx.city


def build_gateway(settings: Settings, clock: Clock | None = None, providers: Mapping[str, Any] | None = None,
                  classifier: Classifier | None = None, web: bool = False) -> Gateway:
    """Engine, sessions, city, providers, understanding and the services' context, wired once. The web
    app's (`web`) statements are limited in time and its answers sent in background threads; the
    scheduler's and the CLI's are not."""
    city = load_city(settings.city_data)
    settings = settings.replace(line=settings.line or city.line)
    engine = make_engine(settings.database_url,
                         statement_timeout=settings.web_statement_timeout_seconds if web else 0.0)
    built = {name: cls(settings) for name, cls in PROVIDERS.items() if _configured(settings, name)}
    built.update(providers or {})
    for name in PROVIDERS:
        if name not in built and name != "console":
            log.info("%s is not configured: its webhook is disabled", name)
    policy = policy_from(settings)
    failover = None
    if settings.fallback_provider and settings.fallback_provider in built:
        failover = Failover(settings.provider, settings.fallback_provider, settings.fallback_after)
    ctx = Context(sessions=make_session_factory(engine), city=city, policy=policy, texts=SmsTexts(city),
                  classifier=classifier or Classifier(city),
                  outbox=Outbox(built, settings.provider, policy, failover), max_text_chars=settings.max_text_chars)
    clock = clock or utc_now
    sender = BackgroundSender(ctx.outbox, ctx.sessions, clock, settings.send_threads if web else 0)
    return Gateway(settings, engine, clock, ctx, built, sender)


def _configured(settings: Settings, name: str) -> bool:
    """The console exists only in development (it is the SMS provider); others once their secrets are set."""
    return settings.provider == "console" if name == "console" else bool(settings.section(name).configured)


def policy_from(settings: Settings) -> Policy:
    quiet_start, quiet_end = parse_quiet_hours(settings.quiet_hours)
    return Policy(timezone=settings.timezone, quiet_start=quiet_start, quiet_end=quiet_end,
                  reminder_days=settings.reminder_days, clarify_hours=settings.clarify_hours,
                  duplicate_days=settings.duplicate_days, max_tickets_per_day=settings.max_tickets_per_day,
                  blocked_numbers=frozenset(normalise_phone(n) for n in settings.blocked_numbers),
                  verdict_accept=settings.verdict_accept, verdict_object=settings.verdict_object,
                  max_send_attempts=settings.max_send_attempts,
                  claim_lease=timedelta(seconds=settings.claim_lease_seconds), claim_batch=settings.claim_batch,
                  content_retry=timedelta(minutes=settings.content_retry_minutes),
                  emergency_sla_hours=settings.emergency_sla_hours)
