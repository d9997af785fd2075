"""The request repository and unit of work, on SQLite and PostgreSQL, through the domain services."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event

from storage.db import create_engine, session_factory
from storage.uow import uow_factory
from workflows.errors import ConcurrencyConflict
from workflows.policy import Policy, Stage
from workflows.requests import Outcome, PriorUse, RequestDraft, RequestStatus, StageAlreadyDecided
from workflows.review import answer_info, ask_for_info, record_decision
from workflows.submission import submit_request

POLICY = Policy(
    stages=(
        Stage("it_security", "IT security", "C0ITSEC", ("U0SEC1",)),
        Stage("privacy", "Privacy", "C0PRIV", ("U0PRIV1",)),
    )
)
DRAFT = RequestDraft(
    tool_name="Clearview AI",
    vendor="clearview.ai",
    purpose="Identify a suspect from CCTV stills " + "x" * 2900,  # near the modal maximum
    case_number="2026-1234",
    data_kinds=("photos", "biometrics"),
    prior_use=PriorUse.USED,
    notes="",
)


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


async def submit(uows, clock) -> int:
    async with uows() as uow:
        events = await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
        await uow.commit()
    return events[0].request.id


async def test_round_trip_keeps_long_text_whole_and_times_aware(uows, clock):
    request_id = await submit(uows, clock)
    async with uows() as uow:
        stored = await uow.requests.get(request_id)
    assert stored.purpose == DRAFT.purpose  # near 3,000 characters, not trimmed
    assert stored.data_kinds == ("photos", "biometrics")
    assert stored.created_at == clock() and stored.created_at.tzinfo is not None
    assert stored.next_reminder_at == clock() + timedelta(hours=24)
    assert stored.ref == f"REQ-{request_id:04d}"


async def test_uncommitted_work_is_rolled_back(uows, clock):
    async with uows() as uow:
        await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
    async with uows() as uow:
        assert await uow.requests.for_requester("U0OFFICER") == []


async def test_decisions_and_exchanges_survive_reload(uows, clock):
    request_id = await submit(uows, clock)
    async with uows() as uow:
        await ask_for_info(uow, POLICY, request_id, "it_security", "U0SEC1", "Which cases?", {"U0SEC1"}, clock())
        await uow.commit()
    async with uows() as uow:
        await answer_info(uow, POLICY, request_id, "U0OFFICER", "Only 2026-1234.", clock())
        await uow.commit()
    async with uows() as uow:
        await record_decision(
            uow, POLICY, request_id, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
        )
        await uow.commit()
    async with uows() as uow:
        stored = await uow.requests.get(request_id)
        trail = await uow.audit.for_subject(stored.ref)
    assert stored.stage_key == "privacy" and stored.status is RequestStatus.PENDING
    assert [(x.question, x.answer) for x in stored.exchanges] == [("Which cases?", "Only 2026-1234.")]
    assert [(d.stage_key, d.outcome, d.by) for d in stored.decisions] == [("it_security", Outcome.APPROVED, "U0SEC1")]
    assert [e.action for e in trail] == [
        "submitted",
        "info_requested:it_security",
        "info_provided",
        "approved:it_security",
    ]
    assert trail[-1].from_state == "pending:it_security" and trail[-1].to_state == "pending:privacy"


async def test_saving_a_stale_copy_is_refused(uows, clock):
    request_id = await submit(uows, clock)
    async with uows() as uow:
        stale = await uow.requests.get(request_id)
    async with uows() as uow:
        fresh = await uow.requests.get(request_id)
        fresh.notes = "first"
        await uow.requests.save(fresh)
        await uow.commit()
    async with uows() as uow:
        stale.notes = "second"
        with pytest.raises(ConcurrencyConflict):
            await uow.requests.save(stale)
    async with uows() as uow:
        assert (await uow.requests.get(request_id)).notes == "first"


async def test_two_reviewers_at_once_make_one_decision(database_url, clock):
    """Two processes' worth of connections click Approve at the same moment: one wins."""
    engine_a, engine_b = create_engine(database_url), create_engine(database_url)
    uows_a = uow_factory(session_factory(engine_a), clock)
    uows_b = uow_factory(session_factory(engine_b), clock)
    policy = Policy(stages=(Stage("it_security", "IT security", "C0", ("U1", "U2")), POLICY.stages[1]))
    try:
        request_id = await submit(uows_a, clock)

        async def click(uows, who):
            for _ in range(3):  # what the bot does: on a conflict, reload and try again
                try:
                    async with uows() as uow:
                        await record_decision(
                            uow,
                            policy,
                            request_id,
                            "it_security",
                            who,
                            Outcome.APPROVED,
                            "",
                            {"U1", "U2"},
                            clock(),
                        )
                        await uow.commit()
                        return "decided"
                except ConcurrencyConflict:
                    continue
                except StageAlreadyDecided:
                    return "already"
            return "gave up"

        for _ in range(5):  # several rounds to give the race a chance to show
            results = await asyncio.gather(click(uows_a, "U1"), click(uows_b, "U2"))
            assert sorted(results) == ["already", "decided"]
            async with uows_a() as uow:
                stored = await uow.requests.get(request_id)
            assert len(stored.decisions) == 1
            # Put the request back one stage for the next round (a new request is simpler).
            request_id = await submit(uows_a, clock)
    finally:
        await engine_a.dispose()
        await engine_b.dispose()


async def test_handled_events_are_recorded_once(uows):
    async with uows() as uow:
        assert await uow.first_delivery("Ev001") is True
        assert await uow.first_delivery("Ev001") is False
        await uow.commit()
    async with uows() as uow:
        assert await uow.first_delivery("Ev001") is False


async def test_decisions_of_one_batch_are_one_insert_and_a_second_click_sees_the_first(group, uows, clock, engine):
    """In a group-commit batch the decisions wait for its end (storage/later.py); a double click in
    the same batch still reads the first click's decision and is refused with it."""

    async def click(request_id: int, who: str, stage: str = "it_security") -> str:
        async def approve(uow):
            reviewers = {"U0SEC1", "U0SEC2", "U0PRIV1"}
            await record_decision(uow, POLICY, request_id, stage, who, Outcome.APPROVED, "", reviewers, clock())

        try:
            await group.run(approve)
            return who
        except StageAlreadyDecided as refused:
            return f"already by {refused.decision.by}"

    async def decided(requests: list[int]) -> None:
        async with uows() as uow:
            for request_id in requests:
                stored = await uow.requests.get(request_id)
                assert [(d.stage_key, d.by) for d in stored.decisions] == [("it_security", "U0SEC1")]
                assert stored.stage_key == "privacy"

    once = [await submit(uows, clock) for _ in range(8)]
    inserts: list[str] = []
    listen = lambda _c, _cur, statement, *_: inserts.append(statement)  # noqa: E731
    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        assert await asyncio.gather(*(click(r, "U0SEC1") for r in once)) == ["U0SEC1"] * len(once)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)
    assert len([s for s in inserts if s.startswith("INSERT INTO decisions")]) <= group.batches < len(once)
    await decided(once)

    twice = [await submit(uows, clock) for _ in range(8)]
    results = await asyncio.gather(*(click(r, who) for r in twice for who in ("U0SEC1", "U0SEC2")))
    assert results == ["U0SEC1", "already by U0SEC1"] * len(twice)
    await decided(twice)

    # The next stage decided in the same batch counts the first stage's decision, not yet written.
    onward = [await submit(uows, clock) for _ in range(8)]
    await asyncio.gather(*(c for r in onward for c in (click(r, "U0SEC1"), click(r, "U0PRIV1", "privacy"))))
    async with uows() as uow:
        for request_id in onward:
            stored = await uow.requests.get(request_id)
            assert stored.status is RequestStatus.APPROVED
            assert [d.stage_key for d in stored.decisions] == ["it_security", "privacy"]
