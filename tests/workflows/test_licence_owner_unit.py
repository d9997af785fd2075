"""A licence's owner unit (issue 19), with in-memory fakes: cleaned like the form's other one-line
fields, on the grant's audit entry, and kept by a renewal unless the final approver says another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from workflows.commands import ApproveWithLicence, RecordDecision, RenewLicence, SubmitRequest, run
from workflows.licence_terms import LicenceTerms
from workflows.licences import OWNER_UNIT_LIMIT, Scope, ScopeKind, grant
from workflows.policy import Policy, Stage
from workflows.requests import Outcome, PriorUse, RequestDraft

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy(stages=(Stage("command", "Command", "C2", ("U0CHIEF",)),))
DRAFT = RequestDraft(
    "Clearview AI", "clearview.ai", "Identify a suspect.", data_kinds=("photos",), prior_use=PriorUse.NONE
)
CHIEF = frozenset({"U0CHIEF"})


def terms(owner_unit: str | None) -> LicenceTerms:
    return LicenceTerms((), Scope(ScopeKind.EVERYONE), None, True, False, "", owner_unit=owner_unit)


def granted(owner_unit: str) -> str:
    licence = grant(
        tool_key="x",
        request_ref="REQ-0001",
        owner="U0OFF",
        conditions=(),
        scope=Scope(ScopeKind.EVERYONE),
        now=NOW,
        owner_unit=owner_unit,
    )
    return licence.owner_unit


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Major Crimes", "Major Crimes"),
        ("  Forensic\nIdentification \r\n", "Forensic Identification"),  # one line, as the summary is
        ("   \n\t ", ""),  # nothing anyone could see: none said
        ("Major\u202e Crimes\x00", "Major Crimes"),  # bidi controls and NUL go, as everywhere
        ("", ""),
    ],
)
def test_the_owner_unit_is_one_clean_line(typed: str, stored: str) -> None:
    assert granted(typed) == stored


def test_a_long_owner_unit_is_cut_to_the_form_s_limit() -> None:
    assert granted("U" * 200) == "U" * OWNER_UNIT_LIMIT


async def licensed(owner_unit: str | None) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    [submitted, *_] = await run(uow, POLICY, SubmitRequest(DRAFT, "U0OFF", NOW))
    await run(
        uow, POLICY, ApproveWithLicence(submitted.request.id, "command", "U0CHIEF", terms(owner_unit), CHIEF, NOW)
    )
    return uow


async def renewal(uow: FakeUnitOfWork, at: datetime) -> int:
    events = await run(uow, POLICY, RenewLicence("clearview", "U0OFF", (), "", False, at))
    [request] = [e.request for e in events if type(e).__name__ == "RequestSubmitted"]
    return request.id


async def test_the_grant_s_audit_entry_names_the_owner_unit() -> None:
    uow = await licensed("Major Crimes")
    [entry] = [e for e in await uow.audit.for_subject("REQ-0001") if e.action == "licence:granted"]
    assert "owner unit: Major Crimes" in entry.reason
    bare = await licensed("")
    [entry] = [e for e in await bare.audit.for_subject("REQ-0001") if e.action == "licence:granted"]
    assert "owner unit" not in entry.reason


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        (None, "Major Crimes"),  # the form did not ask (opened before the field): the renewed licence's
        ("Forensic Identification", "Forensic Identification"),  # the final approver named another
        ("", ""),  # the final approver cleared it
    ],
)
async def test_a_renewal_keeps_the_owner_unit_unless_the_approver_says_another(said, kept) -> None:
    uow = await licensed("Major Crimes")
    at = NOW + timedelta(days=30)
    renewal_id = await renewal(uow, at)
    await run(uow, POLICY, ApproveWithLicence(renewal_id, "command", "U0CHIEF", terms(said), CHIEF, at))
    current = await uow.licences.current_for_tool("clearview")
    assert current.request_ref == "REQ-0002" and current.owner_unit == kept


async def test_a_renewal_approved_without_the_form_keeps_the_owner_unit() -> None:
    """One click at the last stage (an older path): the licence made for it keeps the renewed unit."""
    uow = await licensed("Major Crimes")
    at = NOW + timedelta(days=30)
    renewal_id = await renewal(uow, at)
    await run(uow, POLICY, RecordDecision(renewal_id, "command", "U0CHIEF", Outcome.APPROVED, "", CHIEF, at))
    current = await uow.licences.current_for_tool("clearview")
    assert current.request_ref == "REQ-0002" and "without the licence form" in current.note
    assert current.owner_unit == "Major Crimes"
