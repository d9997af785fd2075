"""A licence's expiry (issue 18): reminders to its owner at each `[licences] remind_before` offset,
then, at the exact instant it expires with no renewal, its lapse (LapseLicence).

One `follow_ups` row per licence (subject: its id), due at its next turn; its state is the expiry
instant it was scheduled for (ISO), so `plan` needs no read. After downtime over several offsets only
the latest one passed is reminded (one catch-up DM, not one per missed offset). Reminders respect
quiet hours, deferred to their end but never past the expiry; the lapse does not wait for them, so
the class says `quiet = False` and `plan` defers reminders itself. A licence extended or renewed is
scheduled again by the licence service (workflows/licence_service.py), which moves the row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from workflows.events import Event
from workflows.followups.kind import Claim, FollowUp, FollowUpNotice, Known
from workflows.followups.quiet import in_quiet_hours, quiet_hours_end
from workflows.followups.rows import RowKind
from workflows.licences import EXPIRY_FOLLOW_UP, Licence, LicenceState, next_expiry_turn
from workflows.policy import Policy

NAME = EXPIRY_FOLLOW_UP


@dataclass(frozen=True)
class Remind:
    licence_id: int
    before: timedelta  # the offset reminded about (the nearest to expiry passed)


@dataclass(frozen=True)
class Lapse:
    licence_id: int


@dataclass(frozen=True)
class LicenceExpiring(FollowUpNotice):
    """One licence due a reminder: its owner gets one DM for all theirs in the sweep."""

    kind: ClassVar[str] = NAME
    licence: Licence
    tool_name: str
    before: timedelta


@dataclass(frozen=True)
class LicenceLapsedNotice(FollowUpNotice):
    """The licence lapsed: each of `told` (its authorised users, the owner first) is told once."""

    kind: ClassVar[str] = NAME
    licence: Licence
    tool_name: str
    told: tuple[str, ...]


class ExpiringLoader(Protocol):
    """Optional for a store (storage/licences.py): the licences a sweep's due rows name, each with
    whether it is its tool's current licence and the tool's name, in one read, not three a row."""

    async def expiring(self, ids: Collection[int]) -> dict[int, tuple[Licence, bool, str]]: ...


class LicenceExpiry(RowKind):
    name: ClassVar[str] = NAME
    quiet: ClassVar[bool] = False  # the lapse is at the exact instant; reminders are deferred in plan
    labels: ClassVar[tuple[str, ...]] = ("licence reminder", "licence lapse")

    async def due(self, store: Any, policy: Policy, now: datetime, limit: int) -> list[FollowUp]:
        rows: list[FollowUp] = await store.follow_ups.due(self.name, now, limit)
        load = getattr(store, "expiring", None)  # see ExpiringLoader; without it, produce reads each
        if load is None or not rows:
            return rows
        found = await load([r.subject for r in rows])
        return [dataclasses.replace(r, loaded=found.get(r.subject)) for r in rows]

    def plan(self, item: FollowUp, policy: Policy, now: datetime) -> Claim | None:
        try:
            expiry = datetime.fromisoformat(item.state)
        except ValueError:
            return Claim(self.name, item.subject, item.due_at, None, item.count, None, None, item.state)
        if now >= expiry:
            return Claim(
                self.name, item.subject, item.due_at, None, item.count + 1, None, Lapse(item.subject), item.state
            )
        offsets = policy.licences.remind_before
        following = next_expiry_turn(expiry, offsets, now) or expiry
        passed = [o for o in offsets if expiry - o <= now]
        if not passed:  # scheduled early: wait for the first offset
            return Claim(self.name, item.subject, item.due_at, following, item.count, None, None, item.state)
        if in_quiet_hours(now, policy.reminders):
            until = min(quiet_hours_end(now, policy.reminders), expiry)
            return Claim(self.name, item.subject, item.due_at, until, item.count, None, None, item.state)
        send = Remind(item.subject, min(passed))
        return Claim(self.name, item.subject, item.due_at, following, item.count + 1, None, send, item.state)

    async def produce(
        self, uow: Any, store: Any, item: FollowUp, send: Any, known: Known, policy: Policy, now: datetime
    ) -> list[Event]:
        if isinstance(send, Remind) and item.loaded is not None:  # read with the due rows (ExpiringLoader)
            read: Licence = item.loaded[0]
            is_current, tool_name = item.loaded[1], item.loaded[2]
            if not is_current or read.renewal_ref is not None or read.state(now) is not LicenceState.VALID:
                return []  # renewed, or a renewal is under review: nothing to remind
            return [LicenceExpiring(read, tool_name, send.before, refresh=(read.owner,))]
        licence: Licence | None = await uow.licences.get(item.subject)
        if licence is None or licence.id is None:
            return []
        current = await uow.licences.current_for_tool(licence.tool_key)
        if current is None or current.id != licence.id:
            return []  # renewed: the new licence has its own row
        tool = await uow.tools.get_by_key(licence.tool_key)
        name = tool.name if tool is not None else licence.tool_key
        if isinstance(send, Remind):
            if licence.renewal_ref is not None or licence.state(now) is not LicenceState.VALID:
                return []  # a renewal is under review: nothing to remind
            return [LicenceExpiring(licence, name, send.before, refresh=(licence.owner,))]
        # Imported here: the licence service schedules this kind's rows (a cycle at import time).
        from workflows.licence_service import LicenceLapsed, lapse_licence

        audience = {licence.owner, *licence.scope.people, *known.users(licence.scope.groups)}
        events = await lapse_licence(uow, policy, licence.id, audience, now)
        notices: list[Event] = []
        for event in events:
            if isinstance(event, LicenceLapsed):
                notices.append(LicenceLapsedNotice(event.licence, event.tool_name, event.told, refresh=event.told))
            else:
                notices.append(event)
        return notices

    def reference(self, item_id: int) -> str:
        return f"LIC-{item_id:04d}"

    def describe(self, claim: Claim) -> str:
        if isinstance(claim.send, Lapse):
            return f"{self.reference(claim.item_id)}: lapses now (Suspended — approval lapsed)"
        return f"{self.reference(claim.item_id)}: expiry reminder to its owner"

    def tally(self, send: Any) -> list[str]:
        return ["licence lapse"] if isinstance(send, Lapse | LicenceLapsedNotice) else ["licence reminder"]
