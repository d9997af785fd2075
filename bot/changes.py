"""The write path: a domain change, its rules and the Slack messages it implies, in one transaction.

Every listener that changes something calls `Changes.change(action)`; notices with no state change
go through `Changes.enqueue(messages)`. Both commit through the group commit
(storage/group_commit.py) and then wake the outbox sender. What follows a commit outside the
transaction (Home tabs, directive counts, notices that need Slack first) is the one `committed`
callback the composition root gives (bot/runtime.py says what it does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from bot.blocks.tool_status import cease_flag
from bot.directives import directive_messages
from bot.outbound import RequestMessages
from workflows.directives import override_for
from workflows.errors import ConcurrencyConflict
from workflows.events import Event
from workflows.handlers import handle
from workflows.outbox import OutboundMessage
from workflows.policy import Policy
from workflows.ports_directives import ChangeUnitOfWork, DirectiveUnitOfWork
from workflows.registry import mixed_script_warning
from workflows.requests import ToolRequest

T = TypeVar("T")
Action = Callable[[ChangeUnitOfWork], Awaitable[list[Event]]]  # uow -> the events of the change


class Writes(Protocol):
    """The group commit: runs `unit(uow)` in a transaction shared with concurrent changes."""

    async def run(
        self, unit: Callable[[ChangeUnitOfWork], Awaitable[T]], *, after: Callable[[T], None] | None = None
    ) -> T: ...


async def card_flags(uow: DirectiveUnitOfWork, request: ToolRequest | None) -> list[str]:
    """Warnings for a request's review cards: a cease-use or suspension in force for the tool, and a
    name that mixes scripts (a look-alike of another name)."""
    if request is None:
        return []
    tool = await override_for(uow, request)
    flags = [cease_flag(tool, request.tool_name)] if tool is not None else []
    mixed = mixed_script_warning(request.tool_name)
    return flags + ([mixed] if mixed else [])


class Changes:
    def __init__(
        self,
        writes: Writes,
        policy: Policy,
        *,
        sent: Callable[[], None],
        committed: Callable[[list[Event]], None],
    ) -> None:
        self._writes = writes
        self._policy = policy
        self._messages = RequestMessages(policy)
        self._sent = sent  # new outbox rows: wake the sender
        self._committed = committed

    async def change(self, action: Action) -> list[Event]:
        """Run `action(uow)`, every rule that follows from its events, and the messages they imply;
        commit; send. On a concurrent change (two clicks at once) the whole thing is retried from a
        fresh read, where the domain then sees what the other click did."""

        async def unit(uow: ChangeUnitOfWork) -> list[Event]:
            events = await handle(uow, self._policy, await action(uow))
            for event in events:
                await self._write_messages(uow, event)
            return events

        for attempt in range(3):
            try:
                # After the commit, even if this click's caller has gone meanwhile (a client that
                # hung up): the sender is woken, the Home tabs and counts refreshed.
                return await self._writes.run(unit, after=self._after_commit)
            except ConcurrencyConflict:
                if attempt == 2:
                    raise
        return []  # not reached: the last attempt returns or raises

    def _after_commit(self, events: list[Event]) -> None:
        self._sent()
        self._committed(events)

    async def _write_messages(self, uow: ChangeUnitOfWork, event: Event) -> None:
        """An event's Slack messages, into the outbox in the change's own transaction."""
        await directive_messages(uow, event)
        request = getattr(event, "request", None)
        if request is not None:
            flags = await card_flags(uow, request)
            await uow.outbox.add_all(self._messages.for_event(event, flags))

    async def enqueue(self, messages: list[OutboundMessage]) -> None:
        """Store messages in their own transaction (notices with no state change) and send them."""
        if not messages:
            return

        async def unit(uow: ChangeUnitOfWork) -> None:
            await uow.outbox.add_all(messages)

        await self._writes.run(unit, after=lambda _: self._sent())
