"""A base for follow-up kinds whose bookkeeping is a `follow_ups` row (no column of their own).

    class LicenceExpiry(RowKind):
        name = "licence-expiry"; quiet = True; labels = ("licence reminder",)
        def plan(self, item, policy, now): ...        # when due, what next, what it sends
        async def produce(self, uow, store, item, send, known, policy, now): ...
        def describe(self, claim): ...

A recurring job with no subject row (the audit anchor) uses subject 0, says when it first falls due
(`first_due`: the scheduler creates its row once, `SeedFollowUps`) and plans its next turn with
`again`, counted from now: after downtime it runs once, not once per missed interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from workflows.events import Event
from workflows.followups.kind import Claim, FollowUp, Known, Queued
from workflows.policy import Policy


class RowKind:
    name: ClassVar[str]
    quiet: ClassVar[bool] = True
    labels: ClassVar[tuple[str, ...]]

    async def due(self, store: Any, policy: Policy, now: datetime, limit: int) -> list[FollowUp]:
        rows: list[FollowUp] = await store.follow_ups.due(self.name, now, limit)
        return rows

    def plan(self, item: FollowUp, policy: Policy, now: datetime) -> Claim | None:
        raise NotImplementedError

    async def produce(
        self, uow: Any, store: Any, item: FollowUp, send: Any, known: Known, policy: Policy, now: datetime
    ) -> list[Event]:
        raise NotImplementedError

    async def claim(self, store: Any, claim: Claim) -> bool:
        won: bool = await store.follow_ups.claim(claim)
        return won

    async def gone(self, uow: Any, waiting: Sequence[Queued]) -> set[str]:
        return set()  # its messages always matter, unless the kind says otherwise

    def first_due(self, policy: Policy, now: datetime) -> datetime | None:
        """A recurring job's first turn (its row is created once); None: rows are scheduled by changes."""
        return None

    def reference(self, item_id: int) -> str:
        return f"{self.name} {item_id}" if item_id else self.name

    def describe(self, claim: Claim) -> str:
        return f"{self.reference(claim.item_id)}: {self.labels[0]} {claim.new_reminders_sent}"

    def tally(self, send: Any) -> Sequence[str]:
        return self.labels[:1]

    def again(self, item: FollowUp, now: datetime, every: timedelta | None, send: Any, state: str = "") -> Claim:
        """Fire now; next turn `every` after now (None: nothing more until rescheduled)."""
        following = now + every if every is not None else None
        return Claim(self.name, item.subject, item.due_at, following, item.count + 1, None, send, state)
