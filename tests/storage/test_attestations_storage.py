"""Attestations and self-reports in the database (SQLite and PostgreSQL): one answer per person per
directive whatever the double submits, the answers a count reads, and a self-report that survives
a reload with the request it made."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from storage.uow import uow_factory
from tests.storage.test_risk_storage import POLICY
from tests.workflows.test_risk import CLEARVIEW, TRANSCRIPTION
from workflows.attestations import AttestationAnswer, report_use
from workflows.attesting import Attested, attest_directive, attest_request, submit_self_report
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft, DirectiveIssued
from workflows.directives import issue_directive
from workflows.errors import InvalidInput
from workflows.events import RequestRefused
from workflows.handlers import handle

CMD = "U0CHIEF"


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


async def run(uows, service, *args, **kwargs):
    async with uows() as uow:
        events = await service(uow, *args, **kwargs)
        await uow.commit()
    return events


async def cease_use(uows, clock) -> int:
    draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop.", ("C0A",), True, None)
    events = await run(uows, issue_directive, draft, CMD, True, clock())
    return next(e for e in events if isinstance(e, DirectiveIssued)).directive.id


async def test_one_attestation_per_person_and_the_answers_a_count_reads(uows, clock):
    directive = await cease_use(uows, clock)
    [first] = await run(
        uows, attest_directive, directive, "U0CARA", "still_holding", "2026-9; 2026-10", "Stills", clock(),
        in_audience=True, notify=("C0PRIV",),
    )  # fmt: skip
    assert isinstance(first, Attested) and not first.already and first.notify == ("C0PRIV",)
    clock.advance(timedelta(minutes=5))
    [again] = await run(
        uows, attest_directive, directive, "U0CARA", "never_used", "", "", clock(), in_audience=True, notify=("C0PRIV",)
    )
    assert again.already and again.attestation.answer is AttestationAnswer.STILL_HOLDING and not again.notify
    assert again.attestation.case_numbers == ("2026-9", "2026-10") and again.attestation.held == "Stills"
    await run(uows, attest_directive, directive, "U0ANNA", "never_used", "", "", clock(), in_audience=True)
    async with uows() as uow:
        assert await uow.attestations.answers(directive) == {
            "U0CARA": AttestationAnswer.STILL_HOLDING,
            "U0ANNA": AttestationAnswer.NEVER_USED,
        }
        assert await uow.acks.users(directive) == {"U0CARA", "U0ANNA"}  # reminders stop chasing them
        trail = [(e.action, e.actor, e.to_state) for e in await uow.audit.for_subject(f"DIR-{directive:04d}")]
    assert trail[1:] == [
        ("directive:attested", "U0CARA", "still_holding"),
        ("directive:attested", "U0ANNA", "never_used"),
    ]


async def test_still_holding_without_a_case_number_stores_nothing(uows, clock):
    directive = await cease_use(uows, clock)
    with pytest.raises(InvalidInput) as refused:
        await run(uows, attest_directive, directive, "U0CARA", "still_holding", "", "Stills", clock(), in_audience=True)
    assert set(refused.value.errors) == {"case_numbers"}
    async with uows() as uow:
        assert await uow.attestations.answers(directive) == {}


async def test_a_self_report_survives_a_reload_and_a_prohibited_one_takes_a_deletion_attestation(uows, clock):
    report = report_use(
        "U0OFF", tool="Clearview AI", vendor="Clearview AI Inc.", since=date(2026, 10, 1),
        why="Tried it to identify a suspect in a robbery.", emergency=True, case_number="2026-77",
        kept_data=True, kept_what="Three result pages", now=clock(), link="https://x.slack.com/archives/C1/p1",
    )  # fmt: skip
    async with uows() as uow:
        events = await handle(uow, POLICY, await submit_self_report(uow, POLICY, report, CLEARVIEW))
        await uow.commit()
    refused = next(e for e in events if isinstance(e, RequestRefused))
    assert any(type(e).__name__ == "DeletionAsked" for e in events)
    async with uows() as uow:
        stored = await uow.requests.get(refused.request.id)
    assert stored.self_report == report and stored.used_before_approval
    [answered] = await run(uows, attest_request, stored.id, "U0OFF", "stopped_and_deleted", "", "", clock())
    assert answered.attestation.request_id == stored.id and answered.attestation.directive_id is None
    [again] = await run(uows, attest_request, stored.id, "U0OFF", "never_used", "", "", clock())
    assert again.already and again.attestation.answer is AttestationAnswer.STOPPED_AND_DELETED


async def test_an_emergency_report_is_due_within_the_emergency_time(uows, clock):
    report = report_use(
        "U0OFF", tool="Otter", vendor="otter.ai", since=date(2026, 11, 1), why="Transcribed an urgent interview.",
        emergency=True, case_number="2026-5", kept_data=False, kept_what="", now=clock(),
    )  # fmt: skip
    policy = dataclasses.replace(
        POLICY, licences=dataclasses.replace(POLICY.licences, emergency_due=timedelta(hours=2))
    )
    [submitted, *_] = await run(uows, submit_self_report, policy, report, TRANSCRIPTION)
    async with uows() as uow:
        stored = await uow.requests.get(submitted.request.id)
    assert stored.next_reminder_at == clock() + timedelta(hours=2)
    assert stored.self_report.emergency and stored.status.is_open
