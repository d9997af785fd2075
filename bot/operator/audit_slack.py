"""The anchors in `[audit] channel`, read back through Slack for `clearance audit verify --slack`.

Only the bot's own messages count (its user id, from auth.test): anyone in the channel could
post a line that looks like an anchor. The bot never edits an anchor, so one edited in Slack is
reported rather than trusted. Slack keeps its messages whatever happens to the database; whoever
holds the bot token could still delete the bot's messages, which is why the token is kept from
those who administer the database (docs/audit.md).
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages.anchors import parse_anchor
from bot.people.slack_pages import every
from storage.chain_verify import Anchor

HISTORY_PAGE = 200  # Slack's advice for conversations.history


class SlackUnreadable(Exception):
    """The channel's history could not be read: one line saying why and what to fix."""


async def slack_anchors(client: AsyncWebClient, channel: str) -> list[Anchor]:
    try:
        me = await client.auth_test()
        bot_user, bot_id = me.get("user_id"), me.get("bot_id")
        anchors: list[Anchor] = []
        async for message in every(client.conversations_history, "messages", page=HISTORY_PAGE, channel=channel):
            if message.get("user") != bot_user and (bot_id is None or message.get("bot_id") != bot_id):
                continue
            found = parse_anchor(message.get("text", ""))
            if found is None:
                continue
            seq, digest, at = found
            anchor = Anchor(seq, digest, at, f"Slack {channel}")
            if message.get("edited"):
                raise SlackUnreadable(
                    f"{anchor.named()} in {channel} was edited in Slack after Clearance posted it: "
                    "it cannot be trusted (Clearance never edits an anchor); see the channel's history"
                )
            anchors.append(anchor)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        hint = {
            "not_in_channel": f"invite the bot to {channel} (/invite @Clearance)",
            "channel_not_found": f"check [audit] channel = {channel!r} and that the bot is in it",
            "missing_scope": "add channels:history (groups:history for a private channel) and reinstall the app",
            "invalid_auth": "check SLACK_BOT_TOKEN",
            "not_authed": "set SLACK_BOT_TOKEN",
        }.get(error, "try again later")
        raise SlackUnreadable(f"Slack refused to read {channel}'s history ({error}): {hint}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        said = f"Slack could not be reached to read {channel} ({type(exc).__name__}): try again"
        raise SlackUnreadable(said) from exc
    return anchors
