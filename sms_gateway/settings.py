"""Typed, frozen settings: built-in defaults, then a TOML file, then environment variables."""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Mapping

OUTBOUND_PROVIDERS = ("console", "twilio", "kavenegar", "melipayamak")
ENV_PREFIX = "SMS_GATEWAY_"


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    api_url: str = "https://api.twilio.com"

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token)


@dataclass(frozen=True)
class KavenegarSettings:
    api_key: str = ""
    webhook_token: str = ""
    api_url: str = "https://api.kavenegar.com"
    sender: str = "10007000137"

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.webhook_token)


@dataclass(frozen=True)
class MelipayamakSettings:
    api_key: str = ""
    webhook_token: str = ""
    api_url: str = "https://console.melipayamak.com"
    sender: str = "10007000137"

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.webhook_token)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///instance/sms_gateway.sqlite3"
    secret_key: str = "dev-only-change-me"
    provider: str = "console"
    public_url: str = ""
    short_code: str = "10007000137"
    city_data: str = ""
    timezone: str = "Asia/Tehran"
    max_text_chars: int = 1600
    max_body_bytes: int = 64 * 1024
    send_timeout_seconds: float = 10.0
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
    poll_inbound_seconds: int = 0       # > 0: poll providers without push (Kavenegar receive.json)
    proxy_hops: int = 0                 # reverse proxies in front that set X-Forwarded-For (trusted)
    retention_months: int = 24          # anonymise numbers of citizens whose tickets all closed before
    claim_lease_seconds: int = 600      # a message left `sending` this long by a dead sender is sent again
    fallback_provider: str = ""         # outbound provider to use while the main one keeps failing
    fallback_after: int = 3             # consecutive failures of the main provider before falling back
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    kavenegar: KavenegarSettings = field(default_factory=KavenegarSettings)
    melipayamak: MelipayamakSettings = field(default_factory=MelipayamakSettings)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


_SECTIONS = {"twilio": TwilioSettings, "kavenegar": KavenegarSettings, "melipayamak": MelipayamakSettings}


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
    for f in dataclasses.fields(Settings):
        if f.name in _SECTIONS:
            section = merged.setdefault(f.name, {})
            for sub in dataclasses.fields(_SECTIONS[f.name]):
                key = f"{ENV_PREFIX}{f.name.upper()}_{sub.name.upper()}"
                if key in environ:
                    section[sub.name] = environ[key]
        elif (key := ENV_PREFIX + f.name.upper()) in environ:
            merged[f.name] = environ[key]
    return merged


def settings_from_mapping(raw: Mapping[str, Any]) -> Settings:
    """Build and validate settings from a plain mapping (the parsed TOML)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name not in raw:
            continue
        if f.name in _SECTIONS:
            values[f.name] = _section(f.name, raw[f.name])
        else:
            values[f.name] = _coerce(f.name, raw[f.name], type(getattr(Settings(), f.name)))
    unknown = set(raw) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise SettingsError(f"unknown configuration key(s): {', '.join(sorted(unknown))}")
    settings = Settings(**values)
    _validate(settings)
    return settings


def _section(name: str, raw: Any) -> Any:
    cls = _SECTIONS[name]
    if not isinstance(raw, Mapping):
        raise SettingsError(f"[{name}] must be a table")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise SettingsError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    return cls(**{k: _coerce(f"{name}.{k}", v, str) for k, v in raw.items()})


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
    if s.provider not in OUTBOUND_PROVIDERS:
        raise SettingsError(f"provider must be one of {', '.join(OUTBOUND_PROVIDERS)}, got {s.provider!r}")
    if not s.database_url:
        raise SettingsError("database_url is required")
    if not s.secret_key:
        raise SettingsError("secret_key is required")
    if s.public_url and not s.public_url.startswith(("http://", "https://")):
        raise SettingsError(f"public_url must start with http:// or https://, got {s.public_url!r}")
    if s.provider != "console":
        section = getattr(s, s.provider)
        if not section.configured:
            missing = [k for k in ("account_sid", "auth_token", "api_key", "webhook_token")
                       if hasattr(section, k) and not getattr(section, k)]
            raise SettingsError(
                f"provider is {s.provider!r} but {', '.join(f'{s.provider}.{k}' for k in missing)} "
                "is not set")
        if s.secret_key == Settings().secret_key:
            raise SettingsError("secret_key must be set to a secret value when a real provider is used")
    if s.max_text_chars < 1:
        raise SettingsError("max_text_chars must be positive")
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
    if s.fallback_provider and (s.fallback_provider not in OUTBOUND_PROVIDERS or s.fallback_provider == s.provider):
        raise SettingsError(f"fallback_provider must be another of {', '.join(OUTBOUND_PROVIDERS)}, "
                            f"got {s.fallback_provider!r}")
    if s.fallback_provider and s.fallback_provider != "console" and not getattr(s, s.fallback_provider).configured:
        raise SettingsError(f"fallback_provider is {s.fallback_provider!r} but its [{s.fallback_provider}] "
                            "secrets are not set")
    for key in ("reminder_days", "clarify_hours", "duplicate_days", "max_tickets_per_day", "max_send_attempts",
                "scheduler_interval_seconds", "retention_months", "claim_lease_seconds", "fallback_after"):
        if getattr(s, key) < 1:
            raise SettingsError(f"{key} must be at least 1")


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """«21:00-08:00» → (21:00, 08:00); raises ValueError."""
    start, end = value.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
