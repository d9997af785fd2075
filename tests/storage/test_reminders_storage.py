"""SqlReminderStore on SQLite and PostgreSQL: what is due, the atomic claim, and concurrent sweepers."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import text

from storage.db import create_engine, session_factory
from storage.reminders import SqlReminderStore
from storage.uow import uow_factory
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft
from workflows.directives import issue_directive, revoke_directive
from workflows.policy import Policy, ReminderSettings, Roles, Stage
from workflows.reminders import Claim, DirectiveReminder, ReviewReminder, sweep
from workflows.requests import Outcome, PriorUse, RequestDraft
from workflows.review import ask_for_info, record_decision, withdraw_request
from workflows.submission import submit_request

H = timedelta(hours=1)
STAGES = (
    Stage("it_security", "IT security", "C0ITSEC", ("U0SEC1",), remind_after=24 * H, remind_every=12 * H),
    Stage("privacy", "Privacy", "C0PRIV", ("U0PRIV1",), remind_after=24 * H, remind_every=12 * H),
)
POLICY = Policy(stages=STAGES, roles=Roles(command_staff=("U0CHIEF",)))
DRAFT = RequestDraft(
    tool_name="Clearview AI",
    vendor="clearview.ai",
    purpose="Identify a suspect from CCTV stills",
    data_kinds=("photos",),
    prior_use=PriorUse.NONE,
)


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


async def submit(uows, clock, requester="U0OFFICER") -> int:
    async with uows() as uow:
        events = await submit_request(uow, POLICY, DRAFT, requester, clock())
        await uow.commit()
    return events[0].request.id


async def run_sweep(uows, now, policy=POLICY, settings=None):
    """One sweep in one transaction, as the scheduler runs it."""
    async with uows() as uow:
        won = await sweep(SqlReminderStore(uow.session, settings or policy.reminders), policy, now)
        await uow.commit()
    return won


async def stored(uows, request_id):
    async with uows() as uow:
        return await uow.requests.get(request_id)


# --- what is due ------------------------------------------------------------------------------


async def test_due_requests_are_the_open_ones_whose_time_has_come_earliest_first(uows, clock):
    first = await submit(uows, clock)
    clock.advance(H)
    second = await submit(uows, clock)
    clock.advance(H)
    withdrawn = await submit(uows, clock)
    async with uows() as uow:
        await withdraw_request(uow, withdrawn, "U0OFFICER", "", clock())
        await uow.commit()
    async with uows() as uow:
        store = SqlReminderStore(uow.session)
        assert await store.due_requests(clock() + 21 * H, 10) == []  # first is due at +22h
        due = await store.due_requests(clock() + 30 * H, 10)
        assert [r.id for r in due] == [first, second]
        assert [r.id for r in await store.due_requests(clock() + 30 * H, 1)] == [first]
        assert due[0].tool_name == "Clearview AI" and due[0].requester_id == "U0OFFICER"
        assert store.loaded[first].ref == due[0].ref
        peek = await store.peek(clock() + 30 * H, 10)
        assert [(i.kind, i.item_id, i.stage_key) for i in peek] == [
            ("request", first, "it_security"),
            ("request", second, "it_security"),
        ]


async def test_requests_at_skipped_stages_are_left_due(uows, clock):
    request_id = await submit(uows, clock)
    async with uows() as uow:
        skipping = SqlReminderStore(uow.session, skip_stages={"it_security"})
        assert await skipping.due_requests(clock() + 30 * H, 10) == []
        assert [r.id for r in await SqlReminderStore(uow.session).due_requests(clock() + 30 * H, 10)] == [request_id]


async def test_a_request_waiting_for_the_requesters_answer_is_not_due(uows, clock):
    request_id = await submit(uows, clock)
    async with uows() as uow:
        await ask_for_info(uow, POLICY, request_id, "it_security", "U0SEC1", "Which case?", {"U0SEC1"}, clock())
        await uow.commit()
    assert await run_sweep(uows, clock() + 30 * 24 * H) == []


async def test_the_due_query_uses_the_next_reminder_at_index(uows, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan is checked on SQLite; the benchmark shows PostgreSQL's (scripts/bench_sweep.py)")
    async with uows() as uow:
        plan = (
            await uow.session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM tool_requests WHERE next_reminder_at <= :now "
                    "ORDER BY next_reminder_at, id LIMIT 1000"
                ),
                {"now": "2026-11-02 15:00:00.000000"},
            )
        ).all()
    assert "ix_tool_requests_next_reminder_at" in " ".join(str(row) for row in plan)


# --- the claim --------------------------------------------------------------------------------


async def test_a_claim_wins_once_and_leaves_the_version_alone(uows, clock):
    request_id = await submit(uows, clock)
    due_at = clock() + 24 * H
    before = await stored(uows, request_id)
    async with uows() as uow:
        store = SqlReminderStore(uow.session)
        assert await store.claim_request(request_id, due_at, due_at + 12 * H, 1, None)
        assert not await store.claim_request(request_id, due_at, due_at + 12 * H, 1, None)  # already moved
        await uow.commit()
    after = await stored(uows, request_id)
    assert (after.next_reminder_at, after.reminders_sent, after.version) == (due_at + 12 * H, 1, before.version)
    # A reviewer who loaded the request before the claim can still decide: the claim did not bump the version.
    async with uows() as uow:
        await record_decision(
            uow, POLICY, request_id, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
        )
        await uow.commit()
    assert (await stored(uows, request_id)).stage_key == "privacy"


async def test_a_claim_expecting_null_matches_only_null(uows, clock):
    request_id = await submit(uows, clock)
    async with uows() as uow:
        store = SqlReminderStore(uow.session)
        assert not await store.claim_request(request_id, None, clock(), 1, None)
        assert await store.claim_request(request_id, clock() + 24 * H, None, 0, None)
        assert await store.claim_request(request_id, None, clock() + H, 0, None)
        await uow.commit()
    assert (await stored(uows, request_id)).next_reminder_at == clock() + H


async def test_claims_in_one_statement_are_won_or_lost_one_by_one(uows, clock):
    ids = [await submit(uows, clock) for _ in range(3)]
    due_at = clock() + 24 * H
    async with uows() as uow:
        store = SqlReminderStore(uow.session)
        assert len(await store.due_requests(clock() + 30 * H, 10)) == 3
        won = await store.claim_all(
            [
                Claim("request", ids[0], due_at, due_at + 12 * H, 1, None, None),  # as read: won
                Claim("request", ids[1], due_at - H, due_at + 12 * H, 1, None, None),  # stale: lost
                Claim("request", ids[2], due_at, None, 5, clock(), None),  # to NULL, escalated: won
            ]
        )
        assert won == [True, False, True]
        again = await store.claim_all([Claim("request", ids[2], None, due_at, 6, None, None)])  # NULL expected
        assert again == [True]
        await uow.commit()
    rows = [await stored(uows, i) for i in ids]
    assert [(r.next_reminder_at, r.reminders_sent) for r in rows] == [(due_at + 12 * H, 1), (due_at, 0), (due_at, 6)]
    assert rows[0].version == rows[1].version  # claims leave the version alone


async def test_a_request_decided_after_the_sweep_read_it_is_not_claimed(uows, clock):
    request_id = await submit(uows, clock)
    now = clock() + 30 * H
    async with uows() as uow:
        [due] = await SqlReminderStore(uow.session).due_requests(now, 10)
    clock.advance(H)
    async with uows() as uow:  # a reviewer decides meanwhile: the request moves on
        await record_decision(
            uow, POLICY, request_id, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
        )
        await uow.commit()
    async with uows() as uow:
        assert not await SqlReminderStore(uow.session).claim_request(request_id, due.next_reminder_at, now, 1, None)
        await uow.commit()
    moved = await stored(uows, request_id)
    assert moved.stage_key == "privacy" and moved.reminders_sent == 0


async def test_a_request_saved_since_it_was_read_is_not_claimed_even_with_the_same_due_time(uows, clock):
    """The next stage's first reminder can fall at the very instant the old stage's was due: the
    version (unchanged by claims, changed by every save) tells the two apart."""
    request_id = await submit(uows, clock)
    now = clock() + 30 * H
    async with uows() as uow:
        store = SqlReminderStore(uow.session)
        [due] = await store.due_requests(now, 10)
        await uow.commit()  # the read's transaction ends; the store is used again below
        async with uows() as other:  # same clock: privacy's next_reminder_at equals the old one
            await record_decision(
                other, POLICY, request_id, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
            )
            await other.commit()
        assert (await stored(uows, request_id)).next_reminder_at == due.next_reminder_at
        assert not await store.claim_request(request_id, due.next_reminder_at, now, 1, None)
        claim = Claim("request", request_id, due.next_reminder_at, now, 1, None, None)
        assert await store.claim_all([claim]) == [False]
        await uow.commit()
    assert (await stored(uows, request_id)).reminders_sent == 0


async def test_a_reviewer_deciding_during_a_sweep_waits_for_it_and_is_not_refused(database_url, clock):
    """PostgreSQL: the sweep locks the rows it will claim (FOR UPDATE SKIP LOCKED); a click on one of
    them waits for the sweep's commit, then saves: the claim left the version alone."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one write transaction at a time: the click simply comes before or after")
    engines = [create_engine(database_url), create_engine(database_url)]
    sweeping, reviewing = (uow_factory(session_factory(e), clock) for e in engines)
    try:
        request_id = await submit(sweeping, clock)

        async def decide():
            async with reviewing() as uow:
                await record_decision(
                    uow, POLICY, request_id, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
                )
                await uow.commit()

        async with sweeping() as uow:
            store = SqlReminderStore(uow.session)
            [due] = await store.due_requests(clock() + 30 * H, 10)
            click = asyncio.create_task(decide())
            await asyncio.sleep(0.3)
            assert not click.done()  # waiting for the sweep's lock
            assert await store.claim_all([Claim("request", request_id, due.next_reminder_at, clock(), 1, None, None)])
            await uow.commit()
        await asyncio.wait_for(click, 10)
        decided = await stored(sweeping, request_id)
        assert decided.stage_key == "privacy" and [d.by for d in decided.decisions] == ["U0SEC1"]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_second_sweeper_skips_rows_the_first_one_holds(database_url, clock):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one write transaction at a time: the second sweep waits instead")
    engines = [create_engine(database_url), create_engine(database_url)]
    first, second = (uow_factory(session_factory(e), clock) for e in engines)
    try:
        ids = [await submit(first, clock) for _ in range(5)]
        async with first() as a, second() as b:
            held = await SqlReminderStore(a.session).due_requests(clock() + 30 * H, 3)
            rest = await SqlReminderStore(b.session).due_requests(clock() + 30 * H, 10)
            assert [r.id for r in held] == ids[:3] and [r.id for r in rest] == ids[3:]
    finally:
        for engine in engines:
            await engine.dispose()


# --- sweeps on the real database ------------------------------------------------------------


async def test_sweep_reminds_once_per_interval_and_once_after_downtime(uows, clock):
    request_id = await submit(uows, clock)
    start = clock()
    assert await run_sweep(uows, start + 23 * H) == []
    [first] = await run_sweep(uows, start + 24 * H)
    assert isinstance(first, ReviewReminder) and (first.request_id, first.nth, first.waited) == (request_id, 1, 24 * H)
    assert await run_sweep(uows, start + 24 * H) == []
    assert await run_sweep(uows, start + 36 * H - timedelta(seconds=1)) == []
    assert [r.nth for r in await run_sweep(uows, start + 36 * H)] == [2]
    # Ten days down: one reminder, then the next one remind_every later.
    back = start + 36 * H + 10 * 24 * H
    assert [r.nth for r in await run_sweep(uows, back)] == [3]
    assert await run_sweep(uows, back + 11 * H) == []
    assert (await stored(uows, request_id)).next_reminder_at == back + 12 * H


async def test_escalation_is_recorded_once(uows, clock):
    stage = dataclasses.replace(STAGES[0], escalate_after=2)
    policy = dataclasses.replace(POLICY, stages=(stage, STAGES[1]))
    request_id = await submit(uows, clock)
    start = clock()
    sent = []
    for hours in (24, 36, 48):
        sent += await run_sweep(uows, start + hours * H, policy)
    assert [(r.nth, r.escalate, r.escalate_to) for r in sent] == [
        (1, False, ()),
        (2, True, ("U0CHIEF",)),
        (3, False, ()),
    ]
    request = await stored(uows, request_id)
    assert request.escalated_at == start + 36 * H
    async with uows() as uow:
        assert [r.id for r in await SqlReminderStore(uow.session).escalated()] == [request_id]
    async with uows() as uow:  # the next stage starts afresh
        await record_decision(
            uow, policy, request_id, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
        )
        await uow.commit()
    async with uows() as uow:
        assert await SqlReminderStore(uow.session).escalated() == []


async def test_quiet_hours_defer_to_their_end_then_one_reminder(uows, clock):
    # The clock starts at 15:00 UTC, 08:00 in Edmonton: due the next morning at 08:00, inside 20:00-09:00.
    settings = ReminderSettings(quiet_hours=(20 * 60, 9 * 60), timezone="America/Edmonton")
    policy = dataclasses.replace(POLICY, reminders=settings)
    request_id = await submit(uows, clock)
    due = clock() + 24 * H
    assert await run_sweep(uows, due, policy) == []
    assert (await stored(uows, request_id)).next_reminder_at == due + H  # 09:00 local
    assert await run_sweep(uows, due + 30 * timedelta(minutes=1), policy) == []
    assert [r.nth for r in await run_sweep(uows, due + H, policy)] == [1]


# --- two sweepers at once -----------------------------------------------------------------------


class _ReadTogether(SqlReminderStore):
    """Makes two sweepers both read what is due before either claims anything (PostgreSQL only:
    SQLite serialises whole write transactions, so there the second one waits before it reads).
    On PostgreSQL the second read skips the rows the first one locked; the claims' conditions
    are the guard behind that (see the tests above)."""

    def __init__(self, session, barrier):
        super().__init__(session)
        self._barrier = barrier

    async def due_requests(self, now, limit):
        due = await super().due_requests(now, limit)
        await self._barrier.wait()
        return due


async def test_two_sweepers_on_separate_connections_send_each_reminder_once(database_url, clock):
    postgres = not database_url.startswith("sqlite")
    engines = [create_engine(database_url), create_engine(database_url)]
    uows_a, uows_b = (uow_factory(session_factory(e), clock) for e in engines)
    try:
        ids = [await submit(uows_a, clock) for _ in range(40)]

        async def sweeper(uows, barrier):
            async with uows() as uow:
                store = _ReadTogether(uow.session, barrier) if barrier else SqlReminderStore(uow.session)
                won = await sweep(store, POLICY, clock() + 24 * H)
                await uow.commit()
            return [r.request_id for r in won]

        for round_ in range(3):
            barrier = asyncio.Barrier(2) if postgres else None
            a, b = await asyncio.gather(sweeper(uows_a, barrier), sweeper(uows_b, barrier))
            assert sorted(a + b) == ids, f"round {round_}: a={a} b={b}"
            clock.advance(12 * H)  # everything due again for the next round
        async with uows_a() as uow:
            counts = {r.reminders_sent for r in await uow.requests.at_stages(["it_security"])}
        assert counts == {3}
    finally:
        for engine in engines:
            await engine.dispose()


# --- directives -------------------------------------------------------------------------------


async def issue(uows, clock, **changes) -> int:
    draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop using it.", ("C0A",), True, None)
    async with uows() as uow:
        events = await issue_directive(
            uow, dataclasses.replace(draft, **changes), "U0CHIEF", True, clock(), reminders=POLICY.reminders
        )
        await uow.commit()
    return events[0].directive.id


async def test_directives_due_for_acknowledgement_reminders(uows, clock):
    settings = ReminderSettings(directive_after=6 * H, directive_every=24 * H)
    policy = dataclasses.replace(POLICY, reminders=settings)
    start = clock()
    async with uows() as uow:  # issued with the policy's directive_after
        draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop using it.", ("C0A",), True, None)
        events = await issue_directive(uow, draft, "U0CHIEF", True, start, reminders=settings)
        await uow.commit()
    reminded = events[0].directive.id
    no_ack = await issue(uows, clock, ack_required=False, tool="Other tool")
    due_soon = await issue(uows, clock, ack_due=start + H, tool="Third tool")
    async with uows() as uow:
        store = SqlReminderStore(uow.session, settings)
        assert [d.directive_id for d in await store.due_directives(start + 2 * H, 10)] == [due_soon]
        due = await store.due_directives(start + 7 * H, 10)
        assert [d.directive_id for d in due] == [due_soon, reminded]
        assert due[1].first_due_at == start + 6 * H and due[1].reminders_sent == 0
        assert no_ack not in [i.item_id for i in await store.peek(start + 100 * H, 10)]
        assert [i.channels for i in await store.peek(start + 7 * H, 10)] == [("C0A",), ("C0A",)]
    won = await run_sweep(uows, start + 7 * H, policy, settings)
    assert sorted(r.directive_id for r in won if isinstance(r, DirectiveReminder)) == sorted([due_soon, reminded])
    assert await run_sweep(uows, start + 8 * H, policy, settings) == []
    # Revoked: never due again.
    async with uows() as uow:
        await revoke_directive(uow, reminded, "U0CHIEF", True, clock())
        await uow.commit()
    later = await run_sweep(uows, start + 7 * H + 24 * H, policy, settings)
    assert [r.directive_id for r in later] == [due_soon]


async def test_a_directive_claim_can_stop_its_reminders(uows, clock):
    directive_id = await issue(uows, clock, ack_due=clock() + H)
    async with uows() as uow:
        store = SqlReminderStore(uow.session)
        assert await store.claim_directive(directive_id, clock() + H, None, 1)
        assert not await store.claim_directive(directive_id, clock() + H, None, 1)
        await uow.commit()
    async with uows() as uow:
        assert await SqlReminderStore(uow.session).due_directives(clock() + 1000 * H, 10) == []
