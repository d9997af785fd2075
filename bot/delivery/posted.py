"""Finding a message Clearance may already have posted, by the outbox id in its metadata.

When a chat.postMessage's outcome is unknown (the process died while Slack was answering, or the
answer timed out), the message may be in the channel. Every post carries Slack message metadata
`{"event_type": "clearance_outbox", "event_payload": {"outbox_id": <row id>}}`; this reads the
channel's history since the first doubtful attempt (conversations.history with
include_all_metadata) and looks for it. A DM addressed to a user id is looked for in the DM
channel conversations.open names. Reading history needs channels:history, groups:history and
im:history; it is only ever used for this (README: "Scopes that read history"). Thread replies
would need conversations.replies; Clearance posts none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

EVENT_TYPE = "clearance_outbox"
LOOKED_UP = frozenset({"chat.postMessage"})  # posts that can be found again
EPHEMERAL = "chat.postEphemeral"  # cannot be: ephemeral messages are in no history

# Slack's clock and ours may differ a little: look a minute before the first doubtful attempt.
MARGIN = timedelta(seconds=60)
# 15 a page: the most Slack gives apps whose conversations.history is limited (non-Marketplace).
PAGE = 15
# Messages newer than the attempt come first; a card is rarely more than a few back. Beyond
# this many pages the channel is too busy to tell: posted, with a warning.
MAX_PAGES = 10

# Slack's "try again later" errors, for any call (the sender's too).
TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
# Slack refusing the look-up for a while; anything else means it cannot work. `not_in_channel`:
# the caller may join (public channels) and try again.
TRANSIENT = TRANSIENT_ERRORS | {"not_in_channel"}


def outbox_metadata(row_id: int) -> dict:
    return {"event_type": EVENT_TYPE, "event_payload": {"outbox_id": row_id}}


@dataclass(frozen=True)
class Adopted:
    """Slack has it: this message (as conversations.history returned it), in `channel`."""

    channel: str
    message: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Absent:
    """Looked, not there: post."""


@dataclass(frozen=True)
class Later:
    """The look-up failed for now; `retry_after` seconds when Slack said (429)."""

    reason: str
    retry_after: int = 0


@dataclass(frozen=True)
class Blind:
    """The look-up cannot work (missing scope, unreadable channel, too busy): post anyway."""

    reason: str


Found = Adopted | Absent | Later | Blind


class PostedMessages:
    METHOD = "conversations.history"

    def __init__(self, client: AsyncWebClient, *, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.clock = clock

    async def find(self, row_id: int, channel: str, since: datetime | None) -> Found:
        since = since or self.clock()
        try:
            if channel[:1] in ("U", "W"):  # a DM addressed to a person: its channel is the IM
                opened = await self.client.conversations_open(users=channel)
                channel = str((opened.get("channel") or {}).get("id", ""))
            return await self._search(row_id, channel, (since - MARGIN).astimezone(UTC).timestamp())
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = data.get("error", "") or f"HTTP {exc.response.status_code}"
            if exc.response.status_code == 429 or error == "ratelimited":
                return Later("ratelimited", retry_after(exc.response.headers))
            if exc.response.status_code >= 500 or error in TRANSIENT:
                return Later(error)
            needed = f" (needs {data['needed']})" if data.get("needed") else ""
            return Blind(f"{error}{needed}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Later(f"network: {type(exc).__name__}")

    async def _search(self, row_id: int, channel: str, oldest: float) -> Found:
        cursor = ""
        for _ in range(MAX_PAGES):
            response = await self.client.conversations_history(
                channel=channel, oldest=f"{oldest:.6f}", limit=PAGE, include_all_metadata=True, cursor=cursor or None
            )
            page = response.data if isinstance(response.data, dict) else {}
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == EVENT_TYPE and _same_id(metadata.get("event_payload"), row_id):
                    return Adopted(channel, message)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return Absent()
        return Blind(f"more than {MAX_PAGES * PAGE} messages since the attempt")


def _same_id(payload, row_id: int) -> bool:
    return isinstance(payload, dict) and str(payload.get("outbox_id")) == str(row_id)


def retry_after(headers) -> int:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(1, int(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError):
                break
    return 1
