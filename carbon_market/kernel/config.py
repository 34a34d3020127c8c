"""Configuration, read from the environment exactly once.

No other module reads ``os.environ``: everything that varies between a laptop, CI and the
bureau's servers is a field here, so a test can build a ``Config`` by hand and know that
nothing else leaks in.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Secrets that have appeared in docs, examples or tests. Production refuses all of them.
KNOWN_DEFAULT_SECRETS = frozenset({"", "dev", "change-me", "changeme", "secret", "test", "testing"})

DEFAULT_MAX_CONTENT_LENGTH = 1 * 1024 * 1024  # 1 MiB: JSON bodies are small
DEFAULT_MAX_UPLOAD_LENGTH = 20 * 1024 * 1024  # 20 MiB: a 10,000-row XLSX is about 1 MiB


class ConfigError(RuntimeError):
    """The environment describes a configuration the platform must not start with."""


@dataclass(frozen=True)
class Config:
    """Everything the platform reads from its environment."""

    database_url: str
    secret_key: str
    env: str = "development"
    instance_path: Path = Path("instance")
    deadline_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    max_upload_length: int = DEFAULT_MAX_UPLOAD_LENGTH
    token_ttl_days: int = 90
    log_level: str = "INFO"
    #: Transfers to an account not on the source's trusted list wait this long (0: no delay).
    ledger_untrusted_delay_hours: int = 26
    #: Transfers nobody approves lapse after this long, and their units are released.
    ledger_pending_ttl_hours: int = 72
    #: A verified figure differing from the reported one by more than this fraction of it
    #: needs the verifier's written reason (issue 5: "a configurable threshold").
    mrv_verification_threshold: Decimal = field(default_factory=lambda: Decimal("0.05"))
    #: A month's activity more than this many times its reference, or less than its reference
    #: divided by it, is flagged for the verifier and the regulator (issue 5: "a month that
    #: jumps against the enterprise's own history").
    mrv_monthly_jump_ratio: Decimal = field(default_factory=lambda: Decimal("1.5"))
    #: The central bank's carbon-reduction support tool refinances this share of a support-
    #: tool loan's disbursed principal (issue 9: 60 % by default) ...
    finance_support_tool_share: Decimal = field(default_factory=lambda: Decimal("0.6"))
    #: ... at this annual rate (1.75 % by default). Both are copied onto each financing
    #: when it is recorded, so a later change does not rewrite past loans.
    finance_support_tool_rate: Decimal = field(default_factory=lambda: Decimal("0.0175"))
    #: The trading rulebook (``carbon_market/trading/data/<name>.json``): price bands, trading
    #: modes, settlement cycle, position limits. ``national`` (the default) or ``beijing``.
    trading_rulebook: str = "national"
    #: Notifications (docs/notifications.md). SMTP is used when a host is set, the webhook
    #: when a URL is set; with neither, messages are kept for the API only (``stored``).
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 25
    notify_smtp_from: str = "carbon-market@localhost"
    notify_smtp_user: str | None = None
    notify_smtp_password: str | None = None
    notify_smtp_starttls: bool = False
    notify_webhook_url: str | None = None
    #: The regulators' addresses, for messages sent to the regulators as a group.
    notify_regulator_emails: tuple[str, ...] = ()
    #: A message is tried this many times, waiting base × 2^(n-1) minutes after the n-th
    #: failure (5, 10, 20, 40 minutes by default; never more than a day), and then marked
    #: ``failed``.
    notify_max_attempts: int = 5
    notify_retry_base_minutes: int = 5
    notify_timeout_seconds: int = 10
    #: Failed logins allowed per client address and user name (a limits string such as
    #: "10 per minute"; None: no limit), then 429 until the window passes.
    login_rate_limit: str | None = "10 per minute"
    #: Failed logins allowed per client address, whatever the names tried.
    login_rate_limit_per_address: str | None = "50 per minute"
    #: Where the counts live: "memory://" (each process its own) or a shared store such as
    #: "redis://127.0.0.1:6379" (needs ``pip install 'limits[redis]'``).
    ratelimit_storage_uri: str = "memory://"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def check(self) -> None:
        """Refuse to run production on a secret that anyone could know."""
        if self.is_production and (
            self.secret_key in KNOWN_DEFAULT_SECRETS or len(self.secret_key) < 32
        ):
            raise ConfigError(
                "SECRET_KEY is a known default or shorter than 32 characters; "
                "production mode refuses to start with it"
            )


def _instance_secret(instance_path: Path) -> str:
    """Read the generated secret key, creating it on first run.

    A fresh checkout must run without the newcomer inventing a secret, yet the key must not
    change between restarts (it signs sessions), so it lives in ``instance/`` with mode 0600.
    """
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from environment variables (documented in README)."""
    env = os.environ if environ is None else environ
    instance_path = Path(env.get("CARBON_MARKET_INSTANCE", "instance")).resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'carbon_market.db'}"
    secret_key = env.get("SECRET_KEY") or _instance_secret(instance_path)
    config = Config(
        database_url=database_url,
        secret_key=secret_key,
        env=env.get("CARBON_MARKET_ENV", "development").strip().lower(),
        instance_path=instance_path,
        deadline_tz=_zone(env.get("DEADLINE_TZ", "Asia/Shanghai")),
        max_content_length=_positive_int(env, "MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH),
        max_upload_length=_positive_int(env, "MAX_UPLOAD_LENGTH", DEFAULT_MAX_UPLOAD_LENGTH),
        token_ttl_days=_positive_int(env, "TOKEN_TTL_DAYS", 90),
        ledger_untrusted_delay_hours=_positive_int(
            env, "LEDGER_UNTRUSTED_DELAY_HOURS", 26, allow_zero=True
        ),
        ledger_pending_ttl_hours=_positive_int(env, "LEDGER_PENDING_TTL_HOURS", 72),
        mrv_verification_threshold=_fraction(env, "MRV_VERIFICATION_THRESHOLD", "0.05"),
        mrv_monthly_jump_ratio=_ratio(env, "MRV_MONTHLY_JUMP_RATIO", "1.5"),
        finance_support_tool_share=_fraction(env, "FINANCE_SUPPORT_TOOL_SHARE", "0.6"),
        finance_support_tool_rate=_fraction(env, "FINANCE_SUPPORT_TOOL_RATE", "0.0175"),
        trading_rulebook=_choice(env, "TRADING_RULEBOOK", "national", TRADING_RULEBOOKS),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        **_notify_settings(env),
        **_login_limits(env),
    )
    config.check()
    return config


def _notify_settings(env: Mapping[str, str]) -> dict[str, Any]:
    url = env.get("NOTIFY_WEBHOOK_URL", "").strip() or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"NOTIFY_WEBHOOK_URL must be an http(s) URL, got {url!r}")
    emails = env.get("NOTIFY_REGULATOR_EMAILS", "")
    return {
        "notify_smtp_host": env.get("NOTIFY_SMTP_HOST", "").strip() or None,
        "notify_smtp_port": _positive_int(env, "NOTIFY_SMTP_PORT", 25),
        "notify_smtp_from": env.get("NOTIFY_SMTP_FROM", "carbon-market@localhost").strip(),
        "notify_smtp_user": env.get("NOTIFY_SMTP_USER") or None,
        "notify_smtp_password": env.get("NOTIFY_SMTP_PASSWORD") or None,
        "notify_smtp_starttls": env.get("NOTIFY_SMTP_STARTTLS", "").strip().lower()
        in ("1", "true", "yes"),
        "notify_webhook_url": url,
        "notify_regulator_emails": tuple(e.strip() for e in emails.split(",") if e.strip()),
        "notify_max_attempts": _positive_int(env, "NOTIFY_MAX_ATTEMPTS", 5),
        "notify_retry_base_minutes": _positive_int(env, "NOTIFY_RETRY_BASE_MINUTES", 5),
        "notify_timeout_seconds": _positive_int(env, "NOTIFY_TIMEOUT_SECONDS", 10),
    }


def _login_limits(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "login_rate_limit": _rate_limit(env, "LOGIN_RATE_LIMIT", "10 per minute"),
        "login_rate_limit_per_address": _rate_limit(
            env, "LOGIN_RATE_LIMIT_PER_ADDRESS", "50 per minute"
        ),
        "ratelimit_storage_uri": env.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://",
    }


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str | None:
    """A limits string ("10 per minute", "5/second"), or None for "off"."""
    from limits import parse_many

    value = env.get(name, default).strip()
    if value.lower() in ("off", "0", "none"):
        return None
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be like '10 per minute' or 'off', got {value!r}") from exc
    return value


#: The rulebooks shipped in ``carbon_market/trading/data/``.
TRADING_RULEBOOKS = ("national", "beijing")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _positive_int(
    env: Mapping[str, str], name: str, default: int, *, allow_zero: bool = False
) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _fraction(env: Mapping[str, str], name: str, default: str) -> Decimal:
    raw = env.get(name, default)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ConfigError(f"{name} must be a decimal fraction such as 0.05, got {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be between 0 and 1, got {raw!r}")
    return value


def _ratio(env: Mapping[str, str], name: str, default: str) -> Decimal:
    raw = env.get(name, default)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ConfigError(f"{name} must be a decimal ratio such as 1.5, got {raw!r}") from None
    if not value.is_finite() or not 1 < value <= 100:
        raise ConfigError(f"{name} must be above 1 and at most 100, got {raw!r}")
    return value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DEADLINE_TZ {name!r} is not a known time zone") from None
