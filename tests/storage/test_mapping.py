"""storage.mapping: every field of a request (and its children) survives the database, whoever saves
it; the mapping refuses a field or a column it cannot place; status marks keep their JSON form."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import SimpleNamespace

import pytest

from storage.mapping import TOOL, RowMap
from storage.tables import DecisionRow
from storage.uow import uow_factory
from tests.workflows.test_risk import CLEARVIEW, TRANSCRIPTION
from workflows.registry import StatusMark, Tool, ToolStatus
from workflows.requests import AnswerVersion, Decision, InfoExchange, Outcome, PriorUse, RequestStatus, ToolRequest
from workflows.risk import Tier
from workflows.risk_assessment import assess


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


def full_request(clock) -> ToolRequest:
    """A request with every field set, and children of every kind."""
    now, h = clock(), timedelta(hours=1)
    return ToolRequest(
        requester_id="U0OFF",
        tool_name="Otter",
        vendor="otter.ai",
        purpose="Transcribe recorded witness interviews.",
        case_number="2026-77",
        data_kinds=("personal", "case_evidence"),
        prior_use=PriorUse.SIGNED_UP,
        notes="a note",
        created_at=now,
        stage_key="privacy",
        stage_entered_at=now + 2 * h,
        status=RequestStatus.INFO_REQUESTED,
        updated_at=now + 3 * h,
        closed_at=None,
        decisions=[Decision("it_security", Outcome.APPROVED, "U0SEC", now + h, "fine")],
        exchanges=[
            InfoExchange("it_security", "U0SEC", now, "Which cases?", "Only one.", now + h),
            InfoExchange("privacy", "U0PRIV", now + 3 * h, "Retention?"),
        ],
        next_reminder_at=now + 24 * h,
        reminders_sent=2,
        escalated_at=now + 4 * h,
        answer_versions=[
            AnswerVersion(1, CLEARVIEW, "U0OFF", now),
            AnswerVersion(2, TRANSCRIPTION, "U0OFF", now + h, "answering IT security"),
        ],
        assessment=assess(TRANSCRIPTION),
        tier=Tier.HIGH,
        route=("it_security", "privacy"),
        extends="REQ-0001",
    )


async def test_every_field_and_child_survives_a_reload(uows, clock):
    request = full_request(clock)
    async with uows() as uow:
        await uow.requests.add(request)
        await uow.commit()
    async with uows() as uow:
        assert await uow.requests.get(request.stored_id) == request
        assert await uow.requests.for_requester("U0OFF") == [request]
        assert await uow.requests.get(request.stored_id + 1) is None


async def test_a_save_writes_what_the_database_lacks_whoever_loaded_the_request(uows, clock):
    request = full_request(clock)
    async with uows() as uow:
        await uow.requests.add(request)
        await uow.commit()
    async with uows() as uow:
        loaded = await uow.requests.get(request.stored_id)
    later = clock() + timedelta(hours=5)
    loaded.exchanges[1].answer, loaded.exchanges[1].answered_at = "A year.", later
    loaded.exchanges.append(InfoExchange("privacy", "U0PRIV", later, "And backups?"))
    loaded.decisions.append(Decision("privacy", Outcome.APPROVED, "U0PRIV", later))
    loaded.answer_versions.append(AnswerVersion(3, {**TRANSCRIPTION, "hosting": "foreign"}, "U0OFF", later))
    for _ in range(2):  # saved by units of work that never loaded it; the second has nothing new
        async with uows() as uow:
            await uow.requests.save(loaded)
            await uow.commit()
    async with uows() as uow:
        assert await uow.requests.get(request.stored_id) == loaded
    assert loaded.version == 2


async def test_an_answer_to_an_earlier_question_is_written_alone(uows, clock):
    request = full_request(clock)
    request.exchanges[0].answer = request.exchanges[0].answered_at = None
    async with uows() as uow:
        await uow.requests.add(request)
        await uow.commit()
    request.exchanges[0].answer, request.exchanges[0].answered_at = "Only one.", clock()
    async with uows() as uow:
        await uow.requests.save(request)
        await uow.commit()
    async with uows() as uow:
        stored = await uow.requests.get(request.stored_id)
    assert [(x.answer, x.answered_at) for x in stored.exchanges] == [("Only one.", clock()), (None, None)]


def test_a_field_without_a_column_or_a_column_without_a_field_is_refused():
    @dataclasses.dataclass
    class Extra:
        stage_key: str
        outcome: str
        decided_by: str
        decided_at: str
        note: str
        colour: str  # no such column

    with pytest.raises(TypeError, match="colour"):
        RowMap(Extra, DecisionRow, row_only=("id", "request_id"))

    @dataclasses.dataclass
    class Missing:
        stage_key: str

    with pytest.raises(TypeError, match="decided_by"):
        RowMap(Missing, DecisionRow, row_only=("id", "request_id"))


def test_status_marks_are_stored_as_the_json_objects_they_always_were(clock):
    mark = StatusMark(ToolStatus.APPROVED_WITH_CONDITIONS, "REQ-0042", "U0CHIEF", clock(), "on-premises only")
    tool = Tool("otter", "Otter", decision=mark, updated_at=clock(), id=3, version=4)
    values = TOOL.values(tool)
    assert values["decision"] == {
        "status": "approved_with_conditions",
        "source": "REQ-0042",
        "by": "U0CHIEF",
        "since": clock().isoformat(),
        "conditions": "on-premises only",
    }
    assert values["directive"] is None and values["override"] is None
    assert TOOL.build(SimpleNamespace(**values, id=3, version=4), {"aliases": frozenset()}) == tool
