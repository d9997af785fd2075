"""Reminders: when they are due, quiet hours, escalation, and claiming under concurrency.

A fixed clock throughout; time passes only by handing the sweep a later `now`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.policy import Policy, ReminderSettings, Roles, Stage
from workflows.reminders import (
    DirectiveReminder,
    DueDirective,
    ReviewReminder,
    directive_first_due,
    format_waited,
    in_quiet_hours,
    nobody_to_remind,
    parse_quiet_hours,
    plan_directive_reminder,
    plan_review_reminder,
    preview,
    quiet_hours_end,
    stop_directive_reminders,
    sweep,
)
from workflows.requests import PriorUse, RequestStatus, ToolRequest

T0 = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)  # a Monday, 09:00 in Edmonton (MDT)
H = timedelta(hours=1)
EDMONTON = "America/Edmonton"

STAGE = Stage(
    key="it",
    name="IT Security",
    channel="C1",
    reviewers=("U_REV", "S_GROUP"),
    remind_after=timedelta(hours=24),
    remind_every=timedelta(hours=12),
)
ROLES = Roles(admins=("U_ADMIN",), command_staff=("U_CHIEF",))


def policy(stage: Stage = STAGE, **settings) -> Policy:
    return Policy(stages=(stage,), roles=ROLES, reminders=ReminderSettings(**settings))


def make_request(request_id: int = 1, entered: datetime = T0, **changes) -> ToolRequest:
    request = ToolRequest(
        requester_id="U_OFFICER",
        tool_name="Tool",
        vendor="Vendor",
        purpose="A purpose long enough",
        case_number="",
        data_kinds=("none",),
        prior_use=PriorUse.NONE,
        notes="",
        created_at=entered,
        stage_key=STAGE.key,
        stage_entered_at=entered,
        next_reminder_at=entered + STAGE.remind_after,  # as review.submit_request sets it
        id=request_id,
    )
    return dataclasses.replace(request, **changes)


class NoFollowUpRows:
    """The follow_ups table of kinds with no column of their own (the audit anchor, licences): empty here."""

    async def due(self, kind, now, limit):
        return []

    async def claim(self, claim):
        return False

    async def schedule(self, kind, subject, due_at, state=""):
        return None

    async def get(self, kind, subject):
        return None


class FakeReminderStore:
    """In memory; claims compare the expected value like the SQL conditional update does."""

    follow_ups = NoFollowUpRows()

    def __init__(self, requests=(), directives=(), *, barrier: asyncio.Barrier | None = None):
        self.requests = {r.id: r for r in requests}
        self.directives = {d.directive_id: d for d in directives}
        self.barrier = barrier  # makes concurrent sweeps all read before any claims

    async def due_requests(self, now, limit):
        due = [
            dataclasses.replace(r)  # a copy, as a fresh load from the database would be
            for r in self.requests.values()
            if r.status.is_open and r.next_reminder_at is not None and r.next_reminder_at <= now
        ]
        due.sort(key=lambda r: r.next_reminder_at)
        if self.barrier:
            await self.barrier.wait()
        return due[:limit]

    async def claim_request(self, request_id, expected_next_at, new_next_at, reminders_sent, escalated_at):
        await asyncio.sleep(0)  # let the other sweep run between read and write
        row = self.requests[request_id]
        if row.next_reminder_at != expected_next_at:
            return False
        row.next_reminder_at, row.reminders_sent, row.escalated_at = new_next_at, reminders_sent, escalated_at
        return True

    async def due_directives(self, now, limit):
        due = [d for d in self.directives.values() if d.next_reminder_at and d.next_reminder_at <= now]
        return sorted(due, key=lambda d: d.next_reminder_at)[:limit]

    async def claim_directive(self, directive_id, expected_next_at, new_next_at, reminders_sent):
        await asyncio.sleep(0)
        row = self.directives[directive_id]
        if row.next_reminder_at != expected_next_at:
            return False
        self.directives[directive_id] = dataclasses.replace(
            row, next_reminder_at=new_next_at, reminders_sent=reminders_sent
        )
        return True


# --- quiet hours ----------------------------------------------------------------------------


def test_parse_quiet_hours():
    assert parse_quiet_hours("20:00-07:00") == (1200, 420)
    assert parse_quiet_hours(" 9:30 - 17:05 ") == (570, 1025)


@pytest.mark.parametrize("text", ["", "20:00", "25:00-07:00", "20:60-07:00", "8pm-7am", "07:00-07:00", None])
def test_parse_quiet_hours_rejects_nonsense(text):
    with pytest.raises(ValueError, match="quiet hours like"):
        parse_quiet_hours(text)


def edmonton(y, mo, d, h, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(EDMONTON)).astimezone(UTC)


NIGHT = ReminderSettings(quiet_hours=(20 * 60, 7 * 60), timezone=EDMONTON)
LUNCH = ReminderSettings(quiet_hours=(12 * 60, 13 * 60), timezone=EDMONTON)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((2025, 6, 2, 19, 59), False),
        ((2025, 6, 2, 20, 0), True),
        ((2025, 6, 2, 23, 30), True),
        ((2025, 6, 3, 0, 30), True),  # after midnight: the range wraps
        ((2025, 6, 3, 6, 59), True),
        ((2025, 6, 3, 7, 0), False),
        ((2025, 6, 3, 12, 0), False),
    ],
)
def test_in_quiet_hours_wrapping_midnight(local, quiet):
    assert in_quiet_hours(edmonton(*local), NIGHT) is quiet


def test_in_quiet_hours_within_a_day_and_unconfigured():
    assert in_quiet_hours(edmonton(2025, 6, 2, 12, 30), LUNCH)
    assert not in_quiet_hours(edmonton(2025, 6, 2, 13, 0), LUNCH)
    assert not in_quiet_hours(edmonton(2025, 6, 2, 23, 0), LUNCH)
    assert not in_quiet_hours(edmonton(2025, 6, 2, 23, 0), ReminderSettings())


def test_quiet_hours_are_read_on_the_local_clock_not_utc():
    # 10:00 UTC is 04:00 in Edmonton in summer: quiet there, not by a UTC reading.
    ten_utc = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    assert in_quiet_hours(ten_utc, NIGHT)
    assert not in_quiet_hours(ten_utc, dataclasses.replace(NIGHT, timezone="UTC"))


def test_quiet_hours_end_same_night_and_next_morning():
    assert quiet_hours_end(edmonton(2025, 6, 3, 1, 0), NIGHT) == edmonton(2025, 6, 3, 7, 0)
    assert quiet_hours_end(edmonton(2025, 6, 2, 22, 0), NIGHT) == edmonton(2025, 6, 3, 7, 0)
    assert quiet_hours_end(edmonton(2025, 6, 2, 12, 10), LUNCH) == edmonton(2025, 6, 2, 13, 0)


def test_quiet_hours_end_across_spring_forward():
    # Clocks jump 02:00 MST -> 03:00 MDT on 9 March 2025: the night is an hour shorter.
    now = edmonton(2025, 3, 8, 23, 0)
    assert now == datetime(2025, 3, 9, 6, 0, tzinfo=UTC)  # MST, UTC-7
    end = quiet_hours_end(now, NIGHT)
    assert end == datetime(2025, 3, 9, 13, 0, tzinfo=UTC)  # 07:00 MDT, UTC-6: not 14:00
    assert end - now == 7 * H


def test_quiet_hours_end_across_fall_back():
    # Clocks fall back 02:00 MDT -> 01:00 MST on 2 November 2025: the night is an hour longer.
    now = edmonton(2025, 11, 1, 22, 0)
    end = quiet_hours_end(now, NIGHT)
    assert end == datetime(2025, 11, 2, 14, 0, tzinfo=UTC)  # 07:00 MST
    assert end - now == 10 * H


def test_quiet_hours_ending_in_the_skipped_hour_end_an_hour_later_by_the_clock():
    settings = ReminderSettings(quiet_hours=(20 * 60, 2 * 60 + 30), timezone=EDMONTON)
    end = quiet_hours_end(edmonton(2025, 3, 8, 23, 0), settings)
    assert end == datetime(2025, 3, 9, 9, 30, tzinfo=UTC)  # 03:30 MDT
    assert not in_quiet_hours(end, settings)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        in_quiet_hours(datetime(2025, 6, 2, 12, 0), NIGHT)


# --- review reminders -----------------------------------------------------------------------


def plan(request, now, stage=STAGE, **settings):
    p = policy(stage, **settings)
    return plan_review_reminder(request, stage, p.roles, p.reminders, now)


def test_not_due_before_remind_after():
    request = make_request()
    assert plan(request, T0) is None
    assert plan(request, T0 + 24 * H - timedelta(seconds=1)) is None


def test_due_after_remind_after():
    now = T0 + 24 * H
    claim = plan(make_request(), now)
    assert claim.expected_next_at == T0 + 24 * H
    assert claim.new_next_at == now + STAGE.remind_every
    assert claim.new_reminders_sent == 1
    assert claim.new_escalated_at is None
    assert claim.send == ReviewReminder(
        request_id=1,
        ref="REQ-0001",
        stage_key="it",
        stage_name="IT Security",
        recipients=("U_REV", "S_GROUP"),
        waited=24 * H,
        nth=1,
    )


@pytest.mark.parametrize("status", [RequestStatus.INFO_REQUESTED, RequestStatus.APPROVED, RequestStatus.WITHDRAWN])
def test_requests_not_pending_are_never_due(status):
    # Even with a stale next_reminder_at left behind: the status decides.
    assert plan(make_request(status=status), T0 + 100 * H) is None


def test_closed_or_unscheduled_requests_are_never_due():
    assert plan(make_request(next_reminder_at=None), T0 + 100 * H) is None
    assert plan(make_request(stage_key=None), T0 + 100 * H) is None


async def test_sweep_reminds_then_every_remind_every():
    store = FakeReminderStore([make_request()])
    p = policy()
    assert await sweep(store, p, T0 + 23 * H) == []
    first = await sweep(store, p, T0 + 24 * H)
    assert [r.nth for r in first] == [1]
    assert await sweep(store, p, T0 + 24 * H) == []  # the same instant again: nothing
    assert await sweep(store, p, T0 + 36 * H - timedelta(minutes=1)) == []
    second = await sweep(store, p, T0 + 36 * H)
    assert [(r.nth, r.waited) for r in second] == [(2, 36 * H)]
    assert store.requests[1].reminders_sent == 2


async def test_after_ten_days_down_one_reminder_then_the_next_remind_every_later():
    store = FakeReminderStore([make_request()])
    p = policy()
    back = T0 + timedelta(days=10)
    assert len(await sweep(store, p, back)) == 1
    assert await sweep(store, p, back + timedelta(minutes=1)) == []
    assert store.requests[1].next_reminder_at == back + STAGE.remind_every
    assert store.requests[1].reminders_sent == 1
    assert len(await sweep(store, p, back + STAGE.remind_every)) == 1


async def test_due_inside_quiet_hours_is_deferred_to_their_end_then_sent_once():
    entered = edmonton(2025, 6, 1, 21, 0)  # due 21:00 the next evening: inside 20:00-07:00
    store = FakeReminderStore([make_request(entered=entered)])
    p = policy(quiet_hours=(20 * 60, 7 * 60), timezone=EDMONTON)
    due = entered + 24 * H
    assert await sweep(store, p, due) == []
    assert store.requests[1].next_reminder_at == edmonton(2025, 6, 3, 7, 0)
    assert store.requests[1].reminders_sent == 0
    for minute in range(0, 10 * 60, 30):  # sweeps through the night send nothing
        assert await sweep(store, p, due + timedelta(minutes=minute)) == []
    sent = await sweep(store, p, edmonton(2025, 6, 3, 7, 0))
    assert [r.nth for r in sent] == [1]
    assert await sweep(store, p, edmonton(2025, 6, 3, 7, 1)) == []


async def test_quiet_hours_deferral_across_spring_forward():
    entered = edmonton(2025, 3, 7, 23, 0)
    store = FakeReminderStore([make_request(entered=entered)])
    p = policy(quiet_hours=(20 * 60, 7 * 60), timezone=EDMONTON)
    assert await sweep(store, p, entered + 24 * H) == []
    morning = datetime(2025, 3, 9, 13, 0, tzinfo=UTC)  # 07:00 MDT
    assert store.requests[1].next_reminder_at == morning
    assert await sweep(store, p, morning - timedelta(minutes=1)) == []
    assert len(await sweep(store, p, morning)) == 1


def test_outside_quiet_hours_sends_at_once():
    now = edmonton(2025, 6, 3, 10, 0)
    claim = plan(make_request(entered=now - 24 * H), now, quiet_hours=(20 * 60, 7 * 60), timezone=EDMONTON)
    assert claim.send is not None and claim.new_next_at == now + STAGE.remind_every


async def test_escalates_once_at_the_escalate_after_th_reminder_to_command_staff_by_default():
    stage = dataclasses.replace(STAGE, escalate_after=2)
    store = FakeReminderStore([make_request()])
    p = policy(stage)
    sent = []
    for hours in (24, 36, 48, 60):
        sent += await sweep(store, p, T0 + hours * H)
    assert [(r.nth, r.escalate, r.escalate_to) for r in sent] == [
        (1, False, ()),
        (2, True, ("U_CHIEF",)),
        (3, False, ()),
        (4, False, ()),
    ]
    assert store.requests[1].escalated_at == T0 + 36 * H


def test_escalates_to_the_stage_escalate_to_when_set():
    stage = dataclasses.replace(STAGE, escalate_after=1, escalate_to=("U_DEPUTY",))
    claim = plan(make_request(), T0 + 24 * H, stage)
    assert claim.send.escalate and claim.send.escalate_to == ("U_DEPUTY",)
    assert claim.new_escalated_at == T0 + 24 * H


def test_never_escalates_twice_even_if_escalate_after_was_lowered():
    stage = dataclasses.replace(STAGE, escalate_after=1)
    already = make_request(reminders_sent=5, escalated_at=T0)
    claim = plan(already, T0 + 24 * H, stage)
    assert not claim.send.escalate and claim.new_escalated_at == T0


async def test_no_escalation_when_escalate_after_is_none():
    store = FakeReminderStore([make_request()])
    p = policy()
    sent = []
    for day in range(1, 30):
        sent += await sweep(store, p, T0 + day * 24 * H)
    assert len(sent) == 29 and not any(r.escalate for r in sent)
    assert store.requests[1].escalated_at is None


def test_no_escalation_when_nobody_could_receive_it():
    stage = dataclasses.replace(STAGE, escalate_after=1)
    p = Policy(stages=(stage,), roles=Roles())
    claim = plan_review_reminder(make_request(), stage, p.roles, p.reminders, T0 + 24 * H)
    assert not claim.send.escalate and claim.new_escalated_at is None


async def test_two_concurrent_sweeps_send_each_reminder_once():
    requests = [make_request(i, entered=T0 + i * timedelta(minutes=1)) for i in range(1, 21)]
    directives = [DueDirective(7, T0, T0)]
    store = FakeReminderStore(requests, directives, barrier=asyncio.Barrier(2))
    p = policy()
    now = T0 + 48 * H
    a, b = await asyncio.gather(sweep(store, p, now), sweep(store, p, now))
    review_ids = sorted(r.request_id for r in a + b if isinstance(r, ReviewReminder))
    assert review_ids == list(range(1, 21))
    assert [r.directive_id for r in a + b if isinstance(r, DirectiveReminder)] == [7]
    assert all(r.reminders_sent == 1 for r in store.requests.values())


async def test_a_request_moved_on_after_planning_is_not_claimed():
    store = FakeReminderStore([make_request()])
    claim = plan(store.requests[1], T0 + 24 * H)
    store.requests[1].next_reminder_at = None  # a reviewer asked for info meanwhile
    won = await store.claim_request(1, claim.expected_next_at, claim.new_next_at, 1, None)
    assert not won and store.requests[1].reminders_sent == 0


async def test_preview_plans_without_claiming():
    store = FakeReminderStore([make_request()], [DueDirective(7, T0, T0)])
    claims = await preview(store, policy(), T0 + 24 * H)
    assert {(c.kind, c.item_id) for c in claims} == {("request", 1), ("directive", 7)}
    assert store.requests[1].next_reminder_at == T0 + 24 * H
    assert store.directives[7].reminders_sent == 0


async def test_requests_at_a_stage_missing_from_the_policy_are_skipped():
    store = FakeReminderStore([make_request(stage_key="gone")])
    assert await sweep(store, policy(), T0 + 48 * H) == []
    assert store.requests[1].reminders_sent == 0


# --- directive reminders --------------------------------------------------------------------


def test_directive_first_due_is_the_due_time_or_directive_after_issue():
    settings = ReminderSettings(directive_after=timedelta(hours=48))
    assert directive_first_due(T0, T0 + 5 * H, settings) == T0 + 5 * H
    assert directive_first_due(T0, None, settings) == T0 + 48 * H


async def test_directive_reminded_after_due_time_then_every_directive_every():
    every = timedelta(hours=6)
    due_at = T0 + 10 * H
    store = FakeReminderStore(directives=[DueDirective(7, due_at, due_at)])
    p = policy(directive_every=every)
    assert await sweep(store, p, due_at - timedelta(minutes=1)) == []
    assert await sweep(store, p, due_at) == [DirectiveReminder(7, 1, due_at)]
    assert await sweep(store, p, due_at + every - timedelta(minutes=1)) == []
    assert await sweep(store, p, due_at + every) == [DirectiveReminder(7, 2, due_at)]
    # Ten days down: one reminder, not forty.
    assert len(await sweep(store, p, due_at + timedelta(days=10))) == 1
    assert store.directives[7].reminders_sent == 3


async def test_with_nobody_to_remind_a_directive_is_looked_at_again_later_counting_nothing():
    # The caller found nobody left to DM for the reminder it claimed (everyone has acknowledged):
    # nothing was sent, but someone may join one of its channels, so it is due again later.
    store = FakeReminderStore(directives=[DueDirective(7, T0, T0)])
    p = policy()
    [reminder] = await sweep(store, p, T0)
    await nobody_to_remind(store, reminder, T0, p.reminders)
    assert store.directives[7].next_reminder_at == T0 + p.reminders.directive_every
    assert store.directives[7].reminders_sent == 0
    assert await sweep(store, p, T0 + p.reminders.directive_every) == [DirectiveReminder(7, 1, T0)]


async def test_directive_reminders_stop_once_it_is_gone():
    store = FakeReminderStore(directives=[DueDirective(7, T0, T0)])
    p = policy()
    [reminder] = await sweep(store, p, T0)
    await stop_directive_reminders(store, reminder, T0, p.reminders)
    assert store.directives[7].next_reminder_at is None
    assert await sweep(store, p, T0 + timedelta(days=30)) == []
    # Even a looser store returning it: sent before and unscheduled means stopped.
    assert plan_directive_reminder(7, T0, None, 1, T0 + timedelta(days=30), p.reminders) is None


def test_directive_not_yet_scheduled_falls_back_to_its_first_due_time():
    settings = ReminderSettings()
    assert plan_directive_reminder(7, T0, None, 0, T0 - H, settings) is None
    claim = plan_directive_reminder(7, T0, None, 0, T0, settings)
    assert claim.expected_next_at is None and claim.send == DirectiveReminder(7, 1, T0)


def test_directive_due_in_quiet_hours_is_deferred():
    now = edmonton(2025, 6, 2, 22, 0)
    claim = plan_directive_reminder(7, now - H, now - H, 0, now, NIGHT)
    assert claim.send is None and claim.new_next_at == edmonton(2025, 6, 3, 7, 0)
    assert claim.new_reminders_sent == 0


# --- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited", "text"),
    [
        (timedelta(seconds=20), "under 1 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3, minutes=59), "3 h"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=1, hours=1), "1 day 1 h"),
        (timedelta(days=2, hours=4, minutes=30), "2 days 4 h"),
        (timedelta(minutes=-5), "under 1 min"),
    ],
)
def test_format_waited(waited, text):
    assert format_waited(waited) == text
