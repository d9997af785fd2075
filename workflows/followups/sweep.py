"""The one sweep: every registered kind's due items planned, deferred by quiet hours, claimed.

    won = await sweep(store, policy, now)        # the notices this process won; the caller sends them
    claims = await preview(store, policy, now)   # what a sweep would do, claiming nothing (dry run)

The database is the truth. Each item is claimed with a conditional update of its due time
(expected old value -> next) *before* anything is sent; whoever loses the race sends nothing, so
two replicas never send the same follow-up. A store may take every claim of a sweep in one call
(`BatchClaims`); otherwise each kind claims its own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from workflows.followups.kind import Claim, FollowUp, FollowUpKind
from workflows.followups.quiet import in_quiet_hours, quiet_hours_end
from workflows.policy import Policy

log = logging.getLogger("workflows.followups")


class BatchClaims(Protocol):
    """Optional for a store: make many claims in few round trips, each won or lost on its own;
    one bool per claim, in order."""

    async def claim_all(self, claims: list[Claim]) -> list[bool]: ...


def _kinds(kinds: Sequence[FollowUpKind] | None) -> Sequence[FollowUpKind]:
    if kinds is not None:
        return kinds
    from workflows.followups import KINDS  # the registration table imports every kind

    return KINDS


def kind_named(name: str, kinds: Sequence[FollowUpKind] | None = None) -> FollowUpKind:
    for kind in _kinds(kinds):
        if kind.name == name:
            return kind
    raise KeyError(name)


def _quieted(kind: FollowUpKind, item: FollowUp, claim: Claim, policy: Policy, now: datetime) -> Claim:
    """A notice due inside quiet hours becomes a deferral to their end (count and state unchanged)."""
    if claim.send is None or not kind.quiet or not in_quiet_hours(now, policy.reminders):
        return claim
    end = quiet_hours_end(now, policy.reminders)
    return dataclasses.replace(claim, new_next_at=end, send=None, new_reminders_sent=item.count, state=item.state)


async def plan_all(
    store: Any, policy: Policy, now: datetime, limit: int, kinds: Sequence[FollowUpKind] | None = None
) -> list[Claim]:
    return [claim for claim, _ in await _plan_items(store, policy, now, limit, kinds)]


async def _plan_items(
    store: Any, policy: Policy, now: datetime, limit: int, kinds: Sequence[FollowUpKind] | None
) -> list[tuple[Claim, FollowUp]]:
    claims: list[tuple[Claim, FollowUp]] = []
    for kind in _kinds(kinds):
        for item in await kind.due(store, policy, now, limit):
            claim = kind.plan(item, policy, now)
            if claim is None:
                continue
            claim = _quieted(kind, item, claim, policy, now)
            if claim.send is not None and claim.new_next_at is not None and claim.new_next_at <= now:
                # Catch-up without a flood: one follow-up per item, never one per missed interval.
                log.warning("%s %s: next turn planned at or before now; left alone", kind.name, claim.item_id)
                continue
            claims.append((claim, item))
    return claims


async def claim_due(
    store: Any, policy: Policy, now: datetime, *, limit: int = 1000, kinds: Sequence[FollowUpKind] | None = None
) -> list[tuple[Claim, FollowUp]]:
    """Claim every due item; the claims this process won that send something, with their items.

    `limit` applies to each kind separately; anything left over is still due at the next sweep.
    """
    planned = await _plan_items(store, policy, now, limit, kinds)
    claims = [claim for claim, _ in planned]
    claim_all = getattr(store, "claim_all", None)
    if claim_all is not None:  # see BatchClaims
        results = await claim_all(claims)
    else:
        results = [await kind_named(claim.kind, kinds).claim(store, claim) for claim in claims]
    return [(c, item) for (c, item), ok in zip(planned, results, strict=True) if ok and c.send is not None]


async def sweep(
    store: Any, policy: Policy, now: datetime, *, limit: int = 1000, kinds: Sequence[FollowUpKind] | None = None
) -> list[Any]:
    """Claim every due item and return the notices this process won; the caller sends them."""
    return [claim.send for claim, _ in await claim_due(store, policy, now, limit=limit, kinds=kinds)]


async def preview(
    store: Any, policy: Policy, now: datetime, *, limit: int = 1000, kinds: Sequence[FollowUpKind] | None = None
) -> list[Claim]:
    """What a sweep at `now` would do, claiming nothing (``clearance remind --dry-run``).

    Claims with ``send`` None are deferrals to the end of quiet hours (``new_next_at``).
    """
    return await plan_all(store, policy, now, limit, kinds)


def preview_lines(claims: list[Claim], when: str, kinds: Sequence[FollowUpKind] | None = None) -> list[str]:
    """The dry run's report: one line per claim, then the totals by every kind's labels."""
    if not claims:
        return [f"Nothing is due at {when}."]
    registered = _kinds(kinds)
    totals: dict[str, int] = {label: 0 for kind in registered for label in kind.labels}
    deferred = 0
    lines = [f"A reminder sweep at {when} would (dry run: nothing claimed, nothing sent):"]
    for claim in claims:
        kind = kind_named(claim.kind, registered)
        if claim.send is None:
            deferred += 1
            until = claim.new_next_at.strftime("%Y-%m-%d %H:%M UTC") if claim.new_next_at else "later"
            lines.append(f"  {kind.reference(claim.item_id)}: quiet hours; deferred to {until}")
            continue
        lines.append(f"  {kind.describe(claim)}")
        for label in kind.tally(claim.send):
            totals[label] += 1
    counted = ", ".join(f"{n} {label}" + ("" if n == 1 else "s") for label, n in totals.items())
    lines.append(
        f"In all: {counted}, {deferred} deferred by quiet hours. "
        "User groups (S…) are expanded to their members when sent."
    )
    return lines
