"""load_config: defaults under the instance path, the generated secret, production checks."""

from __future__ import annotations

import stat
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carbon_market.kernel.config import (
    DEFAULT_MAX_CONTENT_LENGTH,
    DEFAULT_MAX_UPLOAD_LENGTH,
    KNOWN_DEFAULT_SECRETS,
    Config,
    ConfigError,
    load_config,
)

STRONG_SECRET = "a-production-secret-of-forty-characters!!"


def _environ(instance: Path, **values: str) -> dict[str, str]:
    return {"CARBON_MARKET_INSTANCE": str(instance), **values}


def test_database_defaults_to_sqlite_under_instance_path_when_database_url_is_unset(
    tmp_path: Path,
):
    config = load_config(_environ(tmp_path / "instance"))
    expected = (tmp_path / "instance" / "carbon_market.db").resolve()
    assert config.database_url == f"sqlite:///{expected}"
    assert config.is_sqlite


def test_database_url_is_taken_from_environ_when_set(tmp_path: Path):
    url = "postgresql+psycopg://cm@db/carbon"
    config = load_config(_environ(tmp_path, DATABASE_URL=url, SECRET_KEY=STRONG_SECRET))
    assert config.database_url == url
    assert not config.is_sqlite


def test_instance_path_is_resolved_to_absolute_when_given_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    config = load_config({"CARBON_MARKET_INSTANCE": "inst"})
    assert config.instance_path == tmp_path.resolve() / "inst"
    assert config.instance_path.is_absolute()


def test_secret_key_is_generated_into_instance_with_mode_0600_when_first_run(tmp_path: Path):
    instance = tmp_path / "instance"
    config = load_config(_environ(instance))
    key_file = instance / "secret_key"
    assert key_file.read_text(encoding="utf-8").strip() == config.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(config.secret_key) >= 32


def test_secret_key_is_stable_when_loaded_a_second_time(tmp_path: Path):
    environ = _environ(tmp_path / "instance")
    first = load_config(environ).secret_key
    second = load_config(environ).secret_key
    assert first == second


def test_generated_secret_keys_differ_when_instances_differ(tmp_path: Path):
    one = load_config(_environ(tmp_path / "one")).secret_key
    two = load_config(_environ(tmp_path / "two")).secret_key
    assert one != two


def test_no_secret_file_is_written_when_secret_key_is_given(tmp_path: Path):
    instance = tmp_path / "instance"
    config = load_config(_environ(instance, SECRET_KEY=STRONG_SECRET))
    assert config.secret_key == STRONG_SECRET
    assert not (instance / "secret_key").exists()


def test_defaults_apply_when_only_the_instance_is_given(tmp_path: Path):
    config = load_config(_environ(tmp_path))
    assert config.env == "development"
    assert not config.is_production
    assert config.deadline_tz == ZoneInfo("Asia/Shanghai")
    assert config.max_content_length == DEFAULT_MAX_CONTENT_LENGTH
    assert config.max_upload_length == DEFAULT_MAX_UPLOAD_LENGTH
    assert config.token_ttl_days == 90
    assert config.log_level == "INFO"


def test_every_setting_is_read_when_given_in_environ(tmp_path: Path):
    config = load_config(
        _environ(
            tmp_path,
            CARBON_MARKET_ENV="production",
            SECRET_KEY=STRONG_SECRET,
            DEADLINE_TZ="UTC",
            MAX_CONTENT_LENGTH="2048",
            MAX_UPLOAD_LENGTH="4096",
            TOKEN_TTL_DAYS="7",
            LOG_LEVEL="DEBUG",
        )
    )
    assert config.env == "production"
    assert config.is_production
    assert config.deadline_tz == ZoneInfo("UTC")
    assert config.max_content_length == 2048
    assert config.max_upload_length == 4096
    assert config.token_ttl_days == 7
    assert config.log_level == "DEBUG"


def test_process_environment_is_ignored_when_an_environ_dict_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CARBON_MARKET_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "dev")
    config = load_config(_environ(tmp_path))
    assert config.env == "development"
    assert config.secret_key != "dev"


@pytest.mark.parametrize("secret", sorted(KNOWN_DEFAULT_SECRETS - {""}))
def test_production_refuses_to_start_when_secret_is_a_known_default(tmp_path: Path, secret: str):
    environ = _environ(tmp_path, CARBON_MARKET_ENV="production", SECRET_KEY=secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(environ)


def test_production_refuses_to_start_when_secret_is_shorter_than_32_characters(tmp_path: Path):
    environ = _environ(tmp_path, CARBON_MARKET_ENV="production", SECRET_KEY="x" * 31)
    with pytest.raises(ConfigError, match="shorter than 32"):
        load_config(environ)


def test_production_starts_when_secret_is_exactly_32_characters(tmp_path: Path):
    environ = _environ(tmp_path, CARBON_MARKET_ENV="production", SECRET_KEY="x" * 32)
    assert load_config(environ).secret_key == "x" * 32


def test_production_starts_with_generated_secret_when_secret_key_is_unset(tmp_path: Path):
    config = load_config(_environ(tmp_path / "instance", CARBON_MARKET_ENV="production"))
    assert config.is_production
    assert (tmp_path / "instance" / "secret_key").exists()


def test_development_accepts_a_short_secret_when_not_in_production(tmp_path: Path):
    config = load_config(_environ(tmp_path, SECRET_KEY="dev"))
    assert config.secret_key == "dev"


def test_check_refuses_empty_secret_when_config_is_built_by_hand_for_production():
    config = Config(database_url="sqlite://", secret_key="", env="production")
    with pytest.raises(ConfigError):
        config.check()


def test_with_overrides_returns_a_changed_copy_when_a_field_is_replaced():
    config = Config(database_url="sqlite://", secret_key=STRONG_SECRET)
    changed = config.with_overrides(env="production")
    assert changed.is_production
    assert not config.is_production
    assert changed.secret_key == STRONG_SECRET


def test_production_mode_is_recognised_whatever_its_case(tmp_path):
    from carbon_market.kernel.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(
            {
                "CARBON_MARKET_INSTANCE": str(tmp_path),
                "CARBON_MARKET_ENV": "Production",
                "SECRET_KEY": "dev",
            }
        )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEADLINE_TZ", "Mars/Olympus", "not a known time zone"),
        ("MAX_CONTENT_LENGTH", "lots", "whole number"),
        ("TOKEN_TTL_DAYS", "0", "must be positive"),
    ],
)
def test_malformed_settings_are_a_configuration_error(tmp_path, name, value, message):
    from carbon_market.kernel.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=message):
        load_config({"CARBON_MARKET_INSTANCE": str(tmp_path), name: value})


def test_verification_threshold_defaults_to_five_percent_and_reads_the_environment(
    tmp_path: Path,
):
    from decimal import Decimal

    assert load_config(_environ(tmp_path)).mrv_verification_threshold == Decimal("0.05")
    config = load_config(_environ(tmp_path, MRV_VERIFICATION_THRESHOLD="0.1"))
    assert config.mrv_verification_threshold == Decimal("0.1")


@pytest.mark.parametrize("raw", ["five", "-0.01", "1.5", "NaN"])
def test_verification_threshold_outside_zero_to_one_is_refused(tmp_path: Path, raw: str):
    with pytest.raises(ConfigError, match="MRV_VERIFICATION_THRESHOLD"):
        load_config(_environ(tmp_path, MRV_VERIFICATION_THRESHOLD=raw))


def test_monthly_jump_ratio_defaults_to_one_and_a_half_and_reads_the_environment(
    tmp_path: Path,
):
    from decimal import Decimal

    assert load_config(_environ(tmp_path)).mrv_monthly_jump_ratio == Decimal("1.5")
    config = load_config(_environ(tmp_path, MRV_MONTHLY_JUMP_RATIO="2"))
    assert config.mrv_monthly_jump_ratio == Decimal("2")


@pytest.mark.parametrize("raw", ["double", "1", "0.5", "-2", "Infinity", "101"])
def test_monthly_jump_ratio_not_above_one_is_refused(tmp_path: Path, raw: str):
    with pytest.raises(ConfigError, match="MRV_MONTHLY_JUMP_RATIO"):
        load_config(_environ(tmp_path, MRV_MONTHLY_JUMP_RATIO=raw))


def test_support_tool_terms_default_to_sixty_percent_at_one_point_seven_five(tmp_path: Path):
    from decimal import Decimal

    config = load_config(_environ(tmp_path))
    assert config.finance_support_tool_share == Decimal("0.6")
    assert config.finance_support_tool_rate == Decimal("0.0175")
    changed = load_config(
        _environ(tmp_path, FINANCE_SUPPORT_TOOL_SHARE="0.5", FINANCE_SUPPORT_TOOL_RATE="0.02")
    )
    assert changed.finance_support_tool_share == Decimal("0.5")
    assert changed.finance_support_tool_rate == Decimal("0.02")


@pytest.mark.parametrize("name", ["FINANCE_SUPPORT_TOOL_SHARE", "FINANCE_SUPPORT_TOOL_RATE"])
@pytest.mark.parametrize("raw", ["sixty", "-0.1", "1.2"])
def test_support_tool_terms_outside_zero_to_one_are_refused(tmp_path: Path, name: str, raw: str):
    with pytest.raises(ConfigError, match=name):
        load_config(_environ(tmp_path, **{name: raw}))


def test_notification_channels_are_off_unless_configured(tmp_path: Path):
    config = load_config(_environ(tmp_path))
    assert config.notify_smtp_host is None
    assert config.notify_webhook_url is None
    assert config.notify_regulator_emails == ()
    assert (config.notify_max_attempts, config.notify_retry_base_minutes) == (5, 5)


def test_notification_settings_are_read_from_the_environment(tmp_path: Path):
    config = load_config(
        _environ(
            tmp_path,
            NOTIFY_SMTP_HOST="mail.bureau.example",
            NOTIFY_SMTP_PORT="587",
            NOTIFY_SMTP_STARTTLS="true",
            NOTIFY_WEBHOOK_URL="https://hooks.example/carbon",
            NOTIFY_REGULATOR_EMAILS=" a@bureau.example , b@bureau.example,",
            NOTIFY_MAX_ATTEMPTS="8",
        )
    )
    assert (config.notify_smtp_host, config.notify_smtp_port) == ("mail.bureau.example", 587)
    assert config.notify_smtp_starttls
    assert config.notify_webhook_url == "https://hooks.example/carbon"
    assert config.notify_regulator_emails == ("a@bureau.example", "b@bureau.example")
    assert config.notify_max_attempts == 8


def test_a_webhook_url_that_is_not_http_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="NOTIFY_WEBHOOK_URL"):
        load_config(_environ(tmp_path, NOTIFY_WEBHOOK_URL="file:///etc/passwd"))
