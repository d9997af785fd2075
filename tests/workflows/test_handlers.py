"""The domain's own reactions (workflows/handlers.py): whoever calls a service, the rules follow.

These run the services with in-memory fakes and no Slack: the registry follows a request's
outcome, a cease-use re-shows the cards of open requests, and an approval cannot be issued over
a cease-use, all decided in the domain.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft, RequestFlagged, ToolStatusChanged
from workflows.directives import issue_directive, revoke_directive, supersede_directive
from workflows.errors import InvalidInput
from workflows.handlers import RequestWarningsChanged, handle
from workflows.policy import Policy, Stage
from workflows.registry import ToolStatus
from workflows.requests import Outcome, PriorUse, RequestDraft
from workflows.review import record_decision, withdraw_request
from workflows.risk import Tier
from workflows.submission import submit_request
from workflows.tool_services import find_tool, override_for

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
POLICY = Policy(stages=(Stage("it_security", "IT security", "C0SEC", ("U0SEC",)),))
DRAFT = RequestDraft(
    "Clearview AI", "clearview.ai", "Identify a suspect from CCTV stills.", "", ("photos",), PriorUse.NONE
)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


async def submit(uow: FakeUnitOfWork, draft: RequestDraft = DRAFT) -> int:
    events = await handle(uow, POLICY, await submit_request(uow, POLICY, draft, "U0OFFICER", NOW))
    return events[0].request.id


def cease(tool: str = "Clearview", kind: DirectiveKind = DirectiveKind.CEASE_USE) -> DirectiveDraft:
    return DirectiveDraft(kind, tool, "Stop using it.", ("C0ALL",))


async def test_a_submitted_request_registers_its_tool_under_review(uow):
    await submit(uow)
    tool = await find_tool(uow, "clearview.ai")
    assert tool is not None and tool.status is ToolStatus.UNDER_REVIEW


@pytest.mark.parametrize(
    ("outcome", "note", "status"),
    [
        (Outcome.APPROVED, "", ToolStatus.APPROVED),
        (Outcome.APPROVED, "Only with a warrant.", ToolStatus.APPROVED_WITH_CONDITIONS),  # the note is its condition
        (Outcome.REJECTED, "Data leaves Canada.", ToolStatus.REJECTED),
    ],
)
async def test_a_decision_made_anywhere_updates_the_registry(uow, outcome, note, status):
    request_id = await submit(uow)
    events = await handle(
        uow,
        POLICY,
        await record_decision(uow, POLICY, request_id, "it_security", "U0SEC", outcome, note, {"U0SEC"}, NOW),
    )
    assert any(isinstance(e, ToolStatusChanged) and e.tool.status is status for e in events)
    tool = await find_tool(uow, "Clearview AI")
    assert tool.status is status
    if status is ToolStatus.APPROVED_WITH_CONDITIONS:
        assert tool.conditions == "IT security: Only with a warrant."


async def test_a_withdrawal_leaves_no_tool_under_review(uow):
    request_id = await submit(uow)
    await handle(uow, POLICY, await withdraw_request(uow, request_id, "U0OFFICER", "", NOW))
    assert (await find_tool(uow, "Clearview AI")).status is not ToolStatus.UNDER_REVIEW


async def test_a_request_under_a_cease_use_is_flagged_and_its_card_warned(uow):
    await handle(uow, POLICY, await issue_directive(uow, cease(), "U0CHIEF", True, NOW))
    request_id = await submit(uow)
    request = await uow.requests.get(request_id)
    tool = await override_for(uow, request)
    assert tool is not None and tool.override is not None and tool.override.source == "DIR-0001"
    flagged = await handle(uow, POLICY, await submit_request(uow, POLICY, DRAFT, "U0OTHER", NOW))
    assert any(isinstance(e, RequestFlagged) for e in flagged)


async def test_a_cease_use_beginning_or_ending_re_shows_open_requests(uow):
    request_id = await submit(uow)
    issued = await handle(uow, POLICY, await issue_directive(uow, cease(), "U0CHIEF", True, NOW))
    assert [e.request.id for e in issued if isinstance(e, RequestWarningsChanged)] == [request_id]
    revoked = await handle(uow, POLICY, await revoke_directive(uow, 1, "U0CHIEF", True, NOW, "done"))
    assert [e.request.id for e in revoked if isinstance(e, RequestWarningsChanged)] == [request_id]
    request = await uow.requests.get(request_id)
    assert await override_for(uow, request) is None


async def test_an_advisory_changes_no_card(uow):
    await submit(uow)
    events = await handle(
        uow, POLICY, await issue_directive(uow, cease(kind=DirectiveKind.ADVISORY), "U0CHIEF", True, NOW)
    )
    assert not [e for e in events if isinstance(e, RequestWarningsChanged)]


@pytest.mark.parametrize("kind", [DirectiveKind.APPROVED, DirectiveKind.RESTRICTED])
async def test_no_approval_over_a_cease_use_unless_it_replaces_it(uow, kind):
    await issue_directive(uow, cease(), "U0CHIEF", True, NOW)
    with pytest.raises(InvalidInput) as refused:
        await issue_directive(uow, cease("Clearview AI", kind), "U0CHIEF", True, NOW)
    assert "DIR-0001" in refused.value.errors["kind"] and "Supersede" in refused.value.errors["kind"]
    # Superseding the cease-use itself is how it is lifted.
    events = await supersede_directive(uow, 1, cease("Clearview AI", kind), "U0CHIEF", True, NOW)
    assert (await find_tool(uow, "Clearview")).override is None
    assert events


CLEARVIEW_TYPE = {
    "in_use": "trial",
    "data_kinds": ["biometric", "images_video"],
    "data_source": "scraped",
    "identifies_people": "one_to_many",
    "live_public": "no",
    "predicts_offending": "no",
    "infers_protected": "no",
    "lawful_authority": "to_confirm",
    "hosting": "foreign",
    "vendor_keeps_uploads": "yes",
    "human_review": "sometimes",
}


async def test_a_tool_prohibited_by_the_rules_is_prohibited_of_record_with_the_rule(uow):
    events = await handle(uow, POLICY, await submit_request(uow, POLICY, DRAFT, "U0OFFICER", NOW, CLEARVIEW_TYPE))
    assert any(isinstance(e, ToolStatusChanged) and e.tool.status is ToolStatus.PROHIBITED for e in events)
    tool = await find_tool(uow, "Clearview AI")
    assert tool.status is ToolStatus.PROHIBITED and tool.conditions.startswith("P1 — ")


async def test_a_tool_approved_by_the_rules_is_approved_of_record(uow):
    macro = {
        **CLEARVIEW_TYPE,
        "in_use": "no",
        "data_kinds": ["none"],
        "data_source": "ours",
        "identifies_people": "no",
        "lawful_authority": "confirmed",
        "hosting": "on_premises",
        "vendor_keeps_uploads": "no",
        "human_review": "always",
    }
    policy = Policy(stages=POLICY.stages, routes={**POLICY.routes, Tier.MINIMAL: ()})
    await handle(uow, policy, await submit_request(uow, policy, DRAFT, "U0OFFICER", NOW, macro))
    assert (await find_tool(uow, "Clearview AI")).status is ToolStatus.APPROVED
