"""The follow_ups table under the one sweep, on SQLite and PostgreSQL: kinds with no column of their own.

Two stand-in kinds shaped like the next ones: a licence's reminders at offsets before its expiry
(the state says which offset is next) and a recurring job with no subject row (the audit anchor).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from storage.uow import uow_factory
from workflows.commands import RunFollowUps
from workflows.followups.kind import Claim, FollowUp, Known
from workflows.followups.rows import RowKind
from workflows.followups.run import FollowUpsDue, run_follow_ups, seed_follow_ups
from workflows.followups.sweep import preview, preview_lines, sweep
from workflows.policy import Policy, ReminderSettings, Stage

H = timedelta(hours=1)
DAY = 24 * H
OFFSETS = (30 * DAY, 7 * DAY, 1 * DAY)  # reminders this long before expiry


@dataclass(frozen=True)
class Expiring:
    licence_id: int
    nth: int


class LicenceExpiry(RowKind):
    name = "licence-expiry"
    labels = ("licence reminder",)

    def plan(self, item: FollowUp, policy: Policy, now):
        expiry = item.due_at + OFFSETS[int(item.state or 0)]
        following = next((i for i, o in enumerate(OFFSETS) if expiry - o > now), None)
        state = str(following) if following is not None else ""
        nxt = expiry - OFFSETS[following] if following is not None else None
        return Claim(
            self.name,
            item.subject,
            item.due_at,
            nxt,
            item.count + 1,
            None,
            Expiring(item.subject, item.count + 1),
            state,
        )


@dataclass(frozen=True)
class Anchor:
    nth: int


class AuditAnchor(RowKind):
    name = "audit-anchor"
    quiet = False  # posted whenever its turn comes
    labels = ("audit anchor",)

    def first_due(self, policy, now):
        return now

    def plan(self, item: FollowUp, policy: Policy, now):
        return self.again(item, now, DAY, Anchor(item.count + 1))

    async def produce(self, uow, store, item, send, known, policy, now):
        return []


KINDS = (LicenceExpiry(), AuditAnchor())
POLICY = Policy(
    stages=(Stage("it", "IT", "C0IT", ("U0IT",)),),
    reminders=ReminderSettings(quiet_hours=(20 * 60, 7 * 60), timezone="UTC"),
)


async def schedule(uows, kind, subject, due_at, state=""):
    async with uows() as uow:
        await uow.reminders().follow_ups.schedule(kind, subject, due_at, state)
        await uow.commit()


async def run(uows, now):
    async with uows() as uow:
        won = await sweep(uow.reminders(POLICY.reminders), POLICY, now, kinds=KINDS)
        await uow.commit()
    return won


async def test_a_licence_is_reminded_at_each_offset_once_and_after_downtime_once(sessions, clock):
    uows = uow_factory(sessions, clock)
    expiry = clock() + 40 * DAY
    await schedule(uows, "licence-expiry", 7, expiry - OFFSETS[0], "0")
    noon = lambda t: t.replace(hour=12, minute=0)  # noqa: E731  outside quiet hours
    assert await run(uows, noon(expiry - 31 * DAY)) == []
    assert await run(uows, noon(expiry - 29 * DAY)) == [Expiring(7, 1)]
    assert await run(uows, noon(expiry - 28 * DAY)) == []
    # Down from 28 days before to 3 hours before (past two offsets): one reminder, not two.
    assert await run(uows, expiry - 3 * H) == [Expiring(7, 2)]
    assert await run(uows, expiry - 1 * H) == []
    async with uows() as uow:
        row = await uow.reminders().follow_ups.get("licence-expiry", 7)
    assert row is not None and row.due_at is None and row.count == 2


async def test_two_concurrent_sweeps_fire_each_follow_up_once(sessions, clock):
    uows = uow_factory(sessions, clock)
    noon = clock().replace(hour=12, minute=0) + DAY
    for licence in range(1, 21):
        await schedule(uows, "licence-expiry", licence, noon - H, "2")
    results = await asyncio.gather(*(run(uows, noon) for _ in range(3)), return_exceptions=True)
    won = [n for r in results if isinstance(r, list) for n in r]
    assert sorted(n.licence_id for n in won) == list(range(1, 21))


async def test_a_recurring_job_with_no_subject_runs_every_interval_once_and_ignores_quiet_hours(sessions, clock):
    uows = uow_factory(sessions, clock)
    night = clock().replace(hour=23, minute=0) + DAY
    async with uows() as uow:
        await seed_follow_ups(uow, POLICY, night, KINDS)
        await seed_follow_ups(uow, POLICY, night, KINDS)  # once only
        await uow.commit()
    assert await run(uows, night) == [Anchor(1)]
    assert await run(uows, night + H) == []
    assert await run(uows, night + 5 * DAY) == [Anchor(2)]  # after downtime: once
    async with uows() as uow:
        assert (await uow.reminders().follow_ups.get("audit-anchor", 0)).due_at == night + 6 * DAY


async def test_quiet_hours_defer_a_quiet_kind_to_their_end_and_the_dry_run_says_so(sessions, clock):
    uows = uow_factory(sessions, clock)
    night = clock().replace(hour=23, minute=0) + DAY
    await schedule(uows, "licence-expiry", 3, night - H, "1")
    async with uows() as uow:
        claims = await preview(uow.reminders(POLICY.reminders), POLICY, night, kinds=KINDS)
    lines = preview_lines(claims, "then", KINDS)
    assert lines[1] == f"  licence-expiry 3: quiet hours; deferred to {(night + 8 * H):%Y-%m-%d %H:%M} UTC"
    assert lines[-1].startswith("In all: 0 licence reminders, 0 audit anchors, 1 deferred by quiet hours.")
    assert await run(uows, night) == []
    assert await run(uows, night + 8 * H) == [Expiring(3, 1)]


async def test_the_sweep_as_a_change_returns_one_event_for_every_notice(sessions, clock):
    uows = uow_factory(sessions, clock)
    night = clock().replace(hour=23, minute=0) + DAY
    async with uows() as uow:
        await seed_follow_ups(uow, POLICY, night, KINDS)
        events = await run_follow_ups(uow, POLICY, night, Known(), 1000, KINDS)
        await uow.commit()
    assert [type(e) for e in events] == [FollowUpsDue] and events[0].claimed == 1
    assert RunFollowUps(night, Known()).limit == 1000


async def test_a_sweep_s_claims_are_taken_together_each_won_or_lost_on_its_own(sessions, clock):
    """claim_all takes follow_ups rows in one UPDATE per batch: a claim whose row moved since it was
    read (another sweep, a licence renewed) loses alone; the others win and store their next turn."""
    uows = uow_factory(sessions, clock)
    due = clock().replace(hour=12, minute=0) + DAY
    for subject in (1, 2, 3):
        await schedule(uows, "licence-expiry", subject, due, "0")
    await schedule(uows, "audit-anchor", 0, None)
    later, never = due + 7 * DAY, None
    claims = [
        Claim("licence-expiry", 1, due, later, 1, None, "send", "1"),
        Claim("licence-expiry", 2, due - H, later, 1, None, "send", "1"),  # read before the row moved
        Claim("licence-expiry", 3, due, never, 2, None, "send", ""),
        Claim("audit-anchor", 0, None, due, 1, None, "send", ""),  # expected NULL matches NULL
    ]
    async with uows() as uow:
        won = await uow.reminders(POLICY.reminders).claim_all(claims)
        await uow.commit()
    assert won == [True, False, True, True]
    async with uows() as uow:
        rows = {s: await uow.reminders().follow_ups.get("licence-expiry", s) for s in (1, 2, 3)}
        anchor = await uow.reminders().follow_ups.get("audit-anchor", 0)
    assert (rows[1].due_at, rows[1].count, rows[1].state) == (later, 1, "1")
    assert (rows[2].due_at, rows[2].count, rows[2].state) == (due, 0, "0")  # lost: unchanged
    assert (rows[3].due_at, rows[3].count) == (None, 2)
    assert anchor.due_at == due
