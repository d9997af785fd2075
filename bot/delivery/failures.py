"""Admins are told (by DM) when a message could not be delivered, once per failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.messages.outbound import post
from storage.outbox import Delivery
from workflows.outbox import OutboundMessage
from workflows.policy import Policy, is_group


class FailureReporter:
    def __init__(self, policy: Policy, enqueue: Callable[[list[OutboundMessage]], Awaitable[None]]) -> None:
        self._policy = policy
        self._enqueue = enqueue

    async def __call__(self, delivery: Delivery, error: str) -> None:
        if delivery.queue.startswith(("admin:", "directive:")) or delivery.method == "chat.postEphemeral":
            # Never report the failure of a report; a directive's issuer is told per channel
            # already (bot/directives/delivery.py); a lost private notice is logged only.
            return
        admins = [a for a in self._policy.roles.admins if not is_group(a)]
        channel = delivery.payload.get("channel", "")
        text = (
            f":warning: Clearance could not deliver a message ({delivery.method}"
            f"{' to ' + channel if channel else ''}): `{error}`. "
            "Check that the bot is in that channel and the config's ids are right; "
            "`clearance outbox` lists undelivered messages."
        )
        await self._enqueue([post(f"admin:{a}", a, text, []) for a in admins])
