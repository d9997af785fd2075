"""`clearance check`: ask Slack whether every channel, user and user group in the config exists
(and the bot is in each channel). Exit 0 all well, 1 with one line per problem, 2 for a bad
config or an unreachable Slack (one line)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config.settings import load_settings

# Slack's client is imported by `check` itself: every command imports this module to register it,
# `clearance migrate` too, which `serve` runs in a child process at each start (bot/cli.py).


def register(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("check", help="check with Slack that every id in the config exists")


def run(_args: argparse.Namespace) -> int:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.people.membership import SLACK_CALL_TIMEOUT
    from bot.people.slack_check import SlackUnreachable, problems

    settings = load_settings()  # ConfigError: one message, exit 2 (bot/cli.py)

    async def ask() -> list[str]:
        client = AsyncWebClient(
            token=settings.bot_token, base_url=settings.api_url, timeout=SLACK_CALL_TIMEOUT, retry_handlers=[]
        )
        return await problems(client, settings.policy)

    try:
        found = asyncio.run(ask())
    except SlackUnreachable as exc:
        print(f"Clearance could not check the config with Slack ({exc}); nothing was checked.", file=sys.stderr)
        return 2
    if not found:
        print(f"{settings.config_path}: every channel, user and user group exists in Slack.")
        return 0
    print(f"{settings.config_path}: {len(found)} problem(s) with the Slack ids in it:")
    for line in found:
        print(f"  {line}")
    return 1
