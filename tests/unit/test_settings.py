import pytest

from sms_gateway.settings import SettingsError, load_settings


def test_defaults_run_without_any_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.provider == "console"
    assert settings.database_url.startswith("sqlite:///")


def test_toml_then_environment_override(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('database_url = "sqlite:///a.db"\npublic_url = "https://x.example"\n'
                    '[kavenegar]\napi_key = "k"\nwebhook_token = "t-0123456789abcdef012345"\n'
                    'api_url = "http://127.0.0.1:1"\n')
    env = {"SMS_GATEWAY_CONFIG": str(path), "SMS_GATEWAY_DATABASE_URL": "sqlite:///b.db",
           "SMS_GATEWAY_KAVENEGAR_API_URL": "http://127.0.0.1:2", "SMS_GATEWAY_SECRET_KEY": "s3" * 16}
    s = load_settings(environ=env)
    assert s.database_url == "sqlite:///b.db"
    assert s.public_url == "https://x.example"
    assert s.kavenegar.api_key == "k"
    assert s.kavenegar.api_url == "http://127.0.0.1:2"
    assert s.secret_key == "s3" * 16


@pytest.mark.parametrize("env,key", [
    ({"SMS_GATEWAY_PROVIDER": "pigeon"}, "provider"),
    ({"SMS_GATEWAY_PROVIDER": "kavenegar", "SMS_GATEWAY_SECRET_KEY": "x"}, "kavenegar.api_key"),
    ({"SMS_GATEWAY_PROVIDER": "twilio", "SMS_GATEWAY_SECRET_KEY": "x",
      "SMS_GATEWAY_TWILIO_ACCOUNT_SID": "AC1"}, "twilio.auth_token"),
    ({"SMS_GATEWAY_PUBLIC_URL": "sms.example"}, "public_url"),
    ({"SMS_GATEWAY_MAX_TEXT_CHARS": "many"}, "max_text_chars"),
    ({"SMS_GATEWAY_CONFIG": "/nonexistent/config.toml"}, "SMS_GATEWAY_CONFIG"),
    ({"SMS_GATEWAY_QUIET_HOURS": "9pm to 8am"}, "quiet_hours"),
    ({"SMS_GATEWAY_VERDICT_ACCEPT": "11"}, "verdict_accept"),
    ({"SMS_GATEWAY_VERDICT_OBJECT": "31"}, "verdict_accept and verdict_object"),
    ({"SMS_GATEWAY_REMINDER_DAYS": "0"}, "reminder_days"),
    ({"SMS_GATEWAY_FALLBACK_PROVIDER": "console"}, "fallback_provider"),
    ({"SMS_GATEWAY_FALLBACK_PROVIDER": "melipayamak"}, "melipayamak"),
])
def test_bad_values_stop_startup_naming_the_key(env, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(environ=env)


def test_unknown_key_in_file_is_named(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('databse_url = "x"\n')
    with pytest.raises(SettingsError, match="databse_url"):
        load_settings(environ={"SMS_GATEWAY_CONFIG": str(path)})


def test_follow_up_settings_from_toml_and_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('quiet_hours = "22:00-07:30"\nblocked_numbers = ["09120000000"]\nreminder_days = 2\n')
    s = load_settings(environ={"SMS_GATEWAY_CONFIG": str(path), "SMS_GATEWAY_MAX_TICKETS_PER_DAY": "3"})
    assert (s.quiet_hours, s.blocked_numbers, s.reminder_days, s.max_tickets_per_day) == (
        "22:00-07:30", ("09120000000",), 2, 3)
    s = load_settings(environ={"SMS_GATEWAY_CONFIG": str(path),
                               "SMS_GATEWAY_BLOCKED_NUMBERS": "09120000000, +989351112233"})
    assert s.blocked_numbers == ("09120000000", "+989351112233")


def test_the_example_config_loads_as_it_is_shipped():
    from pathlib import Path

    from sms_gateway.settings import load_settings

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    assert load_settings(environ={}, path=example).web_code_minutes == 10
