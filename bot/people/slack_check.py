"""Does every id in the config exist in Slack? Channels (and is the bot in them), users, user groups.

An unedited or mistyped config starts (its ids have the right shape) and then posts to channels
that do not exist. This asks Slack once per id (conversations.info, users.info) and once for all
user groups (usergroups.list), and says which ids are wrong, naming the config key each came from.
Used at start (in the background, bounded by a time-out), in /healthz and by `clearance check`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.people.slack_pages import every
from workflows.policy import Policy

log = logging.getLogger("clearance.config")


class SlackUnreachable(Exception):
    """Slack gave no usable answer (network, 5xx, a rejected token): nothing could be checked."""


def configured_ids(policy: Policy) -> Iterator[tuple[str, str, str]]:
    """(where in the config, key, id) for every Slack id the config holds."""
    roles = policy.roles
    for key in ("admins", "command_staff", "usage_readers"):
        for principal in getattr(roles, key):
            yield "[roles]", key, principal
    for stage in policy.stages:
        where = f"[stages.{stage.key}]"
        yield where, "channel", stage.channel
        for key in ("reviewers", "escalate_to"):
            for principal in getattr(stage, key):
                yield where, key, principal


async def problems(client: AsyncWebClient, policy: Policy) -> list[str]:
    """One line per bad id, e.g. `[stages.privacy] reviewers: user group S0PRIV does not exist`."""
    ids = list(dict.fromkeys(configured_ids(policy)))
    try:
        groups = (
            {g.get("id") async for g in every(client.usergroups_list, "usergroups")}
            if any(i.startswith("S") for _, _, i in ids)
            else set()
        )
    except SlackApiError as exc:
        raise SlackUnreachable(_reason(exc)) from exc
    except Exception as exc:
        raise SlackUnreachable(type(exc).__name__) from exc
    verdicts = await asyncio.gather(*(_verdict(client, i, groups) for i in dict.fromkeys(i for _, _, i in ids)))
    bad = dict(zip(dict.fromkeys(i for _, _, i in ids), verdicts, strict=True))
    return [f"{where} {key}: {bad[i]}" for where, key, i in ids if bad[i]]


async def _verdict(client: AsyncWebClient, slack_id: str, groups: set) -> str | None:
    try:
        if slack_id.startswith(("C", "G")):
            channel = (await client.conversations_info(channel=slack_id)).get("channel") or {}
            if channel.get("is_archived"):
                return f"channel {slack_id} is archived"
            if not channel.get("is_member"):
                return f"channel {slack_id}: the bot is not in it (invite it with /invite @Clearance)"
            return None
        if slack_id.startswith("S"):
            return None if slack_id in groups else f"user group {slack_id} does not exist"
        user = (await client.users_info(user=slack_id)).get("user") or {}
        return f"user {slack_id} is deactivated" if user.get("deleted") else None
    except SlackApiError as exc:
        error = _reason(exc)
        if error == "channel_not_found":
            return f"channel {slack_id} does not exist (or is private and the bot is not in it)"
        if error == "user_not_found":
            return f"user {slack_id} does not exist"
        raise SlackUnreachable(error) from exc
    except Exception as exc:
        raise SlackUnreachable(type(exc).__name__) from exc


def _reason(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"HTTP {exc.response.status_code}")


class ConfigCheck:
    """The check at start, in the background: start is never held up by a slow Slack. Its findings
    are logged (one warning per bad id) and kept for /healthz."""

    def __init__(self, client: AsyncWebClient, policy: Policy, *, timeout: float = 30.0) -> None:
        self._client, self._policy, self.timeout = client, policy, timeout
        self.problems: list[str] = []
        self.at_start = True  # tests that count Slack calls turn it off (tests/slack/harness.py)

    async def run(self) -> None:
        try:
            self.problems = await asyncio.wait_for(problems(self._client, self._policy), self.timeout)
        except (SlackUnreachable, TimeoutError) as exc:
            log.info(
                "the config's Slack ids were not checked (%s); `clearance check` runs it on demand",
                str(exc) or "timed out",
            )
            return
        for line in self.problems:
            log.warning("%s", line)
