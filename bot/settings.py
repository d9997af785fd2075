"""Settings from the environment (and a .env file), checked before anything starts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

from bot.config import ConfigError, load_policy
from storage.db import DEFAULT_URL, DatabaseUrlError, urls
from workflows.policy import Policy

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str
    app_token: str
    api_url: str
    database_url: str
    config_path: Path
    policy: Policy


def load_settings(*, socket_mode: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Read and check every setting; ConfigError lists everything that needs fixing."""
    if env is None:
        load_dotenv(Path.cwd() / ".env", override=False)
        env = dict(os.environ)
    problems: list[str] = []
    bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not bot_token.startswith("xoxb-"):
        problems.append(
            "SLACK_BOT_TOKEN is missing or is not a bot token (xoxb-…). "
            "Slack app settings → OAuth & Permissions → Bot User OAuth Token."
        )
    signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    if not signing_secret and not socket_mode:
        problems.append("SLACK_SIGNING_SECRET is missing. Slack app settings → Basic Information → Signing Secret.")
    app_token = env.get("SLACK_APP_TOKEN", "").strip()
    if socket_mode and not app_token.startswith("xapp-"):
        problems.append(
            "--socket-mode needs SLACK_APP_TOKEN (xapp-…) with the connections:write scope. "
            "Slack app settings → Basic Information → App-Level Tokens."
        )
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    if not api_url.startswith(("https://", "http://")):
        problems.append(f"SLACK_API_URL must be an http(s) URL, e.g. {DEFAULT_API_URL}")
    if not api_url.endswith("/"):
        api_url += "/"
    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_URL
    try:
        urls(database_url)
    except DatabaseUrlError as exc:
        problems.append(str(exc))
    config_path = Path(env.get("CLEARANCE_CONFIG", "").strip() or "clearance.toml")
    policy = None
    try:
        policy = load_policy(config_path)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("Clearance cannot start:\n" + "\n".join(f"  - {p}" for p in problems))
    return Settings(bot_token, signing_secret, app_token, api_url, database_url, config_path, policy)  # type: ignore[arg-type]
