"""What the sweep asks Slack before its transaction, shared by every follow-up kind (names none).

A kind that needs something from Slack before the sweep's transaction (who is in a user group,
a card's permalink, who has not acknowledged a directive) declares a `LookUp` beside its message
builder (bot/followups/messages.py `LOOKUPS`, keyed by the kind's name). For the kinds present in
a run's due items, in the order of `KINDS`, the scheduler (bot/followups/scheduler.py) calls the
look-up's `read` inside the peek's read transaction (the database only, no network call), then its
`ask` outside any transaction, which fills the run's `Lookups`; `Lookups.known()` is what the
sweep's transaction is handed (`Known`). What Slack cannot answer now stays due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflows.followups.kind import Known
from workflows.policy import Policy

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.directives.status import DirectiveStatusReader
    from bot.people.directory import SlackDirectory
    from storage.reminders import DueItem
    from storage.uow import SqlUnitOfWork


@dataclass
class Lookups:
    """What Slack told us before the transaction."""

    members: dict[str, frozenset[str]] = field(default_factory=dict)  # principal -> users
    audience: dict[tuple[str, int], set[str]] = field(default_factory=dict)  # (kind, subject) -> who still owes it
    blocked_directives: set[int] = field(default_factory=set)  # audience unknown just now
    permalinks: dict[str, str] = field(default_factory=dict)  # card key -> permalink
    blocked_stages: set[str] = field(default_factory=set)  # reviewers unknown just now

    def known(self) -> Known:
        return Known(
            members=dict(self.members),
            audience={key: frozenset(users) for key, users in self.audience.items()},
            links=dict(self.permalinks),
            skip_stages=frozenset(self.blocked_stages),
            skip_directives=frozenset(self.blocked_directives),
        )


@dataclass
class Asking:
    """Whom a look-up may ask, and what outlives one run (the scheduler's)."""

    policy: Policy
    directory: SlackDirectory
    client: AsyncWebClient
    reading: Callable[[], SqlUnitOfWork]  # a read-only unit of work, for what the peek did not read
    directive_status: DirectiveStatusReader
    permalinks: dict[str, str] = field(default_factory=dict)  # card key -> permalink, across runs


@dataclass(frozen=True)
class LookUp:
    """One kind's questions before the transaction, given only that kind's due items.

    `read(reading, due, policy)`, if any, runs inside the peek's read transaction (no network call)
    and returns what `ask(due, read, asking, found)` needs; `ask` asks Slack and fills `found`."""

    ask: Callable[[Sequence[DueItem], Any, Asking, Lookups], Awaitable[None]]
    read: Callable[[SqlUnitOfWork, Sequence[DueItem], Policy], Awaitable[Any]] | None = None
