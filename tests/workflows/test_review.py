"""The request workflow as pure domain: the status table, and each service's rules and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.workflows.test_risk import CLEARVIEW, QUIET
from workflows import events as ev
from workflows.errors import InvalidInput, NoOpenQuestion, NotAReviewer, NotRequester, OwnRequest
from workflows.policy import Policy, Stage, parse_duration
from workflows.requests import (
    TRANSITIONS,
    Action,
    IllegalTransition,
    Outcome,
    PriorUse,
    RequestClosed,
    RequestDraft,
    RequestStatus,
    StageAlreadyDecided,
    next_status,
    parse_reference,
    reference,
)
from workflows.review import answer_info, ask_for_info, question_for, record_decision, withdraw_request
from workflows.submission import submit_request, summary_fields

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
POLICY = Policy(
    stages=(
        Stage("it_security", "IT security", "C1", ("U0SEC",), remind_after=timedelta(hours=24)),
        Stage("privacy", "Privacy", "C2", ("U0PRIV",), remind_after=timedelta(hours=12)),
    )
)
DRAFT = RequestDraft(
    tool_name="  Clearview   AI ",
    vendor="clearview.ai",
    purpose="Identify a suspect from CCTV stills.",
    data_kinds=("photos", "biometrics"),
    prior_use=PriorUse.USED,
)
SEC, PRIV = {"U0SEC"}, {"U0PRIV"}


async def submitted(uow=None):
    uow = uow or FakeUnitOfWork()
    [event] = await submit_request(uow, POLICY, DRAFT, "U0OFF", NOW)
    return uow, event.request.id


S = RequestStatus


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (S.PENDING, Action.APPROVE, S.PENDING),
        (S.PENDING, Action.APPROVE_LAST, S.APPROVED),
        (S.PENDING, Action.REJECT, S.REJECTED),
        (S.PENDING, Action.ASK_INFO, S.INFO_REQUESTED),
        (S.INFO_REQUESTED, Action.ANSWER, S.PENDING),
        (S.INFO_REQUESTED, Action.REJECT, S.REJECTED),
        (S.INFO_REQUESTED, Action.WITHDRAW, S.WITHDRAWN),
    ],
)
def test_allowed_moves(status, action, expected):
    assert next_status(status, action) is expected


@pytest.mark.parametrize("status", [S.APPROVED, S.REJECTED, S.WITHDRAWN])
@pytest.mark.parametrize("action", list(Action))
def test_closed_requests_never_move(status, action):
    with pytest.raises(IllegalTransition):
        next_status(status, action)


def test_answer_only_when_a_question_is_open():
    assert (S.PENDING, Action.ANSWER) not in TRANSITIONS


async def test_submit_cleans_the_draft_and_enters_the_first_stage():
    uow = FakeUnitOfWork()
    [event] = await submit_request(uow, POLICY, DRAFT, "U0OFF", NOW)
    assert isinstance(event, ev.RequestSubmitted)
    request = event.request
    assert request.tool_name == "Clearview AI"
    assert request.stage_key == "it_security" and request.status is S.PENDING
    assert request.next_reminder_at == NOW + timedelta(hours=24)
    assert request.ref == "REQ-0001"
    assert [e.action for e in uow.audit.entries] == ["submitted"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tool_name": " "}, "tool_name"),
        ({"vendor": ""}, "vendor"),
        ({"purpose": "short"}, "purpose"),
        ({"data_kinds": ()}, "data_kinds"),
        ({"data_kinds": ("none", "photos")}, "data_kinds"),
        ({"data_kinds": ("weapons",)}, "data_kinds"),
        ({"prior_use": None}, "prior_use"),
        ({"purpose": "x" * 3001}, "purpose"),
    ],
)
async def test_bad_input_names_the_field(changes, field):
    draft = RequestDraft(**{**DRAFT.__dict__, **changes})
    with pytest.raises(InvalidInput) as raised:
        await submit_request(FakeUnitOfWork(), POLICY, draft, "U0OFF", NOW)
    assert field in raised.value.errors


async def test_approvals_move_through_the_stages_then_close():
    uow, rid = await submitted()
    [moved] = await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.APPROVED, "", SEC, NOW)
    assert isinstance(moved, ev.StageApproved) and moved.next_stage_key == "privacy"
    assert moved.request.next_reminder_at == NOW + timedelta(hours=12)
    [done] = await record_decision(uow, POLICY, rid, "privacy", "U0PRIV", Outcome.APPROVED, "ok", PRIV, NOW)
    assert isinstance(done, ev.RequestApproved)
    assert done.request.status is S.APPROVED and done.request.next_reminder_at is None
    assert [d.stage_key for d in done.request.decisions] == ["it_security", "privacy"]


async def test_a_one_click_approval_at_the_last_stage_decides_nothing_and_asks_for_the_licence():
    uow, rid = await submitted()
    args = (uow, POLICY, rid)
    [moved] = await record_decision(*args, "it_security", "U0SEC", Outcome.APPROVED, "", SEC, NOW, asks_licence=True)
    assert isinstance(moved, ev.StageApproved)  # short of the last stage, the click decides as before
    version = (await uow.requests.get(rid)).version
    [asked] = await record_decision(*args, "privacy", "U0PRIV", Outcome.APPROVED, "", PRIV, NOW, asks_licence=True)
    assert asked == ev.LicenceAsked(rid, "privacy")
    stored = await uow.requests.get(rid)
    assert stored.status is S.PENDING and stored.version == version and len(stored.decisions) == 1
    with pytest.raises(NotAReviewer):  # who may decide is checked first, as for any decision
        await record_decision(*args, "privacy", "U0SEC", Outcome.APPROVED, "", PRIV, NOW, asks_licence=True)


async def test_rejection_needs_a_reason_and_closes():
    uow, rid = await submitted()
    with pytest.raises(InvalidInput):
        await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.REJECTED, " ", SEC, NOW)
    [event] = await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.REJECTED, "No", SEC, NOW)
    assert isinstance(event, ev.RequestRejected) and event.decision.note == "No"
    with pytest.raises(RequestClosed):
        await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.APPROVED, "", SEC, NOW)


async def test_only_reviewers_of_the_stage_decide_and_never_on_their_own_request():
    uow, rid = await submitted()
    with pytest.raises(NotAReviewer):
        await record_decision(uow, POLICY, rid, "it_security", "U0PRIV", Outcome.APPROVED, "", SEC, NOW)
    with pytest.raises(OwnRequest):
        await record_decision(uow, POLICY, rid, "it_security", "U0OFF", Outcome.APPROVED, "", SEC | {"U0OFF"}, NOW)
    assert (await uow.requests.get(rid)).decisions == []


async def test_a_second_click_on_a_decided_stage_is_refused_with_the_first_decision():
    uow, rid = await submitted()
    await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.APPROVED, "", SEC, NOW)
    with pytest.raises(StageAlreadyDecided) as raised:
        await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.APPROVED, "", SEC, NOW)
    assert raised.value.decision.by == "U0SEC"
    assert raised.value.ref == reference(rid)  # the refusal names the request, for whoever explains it
    assert len((await uow.requests.get(rid)).decisions) == 1


async def test_question_and_answer_return_to_the_same_stage():
    uow, rid = await submitted()
    [asked] = await ask_for_info(uow, POLICY, rid, "it_security", "U0SEC", "Which cases?", SEC, NOW)
    assert asked.request.status is S.INFO_REQUESTED and asked.request.next_reminder_at is None
    with pytest.raises(NotRequester):
        await answer_info(uow, POLICY, rid, "U0SEC", "me?", NOW)
    later = NOW + timedelta(hours=3)
    [answered] = await answer_info(uow, POLICY, rid, "U0OFF", "Only 2026-1.", later)
    assert answered.request.status is S.PENDING and answered.request.stage_key == "it_security"
    assert answered.request.next_reminder_at == later + timedelta(hours=24)
    with pytest.raises(NoOpenQuestion):
        await answer_info(uow, POLICY, rid, "U0OFF", "again", later)


async def test_the_answer_form_opens_only_for_the_requester_of_an_open_question():
    uow, rid = await submitted()
    with pytest.raises(NoOpenQuestion) as raised:  # nothing asked yet
        await question_for(uow, rid, "U0OFF")
    assert raised.value.ref == reference(rid)
    await ask_for_info(uow, POLICY, rid, "it_security", "U0SEC", "Which cases?", SEC, NOW)
    trail = list(uow.audit.entries)
    request, question = await question_for(uow, rid, "U0OFF")
    assert request.id == rid and question.question == "Which cases?" and question.asked_by == "U0SEC"
    with pytest.raises(NotRequester) as raised:
        await question_for(uow, rid, "U0SEC")
    assert raised.value.ref == reference(rid)
    with pytest.raises(NotRequester) as raised:  # no such request: refused the same way, naming it
        await question_for(uow, 99, "U0OFF")
    assert raised.value.ref == "REQ-0099"
    assert uow.audit.entries == trail and (await uow.requests.get(rid)).status is S.INFO_REQUESTED  # a look only
    await answer_info(uow, POLICY, rid, "U0OFF", "Only 2026-1.", NOW)
    with pytest.raises(NoOpenQuestion):
        await question_for(uow, rid, "U0OFF")


async def test_a_question_left_open_when_the_stage_is_decided_can_no_longer_be_answered():
    uow, rid = await submitted()
    await ask_for_info(uow, POLICY, rid, "it_security", "U0SEC", "Which cases?", SEC, NOW)
    await record_decision(uow, POLICY, rid, "it_security", "U0SEC", Outcome.APPROVED, "", SEC, NOW)
    with pytest.raises(NoOpenQuestion):
        await question_for(uow, rid, "U0OFF")
    await withdraw_request(uow, rid, "U0OFF", "", NOW)
    with pytest.raises(NoOpenQuestion):  # closed: nothing is waiting for an answer
        await question_for(uow, rid, "U0OFF")


def test_the_summary_fields_come_from_the_intake_answers():
    kinds, prior = summary_fields(CLEARVIEW)
    assert kinds == ("biometrics", "photos", "personal") and prior is PriorUse.SIGNED_UP  # personal once
    assert summary_fields(QUIET) == (("none",), PriorUse.NONE)
    assert summary_fields({"data_kinds": "location", "in_use": "yes"}) == (("location",), PriorUse.USED)
    assert summary_fields({"data_kinds": ("moon",), "in_use": "maybe"}) == ((), None)  # the answers' check names them
    assert summary_fields({}) == ((), None)


async def test_withdraw_is_for_the_requester_of_an_open_request():
    uow, rid = await submitted()
    with pytest.raises(NotRequester):
        await withdraw_request(uow, rid, "U0SEC", "", NOW)
    [event] = await withdraw_request(uow, rid, "U0OFF", "", NOW)
    assert event.stage_key == "it_security" and event.request.status is S.WITHDRAWN
    with pytest.raises(RequestClosed):
        await withdraw_request(uow, rid, "U0OFF", "", NOW)


@pytest.mark.parametrize(("text", "expected"), [("REQ-0042", 42), ("req-42", 42), ("42", 42), ("REQ-x", None)])
def test_references(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("24h", 86400), ("2d", 172800)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "10", "1w", "0h", "-1h", None, "367d", "1000000000d", "99999999999999999999s"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)
