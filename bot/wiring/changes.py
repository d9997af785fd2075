"""The write path: a command, its rules and the Slack messages it implies, in one transaction.

Every listener, background loop and CLI command that changes something builds a command
(workflows/commands.py) and calls `Changes.handle(command)`; notices with no state change go
through `Changes.enqueue(messages)`. Both commit through the group commit
(storage/group_commit.py) and then wake the outbox sender. What follows a commit outside the
transaction (Home tabs, directive counts, notices that need Slack first) is the one `committed`
callback the composition root gives (bot/wiring/runtime.py says what it does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from bot.messages.for_events import SlackMessages, read_facts
from workflows.commands import Command, run
from workflows.errors import ConcurrencyConflict
from workflows.events import Event
from workflows.outbox import OutboundMessage
from workflows.policy import Policy
from workflows.ports_directives import ChangeUnitOfWork

T = TypeVar("T")


class Writes(Protocol):
    """The group commit: runs `unit(uow)` in a transaction shared with concurrent changes."""

    async def run(
        self, unit: Callable[[ChangeUnitOfWork], Awaitable[T]], *, after: Callable[[T], None] | None = None
    ) -> T: ...


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
        self._messages = SlackMessages(policy)
        self._sent = sent  # new outbox rows: wake the sender
        self._committed = committed

    async def handle(
        self,
        command: Command,
        *,
        queued: list[OutboundMessage] | None = None,
        with_messages: Sequence[OutboundMessage] = (),
    ) -> list[Event]:
        """Run the command's service, every rule that follows from its events, and the messages they
        imply (bot/messages/for_events.py); commit; send. On a concurrent change (two clicks at once) the whole
        thing is retried from a fresh read, where the domain then sees what the other click did.
        `queued` (a background loop's report) is given the messages written. `with_messages`: built
        before the transaction from reads and Slack look-ups (a Home tab's view), stored with the
        change's own."""

        async def unit(uow: ChangeUnitOfWork) -> list[Event]:
            events = await run(uow, self._policy, command)
            messages = list(with_messages)
            if events:
                facts = await read_facts(uow, events)
                messages += [m for e in events for m in self._messages.messages_for(e, facts)]
            if messages:
                await uow.outbox.add_all(messages)
            if queued is not None:
                queued[:] = messages  # replaced, not added to: the unit may run again
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

    async def enqueue(self, messages: list[OutboundMessage]) -> None:
        """Store messages in their own transaction (notices with no state change) and send them."""
        if not messages:
            return

        async def unit(uow: ChangeUnitOfWork) -> None:
            await uow.outbox.add_all(messages)

        await self._writes.run(unit, after=lambda _: self._sent())
