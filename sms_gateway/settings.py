"""Typed, frozen settings: built-in defaults, then a TOML file, then environment variables."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

ENV_PREFIX = "SMS_GATEWAY_"
DEV_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_BYTES = 32   # secret_key and retention_key, once anything real is at stake
MIN_TOKEN_CHARS = 24    # a webhook token in a URL path is the only secret an unsigned provider has


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the key."""


def _registry() -> dict[str, Any]:
    from .providers import PROVIDERS

    return PROVIDERS


def _default_sections() -> dict[str, Any]:
    return {name: cls.settings_class() for name, cls in _registry().items()}


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///instance/sms_gateway.sqlite3"
    secret_key: str = DEV_SECRET_KEY
    provider: str = "console"           # the SMS provider answers and follow-ups go out through
    public_url: str = ""
    line: str = ""                      # the SMS line; empty: the city's line from its city data
    city_data: str = "kashan"           # a bundled city by name (kashan, isfahan), any other value a file path
    timezone: str = "Asia/Tehran"
    max_text_chars: int = 1600
    max_body_bytes: int = 64 * 1024
    send_timeout_seconds: float = 10.0
    send_threads: int = 4               # per web worker: direct answers are sent after the answer, off the request
    web_statement_timeout_seconds: float = 5.0  # PostgreSQL: a web request's statement is cancelled after this
    # Conversation and scheduled follow-ups
    quiet_hours: str = "21:00-08:00"    # local time; automated messages wait for the morning
    reminder_days: int = 3              # remind the citizen every N days while a ticket stays open
    clarify_hours: int = 24             # how long a question to the citizen waits for an answer
    duplicate_days: int = 7             # a report like an open ticket of the last N days is linked to it
    max_tickets_per_day: int = 5        # more new tickets per number per day get a polite refusal
    blocked_numbers: tuple[str, ...] = ()
    verdict_accept: str = "31"
    verdict_object: str = "33"
    max_send_attempts: int = 6
    scheduler_interval_seconds: int = 30
    poll_inbound_seconds: int = 0       # > 0: poll providers that can be polled (Kavenegar receive.json)
    proxy_hops: int = 0                 # reverse proxies in front that set X-Forwarded-For (trusted)
    retention_months: int = 24          # anonymise numbers of citizens whose tickets all closed before
    claim_lease_seconds: int = 600      # a message left `sending` this long by a dead sender is sent again
    content_retry_minutes: int = 10     # no message ids (Melipayamak): the same sender, line, text this soon is a retry
    claim_batch: int = 10               # messages a sender claims at once (a killed one strands at most these)
    fallback_provider: str = ""         # SMS provider to use while the main one keeps failing
    fallback_after: int = 3             # consecutive failures of the main provider before falling back
    emergency_sla_hours: int = 4        # an emergency ticket is due within hours, whatever its category
    audit_sample_per_unit: int = 3      # closed tickets of each unit drawn every week for a supervisor's review
    open311_requests_per_minute: int = 60  # per API key of the Open311 API, counted in the database
    # The citizen web page (/report, /status): the one-time code, and limits per window of web_limit_minutes
    web_code_minutes: int = 10          # a code expires this long after it was sent
    web_code_attempts: int = 5          # wrong codes allowed before a new one must be asked for
    web_codes_per_number: int = 3       # codes one phone number may be sent per window
    web_codes_per_address: int = 10     # codes one client address may ask for per window
    web_status_per_address: int = 30    # status look-ups one client address may make per window
    web_limit_minutes: int = 60
    retention_key: str = ""             # keys retention's hash of numbers; empty: derived from secret_key
    metrics_token: str = ""             # /metrics needs `Authorization: Bearer <token>` when set
    metrics_allow: tuple[str, ...] = ()  # /metrics only from these addresses or networks when set
    providers: Mapping[str, Any] = field(default_factory=_default_sections)  # one section per provider

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    def section(self, name: str) -> Any:
        """A provider's settings section, [kavenegar] and the like."""
        return self.providers[name]

    def with_section(self, name: str, **changes: Any) -> "Settings":
        return self.replace(providers={**self.providers, name: dataclasses.replace(self.providers[name], **changes)})

    def __getattr__(self, name: str) -> Any:  # settings.kavenegar reads like a field
        sections = self.__dict__.get("providers") or {}
        if name in sections:
            return sections[name]
        raise AttributeError(name)


def load_settings(environ: Mapping[str, str] | None = None, path: str | Path | None = None) -> Settings:
    """Defaults, overlaid by the TOML file (SMS_GATEWAY_CONFIG or ./config.toml), overlaid by env."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    config_path = Path(path or environ.get(ENV_PREFIX + "CONFIG") or "config.toml")
    if path or environ.get(ENV_PREFIX + "CONFIG") or config_path.exists():
        raw = _read_toml(config_path)
    return settings_from_mapping(_overlay_env(raw, environ))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} (named by SMS_GATEWAY_CONFIG) does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None


def _overlay_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    sections = _default_sections()
    for f in dataclasses.fields(Settings):
        if f.name == "providers":
            continue
        if (key := ENV_PREFIX + f.name.upper()) in environ:
            merged[f.name] = environ[key]
    for name, section in sections.items():
        for sub in dataclasses.fields(section):
            key = f"{ENV_PREFIX}{name.upper()}_{sub.name.upper()}"
            if key in environ:
                merged.setdefault(name, {})
                if isinstance(merged[name], dict):
                    merged[name][sub.name] = environ[key]
    return merged


def settings_from_mapping(raw: Mapping[str, Any]) -> Settings:
    """Build and validate settings from a plain mapping (the parsed TOML)."""
    values: dict[str, Any] = {}
    defaults = Settings()
    fields = {f.name for f in dataclasses.fields(Settings)} - {"providers"}
    sections = _default_sections()
    for name in fields & set(raw):
        values[name] = _coerce(name, raw[name], type(getattr(defaults, name)))
    values["providers"] = {name: _section(name, raw[name], sections[name]) if name in raw else sections[name]
                           for name in sections}
    unknown = set(raw) - fields - set(sections)
    if unknown:
        raise SettingsError(f"unknown configuration key(s): {', '.join(sorted(unknown))}")
    settings = Settings(**values)
    _validate(settings)
    return settings


def _section(name: str, raw: Any, default: Any) -> Any:
    if not isinstance(raw, Mapping):
        raise SettingsError(f"[{name}] must be a table")
    known = {f.name for f in dataclasses.fields(default)}
    unknown = set(raw) - known
    if unknown:
        raise SettingsError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    return dataclasses.replace(default, **{k: _coerce(f"{name}.{k}", v, str) for k, v in raw.items()})


def _coerce(key: str, value: Any, kind: type) -> Any:
    try:
        if kind is int and not isinstance(value, bool):
            return int(value)
        if kind is float:
            return float(value)
        if kind is str and isinstance(value, (str, int)):
            return str(value)
        if kind is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
    except (TypeError, ValueError):
        pass
    raise SettingsError(f"{key} must be {kind.__name__}, got {value!r}")


def _validate(s: Settings) -> None:
    registry = _registry()
    sms = [name for name, cls in registry.items() if cls.channel == "sms"]
    if s.provider not in sms:
        raise SettingsError(f"provider must be one of {', '.join(sms)}, got {s.provider!r}")
    if not s.database_url:
        raise SettingsError("database_url is required")
    if not s.secret_key:
        raise SettingsError("secret_key is required")
    if s.public_url and not s.public_url.startswith(("http://", "https://")):
        raise SettingsError(f"public_url must start with http:// or https://, got {s.public_url!r}")
    for name in {s.provider, s.fallback_provider} - {"", "console"}:
        section = s.section(name)
        if not section.configured:
            missing = [k for k in section.required if not getattr(section, k)]
            raise SettingsError(f"provider {name!r} is used but {', '.join(f'{name}.{k}' for k in missing)} "
                                "is not set")
    _validate_secrets(s)
    if s.max_text_chars < 1:
        raise SettingsError("max_text_chars must be positive")
    if not 0 <= s.send_threads <= 64:
        raise SettingsError(f"send_threads must be 0 (send in the request) to 64, got {s.send_threads}")
    if s.web_statement_timeout_seconds < 0:
        raise SettingsError("web_statement_timeout_seconds must be 0 (no limit) or more")
    try:
        parse_quiet_hours(s.quiet_hours)
    except ValueError:
        raise SettingsError(f"quiet_hours must look like 21:00-08:00, got {s.quiet_hours!r}") from None
    for key in ("verdict_accept", "verdict_object"):
        value = getattr(s, key)
        if not value.isdigit() or value in ("11", "12"):
            raise SettingsError(f"{key} must be digits other than 11 and 12 (opt-out, opt-in), got {value!r}")
    if s.verdict_accept == s.verdict_object:
        raise SettingsError("verdict_accept and verdict_object must differ")
    if s.fallback_provider and (s.fallback_provider not in sms or s.fallback_provider == s.provider):
        raise SettingsError(f"fallback_provider must be another of {', '.join(sms)}, got {s.fallback_provider!r}")
    for key in ("reminder_days", "clarify_hours", "duplicate_days", "max_tickets_per_day", "max_send_attempts",
                "scheduler_interval_seconds", "retention_months", "claim_lease_seconds", "fallback_after",
                "claim_batch", "content_retry_minutes", "emergency_sla_hours", "open311_requests_per_minute",
                "web_code_minutes", "web_code_attempts", "web_codes_per_number", "web_codes_per_address",
                "web_status_per_address", "web_limit_minutes"):
        if getattr(s, key) < 1:
            raise SettingsError(f"{key} must be at least 1")
    if s.audit_sample_per_unit < 0:
        raise SettingsError("audit_sample_per_unit must be 0 (no audit) or more")
    try:
        from .domain.city import load_city

        load_city(s.city_data)
    except ValueError as exc:
        raise SettingsError(f"city_data: {exc}") from None


def strong_secret(value: str) -> bool:
    return value != DEV_SECRET_KEY and len(value.encode()) >= MIN_SECRET_BYTES


def _validate_secrets(s: Settings) -> None:
    """Once a real provider is configured (sending, or only receiving), the cookie key must be a real
    secret; a webhook token must be long enough not to be guessed, whether or not it is in use yet."""
    real = sorted(name for name in s.providers if name != "console" and s.section(name).configured)
    if real and not strong_secret(s.secret_key):
        raise SettingsError(f"secret_key must be a random secret of at least {MIN_SECRET_BYTES} bytes, not the "
                            f"default, when a real provider is configured ({', '.join(real)})")
    for name in sorted(s.providers):
        token = getattr(s.section(name), "webhook_token", "")
        if token and len(token) < MIN_TOKEN_CHARS:
            raise SettingsError(f"{name}.webhook_token must be at least {MIN_TOKEN_CHARS} characters")
    if s.retention_key and not strong_secret(s.retention_key):
        raise SettingsError(f"retention_key must be a random secret of at least {MIN_SECRET_BYTES} bytes")
    if s.metrics_token and len(s.metrics_token) < MIN_TOKEN_CHARS:
        raise SettingsError(f"metrics_token must be at least {MIN_TOKEN_CHARS} characters")
    for entry in s.metrics_allow:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(f"metrics_allow must list addresses or networks, got {entry!r}") from None


def retention_secret(s: Settings) -> str:
    """The key of retention's keyed hash of numbers: retention_key, else one derived from secret_key when
    that is a real secret; never a default. Raises SettingsError naming the keys."""
    if s.retention_key:
        return s.retention_key
    if strong_secret(s.secret_key):
        return hmac.new(s.secret_key.encode(), b"sms-gateway retention", hashlib.sha256).hexdigest()
    raise SettingsError(f"retention_key must be set (or secret_key to a random secret of at least "
                        f"{MIN_SECRET_BYTES} bytes) before numbers are anonymised")


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """«21:00-08:00» → (21:00, 08:00); raises ValueError."""
    start, end = value.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
