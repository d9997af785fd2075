"""Send as CSV (/tool-usage): the usage answer as a CSV file, uploaded to the person in a DM.

files.uploadV2 is slack_sdk's files_upload_v2: files.getUploadURLExternal, the upload itself, then
files.completeUploadExternal into the DM's channel (conversations.open gives its id). The file
is a read sent to one person at their click, not a change of record: it goes straight to Slack,
not through the outbox, and a failure is told to them at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages.text import utc_text
from bot.people.names import PeopleNames
from workflows.tool_names import tool_key
from workflows.usage import UsageAnswer, csv_text

log = logging.getLogger("clearance.usage")


class UsageFileFailed(Exception):
    """Slack refused the upload or did not answer; the person is told to try again."""


class UsageFiles:
    def __init__(self, client: AsyncWebClient, names: PeopleNames) -> None:
        self.client = client
        self.names = names

    async def send_csv(self, user: str, answer: UsageAnswer, now: datetime) -> int:
        """Upload the CSV to `user`'s DM with the bot; returns the number of rows (links)."""
        names = await self.names.names({link.person for link in answer.links})
        content = csv_text(answer, names)
        slug = tool_key(answer.tools[0].name) if answer.tools else "tool"
        filename = f"usage-{slug[:60] or 'tool'}-{now:%Y%m%d-%H%M}.csv"
        try:
            opened = await self.client.conversations_open(users=user)
            channel = (opened.get("channel") or {}).get("id")
            await self.client.files_upload_v2(
                channel=channel,
                content=content,
                filename=filename,
                title=f"People linked to {answer.query[:100]} ({utc_text(now)})",
                initial_comment=f"Everyone linked to the tool you asked about, as of {utc_text(now)}.",
            )
        except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("usage CSV not sent (%s)", type(exc).__name__)
            raise UsageFileFailed() from exc
        return len(answer.links)
