"""Settings from the environment (and a .env file), checked before anything starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

from bot.config.policy_file import ConfigError, load_policy
from storage.db import DEFAULT_URL, DatabaseUrlError, urls
from workflows.policy import Policy, parse_duration

DEFAULT_API_URL = "https://slack.com/api/"
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# What .env.example ships with: a copied file left unedited must not look like credentials.
PLACEHOLDERS = {
    "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
    "SLACK_SIGNING_SECRET": "your-signing-secret",
    "SLACK_APP_TOKEN": "xapp-your-app-token",
}
WHERE = {
    "SLACK_BOT_TOKEN": "Slack app settings → OAuth & Permissions → Bot User OAuth Token",
    "SLACK_SIGNING_SECRET": "Slack app settings → Basic Information → Signing Secret",
    "SLACK_APP_TOKEN": "Slack app settings → Basic Information → App-Level Tokens",
}


@dataclass(frozen=True)
class HttpLimits:
    """The HTTP edge's bounds (bot/http/edge.py), from CLEARANCE_HTTP_* (README, .env.example)."""

    header_timeout: float = 10.0  # seconds to send a request's headers
    body_timeout: float = 10.0  # seconds to send its body, once the headers are in
    keep_alive: int = 5  # seconds an idle connection is kept open between requests
    max_header_bytes: int = 32 * 1024
    max_connections: int = 1000  # lowered under the open-file limit, with a warning


# Each setting: (environment variable, field, smallest allowed, largest allowed).
HTTP_ENV = (
    ("CLEARANCE_HTTP_HEADER_TIMEOUT", "header_timeout", 1, 300),
    ("CLEARANCE_HTTP_BODY_TIMEOUT", "body_timeout", 1, 300),
    ("CLEARANCE_HTTP_KEEP_ALIVE", "keep_alive", 1, 300),
    ("CLEARANCE_HTTP_MAX_HEADER_BYTES", "max_header_bytes", 4096, 1024 * 1024),
    ("CLEARANCE_HTTP_MAX_CONNECTIONS", "max_connections", 16, 1_000_000),
)


def load_http_limits(env: Mapping[str, str], problems: list[str]) -> HttpLimits:
    values: dict[str, float | int] = {}
    for name, field, low, high in HTTP_ENV:
        raw = env.get(name, "").strip()
        if not raw:
            continue
        number = raw.removesuffix("s") if field.endswith("timeout") or field == "keep_alive" else raw
        if not number.isdigit() or not low <= int(number) <= high:
            problems.append(f"{name} must be a whole number from {low} to {high} (got {raw!r}).")
            continue
        values[field] = int(number)
    return HttpLimits(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str
    app_token: str
    api_url: str
    database_url: str
    config_path: Path
    policy: Policy
    # How long a claimed outbox row is left to its sender before another process takes it over
    # (and, the sender having died, looks in Slack before posting it again). Longer than a batch.
    outbox_lease: timedelta = timedelta(seconds=60)
    http: HttpLimits = HttpLimits()
    metrics_token: str = ""  # CLEARANCE_METRICS_TOKEN: GET /metrics needs it as a Bearer token; unset: no /metrics


@dataclass(frozen=True)
class LogSettings:
    format: str  # "text" or "json" (one JSON object a line)
    level: str


def environment() -> dict[str, str]:
    """The process environment, with a .env file in the working directory filling the gaps."""
    load_dotenv(Path.cwd() / ".env", override=False)
    return dict(os.environ)


def load_database_url(env: dict[str, str] | None = None) -> str:
    """DATABASE_URL (default: clearance.db in the working directory), checked for form only."""
    env = environment() if env is None else env
    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_URL
    try:
        urls(database_url)
    except DatabaseUrlError as exc:
        raise ConfigError(str(exc)) from None
    return database_url


def load_log_settings(env: dict[str, str] | None = None) -> LogSettings:
    env = environment() if env is None else env
    fmt = env.get("CLEARANCE_LOG_FORMAT", "").strip().lower() or "text"
    level = env.get("CLEARANCE_LOG_LEVEL", "").strip().upper() or "INFO"
    problems = []
    if fmt not in LOG_FORMATS:
        problems.append(f"CLEARANCE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)} (got {fmt!r}).")
    if level not in LOG_LEVELS:
        problems.append(f"CLEARANCE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {level!r}).")
    if problems:
        raise ConfigError("Clearance cannot start:\n" + "\n".join(f"  - {p}" for p in problems))
    return LogSettings(fmt, level)


def load_settings(*, socket_mode: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Read and check every setting; ConfigError lists everything that needs fixing."""
    env = environment() if env is None else env
    problems: list[str] = [
        f"{name} is still the placeholder from .env.example. Replace it with the real value: {WHERE[name]}."
        for name, placeholder in PLACEHOLDERS.items()
        if _is_placeholder(env.get(name, ""), placeholder) and (socket_mode or name != "SLACK_APP_TOKEN")
    ]
    bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not bot_token.startswith("xoxb-") and not _is_placeholder(bot_token, PLACEHOLDERS["SLACK_BOT_TOKEN"]):
        problems.append(
            "SLACK_BOT_TOKEN is missing or is not a bot token (xoxb-…). "
            "Slack app settings → OAuth & Permissions → Bot User OAuth Token."
        )
    signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    if not signing_secret and not socket_mode:
        problems.append("SLACK_SIGNING_SECRET is missing. Slack app settings → Basic Information → Signing Secret.")
    app_token = env.get("SLACK_APP_TOKEN", "").strip()
    if (
        socket_mode
        and not app_token.startswith("xapp-")
        and not _is_placeholder(app_token, PLACEHOLDERS["SLACK_APP_TOKEN"])
    ):
        problems.append(
            "--socket-mode needs SLACK_APP_TOKEN (xapp-…) with the connections:write scope. "
            "Slack app settings → Basic Information → App-Level Tokens."
        )
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    if not api_url.startswith(("https://", "http://")):
        problems.append(f"SLACK_API_URL must be an http(s) URL, e.g. {DEFAULT_API_URL}")
    if not api_url.endswith("/"):
        api_url += "/"
    database_url = DEFAULT_URL
    try:
        database_url = load_database_url(env)
    except ConfigError as exc:
        problems.append(str(exc))
    outbox_lease = timedelta(seconds=60)
    if lease := env.get("CLEARANCE_OUTBOX_LEASE", "").strip():
        try:
            outbox_lease = parse_duration(lease)
        except ValueError:
            problems.append(f'CLEARANCE_OUTBOX_LEASE must be a duration such as "60s" or "2m" (got {lease!r}).')
    http = load_http_limits(env, problems)
    config_path = config_path_from(env)
    policy = None
    try:
        policy = load_policy(config_path)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("Clearance cannot start:\n" + "\n".join(f"  - {p}" for p in problems))
    assert policy is not None  # no problems: the policy loaded
    metrics_token = env.get("CLEARANCE_METRICS_TOKEN", "").strip()
    return Settings(
        bot_token,
        signing_secret,
        app_token,
        api_url,
        database_url,
        config_path,
        policy,
        outbox_lease,
        http,
        metrics_token,
    )


def config_path_from(env: Mapping[str, str]) -> Path:
    """The policy file: CLEARANCE_CONFIG, else clearance.toml in the working directory."""
    return Path(env.get("CLEARANCE_CONFIG", "").strip() or "clearance.toml")


def _is_placeholder(value: str, placeholder: str) -> bool:
    """The value shipped in .env.example, or an obvious stand-in such as `xoxb-your-token` or `<secret>`."""
    value = value.strip().lower()
    if not value:
        return False
    return value == placeholder or "your-" in value or "your_" in value or value.startswith("<") or value == "changeme"
