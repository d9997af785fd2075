"""The notice of a tool request the risk rules refused (`RequestRefused`) to command staff named as
user groups. (Other things turned down are not "refusals" here: a refused click is a `DomainError`,
worded by bot/messages/presenter.py; an HTTP request with a bad signature is turned away,
bot/http/turned_away.py.)

Their members are known only by asking Slack, which is never done inside a transaction or before an
ack: so this runs after the commit, in the background. Command staff named as users were sent
theirs with the change itself (RequestMessages.refusal_messages).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.blocks.risk import refusal_notice
from bot.messages.outbound import post, request_queue
from bot.people.directory import DirectoryUnavailable, SlackDirectory
from workflows.events import Event, RequestRefused
from workflows.outbox import OutboundMessage
from workflows.policy import Policy, is_group

log = logging.getLogger("clearance")


class GroupRefusalNotices:
    def __init__(
        self,
        policy: Policy,
        directory: SlackDirectory,
        *,
        enqueue: Callable[[list[OutboundMessage]], Awaitable[None]],
        background: Callable[[Coroutine[Any, Any, Any]], object],
    ) -> None:
        self._policy = policy
        self._directory = directory
        self._enqueue = enqueue
        self._background = background

    def after_commit(self, events: list[Event]) -> None:
        groups = [p for p in self._policy.roles.command_staff if is_group(p)]
        refused = [e for e in events if isinstance(e, RequestRefused)]
        if groups and refused:
            self._background(self._notify(groups, refused))

    async def _notify(self, groups: list[str], refused: list[RequestRefused]) -> None:
        named = {p for p in self._policy.roles.command_staff if not is_group(p)}
        try:
            members = await self._directory.expand(groups)
        except DirectoryUnavailable:
            log.error("command staff groups could not be expanded; %d refusal notice(s) not sent", len(refused))
            return
        messages = []
        for event in refused:
            text, blocks = refusal_notice(event.request, event.assessment, for_command_staff=True)
            messages += [post(request_queue(event.request), user, text, blocks) for user in sorted(members - named)]
        await self._enqueue(messages)
