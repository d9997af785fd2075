"""Who is linked to a tool (/tool-usage's read model), on SQLite and PostgreSQL, through the domain's
services: requests under any of the tool's names, declared prior use, acknowledgements of its
directives; a vendor's name; the closest name; and the two statements it takes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from storage.uow import uow_factory
from workflows.attesting import attest_directive
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft, DirectiveIssued
from workflows.directives import acknowledge, issue_directive
from workflows.policy import Policy, Stage
from workflows.requests import PriorUse, RequestDraft
from workflows.submission import submit_request
from workflows.tool_services import record_tool_request
from workflows.usage import LinkKind, Match, tool_usage

POLICY = Policy(stages=(Stage("privacy", "Privacy", "C0PRIV", ("U0PRIV1",)),))
CHIEF = "U0CHIEF"


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


async def request(uows, clock, who: str, tool: str, vendor: str, prior: PriorUse) -> str:
    draft = RequestDraft(tool, vendor, "Identify a suspect from CCTV stills.", "", ("photos",), prior)
    async with uows() as uow:
        events = await submit_request(uow, POLICY, draft, who, clock())
        ref = events[0].request.ref
        await record_tool_request(uow, tool, ref, who, clock())
        await uow.commit()
    clock.advance(timedelta(hours=1))
    return ref


async def cease_use(uows, clock, tool: str, *acknowledging: str, kind=DirectiveKind.CEASE_USE) -> str:
    """A directive answered by `acknowledging`: a cease-use's with "never used", another kind's by one click."""
    draft = DirectiveDraft(kind, tool, "Stop using it.", ("C0ALL",), True, None)
    async with uows() as uow:
        events = await issue_directive(uow, draft, CHIEF, True, clock())
        directive = next(e for e in events if isinstance(e, DirectiveIssued)).directive
        await uow.commit()
    for who in acknowledging:
        clock.advance(timedelta(minutes=5))
        async with uows() as uow:
            if kind.asks_attestation:
                await attest_directive(uow, directive.stored_id, who, "never_used", "", "", clock(), in_audience=True)
            else:
                await acknowledge(uow, directive.stored_id, who, clock(), in_audience=True)
            await uow.commit()
    return directive.ref


@pytest.fixture
async def clearview(uows, clock):
    """Three officers and Clearview under two spellings, a tool from another vendor, a cease-use."""
    await request(uows, clock, "U0ANNA", "Clearview AI", "Clearview AI Inc. (clearview.ai)", PriorUse.USED)
    await request(uows, clock, "U0BEN", "clearview.ai", "clearview.ai", PriorUse.NONE)
    await request(uows, clock, "U0CARA", "GrayKey", "Grayshift", PriorUse.SIGNED_UP)
    await request(uows, clock, "U0DAN", "Clearview Consent", "Clearview AI Inc.", PriorUse.SIGNED_UP)
    return await cease_use(uows, clock, "Clearview", "U0ANNA", "U0EVE")


async def usage(uows, query: str):
    async with uows() as uow:
        return await tool_usage(uow, query)


async def test_everyone_linked_to_a_tool_under_any_of_its_names(uows, clearview):
    answer = await usage(uows, "CLEARVIEW")
    assert answer.match is Match.EXACT and [t.name for t in answer.tools] == ["Clearview AI", "Clearview Consent"]
    got = [(link.person, link.kind, link.source, link.detail) for link in answer.links]
    assert got == [  # newest first; Clearview Consent is from the vendor the query also names
        ("U0EVE", LinkKind.ATTESTED, clearview, "Cease use: I have never used it"),
        ("U0ANNA", LinkKind.ATTESTED, clearview, "Cease use: I have never used it"),
        ("U0DAN", LinkKind.REQUESTED, "REQ-0004", "open"),
        ("U0DAN", LinkKind.DECLARED_PRIOR_USE, "REQ-0004", "Signed up, not used for police work"),
        ("U0BEN", LinkKind.REQUESTED, "REQ-0002", "open"),
        ("U0ANNA", LinkKind.REQUESTED, "REQ-0001", "open"),
        ("U0ANNA", LinkKind.DECLARED_PRIOR_USE, "REQ-0001", "Already used for police work"),
    ]
    assert answer.people_count == 4 and all(link.at.tzinfo is not None for link in answer.links)
    assert answer.counts[LinkKind.REQUESTED] == 3 and answer.counts[LinkKind.ATTESTED] == 2
    assert {link.tool for link in answer.links} == {"Clearview AI", "clearview.ai", "Clearview", "Clearview Consent"}
    only = await usage(uows, "Clearview Consent")
    assert [t.name for t in only.tools] == ["Clearview Consent"] and only.people_count == 1


async def test_a_vendor_s_name_finds_every_tool_requested_from_it(uows, clearview):
    answer = await usage(uows, "Grayshift")
    assert answer.match is Match.VENDOR and [t.name for t in answer.tools] == ["GrayKey"]
    assert [(link.person, link.kind) for link in answer.links][-1] == ("U0CARA", LinkKind.DECLARED_PRIOR_USE)


async def test_a_typo_shows_the_closest_record_and_nothing_shows_suggestions(uows, clearview):
    closest = await usage(uows, "graykye")
    assert closest.match is Match.CLOSEST and closest.tools[0].name == "GrayKey"
    assert {link.person for link in closest.links} == {"U0CARA"}
    nothing = await usage(uows, "Palantir Gotham")
    assert nothing.match is Match.NONE and nothing.links == ()


async def test_the_links_are_two_indexed_statements_whatever_the_crowd(uows, clock, sessions, clearview):
    for n in range(30):
        await request(uows, clock, f"U0P{n:03d}", "Clearview AI", "clearview.ai", PriorUse.SIGNED_UP)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = await usage(uows, "Clearview AI")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert answer.people_count == 34  # with U0DAN: Clearview Consent is from the vendor Clearview AI too
    usage_reads = [s for s in statements if "tool_requests" in s]
    assert len(usage_reads) == 2, usage_reads  # the names, then one UNION ALL of every link


async def test_no_links_and_no_requests_answer_empty(uows, clock):
    await cease_use(uows, clock, "Stingray")
    answer = await usage(uows, "Stingray")
    assert answer.match is Match.EXACT and answer.links == () and answer.people_count == 0


def test_link_kinds_are_what_the_csv_s_link_column_says():
    assert [k.value for k in LinkKind] == [
        "requested",
        "declared prior use",
        "authorised",
        "licence owner",
        "attested",
        "acknowledged",
        "reported use",
    ]


async def test_a_message_gets_the_same_counts_from_a_summary_and_only_the_newest_links(uows, clock, clearview):
    for n in range(250):
        await request(uows, clock, f"U0P{n:03d}", "Clearview AI", "clearview.ai", PriorUse.USED)
    async with uows() as uow:
        full = await tool_usage(uow, "Clearview")
    async with uows() as uow:
        brief = await tool_usage(uow, "Clearview", everyone=False)
    assert (brief.people_count, brief.counts) == (full.people_count, full.counts) == (254, full.counts)
    assert full.counts[LinkKind.DECLARED_PRIOR_USE] == 252 and full.complete and not brief.complete
    assert 200 <= len(brief.links) < len(full.links)  # the newest 200 rows: a request and its declared use
    assert brief.links == full.links[: len(brief.links)]


async def test_acknowledgements_attestations_and_self_reports_with_their_answers(uows, clock):
    from datetime import date

    from tests.storage.test_risk_storage import POLICY
    from tests.workflows.test_risk import CLEARVIEW
    from workflows.attestations import report_use
    from workflows.attesting import attest_request, submit_self_report
    from workflows.handlers import handle

    restricted = await cease_use(uows, clock, "Clearview AI", "U0FAY", kind=DirectiveKind.RESTRICTED)
    ceased = await cease_use(uows, clock, "Clearview AI")
    clock.advance(timedelta(minutes=5))
    async with uows() as uow:
        await attest_directive(
            uow, 2, "U0CARA", "still_holding", "2026-9, 2026-10", "Stills in the case file", clock(), in_audience=True
        )
        await uow.commit()
    clock.advance(timedelta(minutes=5))
    report = report_use(
        "U0GUS", tool="Clearview AI", vendor="clearview.ai", since=date(2026, 10, 1), why="A robbery, urgently.",
        emergency=True, case_number="2026-7", kept_data=False, kept_what="", now=clock(),
    )  # fmt: skip
    async with uows() as uow:
        events = await handle(uow, POLICY, await submit_self_report(uow, POLICY, report, CLEARVIEW))
        await uow.commit()
    request_id = events[0].request.id
    clock.advance(timedelta(minutes=5))
    async with uows() as uow:
        await attest_request(uow, request_id, "U0GUS", "stopped_and_deleted", "", "", clock())
        await uow.commit()
    async with uows() as uow:
        answer = await tool_usage(uow, "Clearview AI")
        brief = await tool_usage(uow, "Clearview AI", everyone=False)
    got = [(link.person, link.kind, link.source, link.detail) for link in answer.links]
    ref = f"REQ-{request_id:04d}"
    assert got == [
        ("U0GUS", LinkKind.ATTESTED, ref, "I used it; I have stopped, deleted what I kept from it outside case files, "
         "and closed my account"),
        ("U0GUS", LinkKind.REQUESTED, ref, "rejected"),
        ("U0GUS", LinkKind.DECLARED_PRIOR_USE, ref, "Signed up, not used for police work"),  # "on trial"
        ("U0GUS", LinkKind.REPORTED_USE, ref, "used since 2026-10-01; emergency; case 2026-7; kept no data"),
        ("U0CARA", LinkKind.ATTESTED, ceased,
         "Cease use: I used it and still hold material from it (cases 2026-9, 2026-10: Stills in the case file)"),
        ("U0FAY", LinkKind.ACKNOWLEDGED, restricted, "Restricted"),
    ]  # fmt: skip
    assert brief.counts == answer.counts and answer.counts[LinkKind.ATTESTED] == 2
    assert answer.counts[LinkKind.REPORTED_USE] == 1 and answer.counts[LinkKind.ACKNOWLEDGED] == 1
