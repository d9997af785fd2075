from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import (
    Acknowledged,
    Acknowledgement,
    DirectiveDraft,
    DirectiveIssued,
    DirectiveNotActive,
    DirectiveRevoked,
    DirectiveStatus,
    DirectiveSuperseded,
    NotInAudience,
    PostOutcome,
    PostsRetried,
    RequestFlagged,
    ToolStatusChanged,
    directive_reference,
    parse_directive_reference,
)
from workflows.directives import (
    acknowledge,
    issue_directive,
    owed_in_channel,
    retry_failed_posts,
    revoke_directive,
    supersede_directive,
)
from workflows.errors import InvalidInput, NotCommandStaff, NotFound
from workflows.policy import Policy, ReminderSettings, Stage
from workflows.registry import ToolStatus
from workflows.requests import PriorUse, RequestDraft
from workflows.review import withdraw_request
from workflows.submission import submit_request
from workflows.tool_services import record_request_outcome, record_tool_request, tool_status, tool_status_with_requests

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CMD = "UCMD"


def draft(kind=DirectiveKind.CEASE_USE, tool="Clearview AI", **changes) -> DirectiveDraft:
    base = DirectiveDraft(kind, tool, "Stop using it now.", ("C1", "C2"), True, NOW + timedelta(days=1))
    return dataclasses.replace(base, **changes)


def of_type(events, kind):
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


async def issue(uow, kind=DirectiveKind.CEASE_USE, tool="Clearview AI", at=NOW):
    events = await issue_directive(uow, draft(kind, tool, ack_due=None), CMD, True, at)
    return of_type(events, DirectiveIssued)[0].directive


# --- references and drafts -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("DIR-0007", 7), ("dir-7", 7), ("DIR0007", 7), (" 7 ", 7)])
def test_parse_directive_reference(text: str, expected: int) -> None:
    assert parse_directive_reference(text) == expected
    assert directive_reference(expected) == "DIR-0007"


@pytest.mark.parametrize("text", ["", "REQ-0007", "DIR-", "seven"])
def test_parse_directive_reference_refuses(text: str) -> None:
    assert parse_directive_reference(text) is None


def test_labels() -> None:
    assert [k.label for k in DirectiveKind] == [
        "Cease use",
        "Suspended pending review",
        "Restricted",
        "Approved for use",
        "Advisory",
    ]


def test_draft_is_cleaned() -> None:
    raw = draft("suspended", "  Clearview   AI ", text="  Pause.  ", channels=(" C1 ", "C2", "C1", ""))
    clean = raw.cleaned(NOW)
    assert clean.kind is DirectiveKind.SUSPENDED
    assert (clean.tool, clean.text, clean.channels) == ("Clearview AI", "Pause.", ("C1", "C2"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": None}, "kind"),
        ({"kind": "banned"}, "kind"),
        ({"tool": "  "}, "tool"),
        ({"tool": "!!"}, "tool"),
        ({"tool": "x" * 151}, "tool"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 3001}, "text"),
        ({"channels": ()}, "channels"),
        ({"channels": ("", " ")}, "channels"),
        ({"channels": tuple(f"C{n}" for n in range(21))}, "channels"),
        ({"ack_due": NOW}, "ack_due"),
        ({"ack_due": NOW - timedelta(minutes=1)}, "ack_due"),
        ({"ack_due": datetime(2030, 1, 1)}, "ack_due"),  # no time zone
        ({"ack_required": False}, "ack_due"),  # a due time without acknowledgement
    ],
)
def test_draft_refuses(changes: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        draft(**changes).cleaned(NOW)
    assert set(caught.value.errors) == {field}


def test_draft_limits_are_inclusive() -> None:
    clean = draft(text="x" * 3000, channels=tuple(f"C{n}" for n in range(20))).cleaned(NOW)
    assert len(clean.channels) == 20


def test_draft_reports_every_bad_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        DirectiveDraft(None, "", "", ()).cleaned(NOW)
    assert set(caught.value.errors) == {"kind", "tool", "text", "channels"}


# --- authorisation -------------------------------------------------------------------------


async def test_only_command_staff_may_issue(uow) -> None:
    with pytest.raises(NotCommandStaff):
        await issue_directive(uow, draft(), "UOFFICER", False, NOW)
    assert uow.directives.rows == {} and uow.tools.rows == {} and uow.audit.entries == []


async def test_refusal_comes_before_validation(uow) -> None:
    with pytest.raises(NotCommandStaff):
        await issue_directive(uow, draft(text=""), "UOFFICER", False, NOW)


async def test_only_command_staff_may_revoke_or_supersede(uow) -> None:
    d = await issue(uow)
    with pytest.raises(NotCommandStaff):
        await revoke_directive(uow, d.id, "UOFFICER", False, NOW)
    with pytest.raises(NotCommandStaff):
        await supersede_directive(uow, d.id, draft(DirectiveKind.APPROVED), "UOFFICER", False, NOW)
    assert (await uow.directives.get(d.id)).is_active


# --- issuing -------------------------------------------------------------------------------


async def test_issue_registers_the_tool_and_audits(uow) -> None:
    events = await issue_directive(uow, draft(), CMD, True, NOW)
    issued, changed = events
    assert isinstance(issued, DirectiveIssued) and isinstance(changed, ToolStatusChanged)
    d = issued.directive
    assert (d.ref, d.kind, d.tool_key, d.tool_name) == (
        "DIR-0001",
        DirectiveKind.CEASE_USE,
        "clearview",
        "Clearview AI",
    )
    assert d.channels == ("C1", "C2") and d.ack_required and d.ack_due == NOW + timedelta(days=1)
    assert (changed.before, changed.cause, changed.tool.status) == (None, "DIR-0001", ToolStatus.CEASE_USE)
    tool = await uow.tools.get_by_key("clearview")
    assert (tool.name, tool.status, tool.status_by, tool.override_ref) == (
        "Clearview AI",
        ToolStatus.CEASE_USE,
        CMD,
        "DIR-0001",
    )
    actions = [(e.subject, e.action) for e in uow.audit.entries]
    assert actions == [("DIR-0001", "directive:issued"), ("tool:clearview", "tool:registered")]


async def test_names_of_one_tool_share_one_record(uow) -> None:
    await issue(uow, DirectiveKind.ADVISORY, "Clearview")
    await issue(uow, DirectiveKind.ADVISORY, "Clearview AI")
    await issue(uow, DirectiveKind.ADVISORY, "clearview.ai")
    await issue(uow, DirectiveKind.ADVISORY, "Clear View")
    tools = await uow.tools.all()
    assert len(tools) == 1
    assert tools[0].aliases == {"clearview", "clear view"}
    assert ("tool:clearview", "tool:alias_added") in [(e.subject, e.action) for e in uow.audit.entries]


async def test_advisory_changes_no_status(uow) -> None:
    await record_request_outcome(uow, "Clearview", "REQ-0001", "approved", "UREV", NOW)
    events = await issue_directive(uow, draft(DirectiveKind.ADVISORY, ack_due=None), CMD, True, NOW)
    assert of_type(events, ToolStatusChanged) == []
    assert (await uow.tools.get_by_key("clearview")).status is ToolStatus.APPROVED


async def test_restricted_means_approved_with_conditions(uow) -> None:
    await issue_directive(uow, draft(DirectiveKind.RESTRICTED, text="Only with a warrant."), CMD, True, NOW)
    tool = (await tool_status(uow, "clearview")).tool
    assert (tool.status, tool.conditions) == (ToolStatus.APPROVED_WITH_CONDITIONS, "Only with a warrant.")


# --- the registry and the request workflow -------------------------------------------------


async def test_request_then_decision(uow) -> None:
    events = await record_tool_request(uow, "Clearview AI", "REQ-0001", "UOFF", NOW)
    assert [type(e) for e in events] == [ToolStatusChanged]
    assert events[0].tool.status is ToolStatus.UNDER_REVIEW
    events = await record_request_outcome(uow, "clearview.ai", "REQ-0001", "approved", "UREV", NOW)
    assert events[0].before.status is ToolStatus.UNDER_REVIEW and events[0].tool.status is ToolStatus.APPROVED


async def test_request_for_a_tool_under_cease_is_flagged(uow) -> None:
    await issue(uow, DirectiveKind.CEASE_USE, "Clearview")
    events = await record_tool_request(uow, "Clearview AI", "REQ-0002", "UOFF", NOW)
    (flag,) = of_type(events, RequestFlagged)
    assert flag.request_ref == "REQ-0002" and flag.tool.override_ref == "DIR-0001"
    assert of_type(events, ToolStatusChanged) == []  # still Cease use


async def test_request_for_a_clear_tool_is_not_flagged(uow) -> None:
    events = await record_tool_request(uow, "Clearview", "REQ-0001", "UOFF", NOW)
    assert of_type(events, RequestFlagged) == []


async def test_approval_under_cease_keeps_the_cease(uow) -> None:
    await issue(uow, DirectiveKind.CEASE_USE, "Clearview")
    events = await record_request_outcome(uow, "Clearview", "REQ-0001", "approved", "UREV", NOW)
    assert events == []
    tool = await uow.tools.get_by_key("clearview")
    assert tool.status is ToolStatus.CEASE_USE and tool.underlying.status is ToolStatus.APPROVED
    assert uow.audit.entries[-1].to_state == "cease_use over approved"


async def test_record_request_refuses_a_blank_name(uow) -> None:
    with pytest.raises(InvalidInput):
        await record_tool_request(uow, " ", "REQ-0001", "UOFF", NOW)


# --- revoking and superseding --------------------------------------------------------------


async def test_revoke_restores_the_underlying_status(uow) -> None:
    await record_request_outcome(uow, "Clearview", "REQ-0001", "approved", "UREV", NOW)
    d = await issue(uow, DirectiveKind.CEASE_USE)
    later = NOW + timedelta(hours=1)
    events = await revoke_directive(uow, d.id, CMD, True, later, reason="Legal cleared it.")
    revoked, changed = events
    assert isinstance(revoked, DirectiveRevoked) and revoked.reason == "Legal cleared it."
    assert (revoked.directive.status, revoked.directive.revoked_by, revoked.directive.revoked_at) == (
        DirectiveStatus.REVOKED,
        CMD,
        later,
    )
    assert changed.before.status is ToolStatus.CEASE_USE
    assert (changed.tool.status, changed.tool.status_source) == (ToolStatus.APPROVED, "REQ-0001")
    assert (await uow.directives.list_active()) == []


async def test_revoke_twice_is_refused(uow) -> None:
    d = await issue(uow)
    await revoke_directive(uow, d.id, CMD, True, NOW)
    with pytest.raises(DirectiveNotActive) as caught:
        await revoke_directive(uow, d.id, CMD, True, NOW)
    assert str(caught.value) == "DIR-0001 has been revoked"


async def test_revoke_unknown_directive(uow) -> None:
    with pytest.raises(NotFound):
        await revoke_directive(uow, 99, CMD, True, NOW)


async def test_supersede_cease_with_approved_lifts_it(uow) -> None:
    old = await issue(uow, DirectiveKind.CEASE_USE)
    new_draft = draft(DirectiveKind.APPROVED, "Clearview", text="Cleared for use.", ack_due=None)
    events = await supersede_directive(uow, old.id, new_draft, CMD, True, NOW)
    superseded, changed = events
    assert isinstance(superseded, DirectiveSuperseded)
    assert (superseded.old.status, superseded.old.superseded_by) == (DirectiveStatus.SUPERSEDED, 2)
    assert (superseded.new.ref, superseded.new.supersedes) == ("DIR-0002", 1)
    assert (changed.tool.status, changed.tool.status_source, changed.tool.override) == (
        ToolStatus.APPROVED,
        "DIR-0002",
        None,
    )
    assert [d.ref for d in await uow.directives.list_active()] == ["DIR-0002"]


async def test_supersede_cease_with_cease_keeps_it_under_the_new_reference(uow) -> None:
    old = await issue(uow, DirectiveKind.CEASE_USE)
    events = await supersede_directive(uow, old.id, draft(text="Updated wording."), CMD, True, NOW)
    (changed,) = of_type(events, ToolStatusChanged)
    assert (changed.before.source, changed.tool.override_ref) == ("DIR-0001", "DIR-0002")


async def test_supersede_must_be_about_the_same_tool(uow) -> None:
    old = await issue(uow, DirectiveKind.CEASE_USE, "Clearview")
    with pytest.raises(InvalidInput) as caught:
        await supersede_directive(uow, old.id, draft(tool="GrayKey"), CMD, True, NOW)
    assert set(caught.value.errors) == {"tool"}
    assert len(uow.directives.rows) == 1


async def test_a_replacement_that_names_no_tool_is_about_the_old_ones(uow) -> None:
    old = await issue(uow, DirectiveKind.CEASE_USE, "Clearview")
    events = await supersede_directive(uow, old.id, draft(DirectiveKind.SUSPENDED, tool=""), CMD, True, NOW)
    (superseded,) = of_type(events, DirectiveSuperseded)
    assert superseded.new.tool_key == old.tool_key and superseded.new.tool_name == "Clearview"
    with pytest.raises(NotFound) as missing:
        await supersede_directive(uow, 99, draft(tool=""), CMD, True, NOW)
    assert missing.value.ref == "DIR-0099"


async def test_acknowledging_a_superseded_directive_points_to_its_replacement(uow) -> None:
    old = await issue(uow)
    await supersede_directive(uow, old.id, draft(), CMD, True, NOW)
    with pytest.raises(DirectiveNotActive) as caught:
        await acknowledge(uow, old.id, "UOFF", NOW, in_audience=True)
    assert caught.value.superseded_by == "DIR-0002"


# --- acknowledging -------------------------------------------------------------------------

ONE_CLICK = DirectiveKind.RESTRICTED  # a cease-use or suspension is attested (tests/workflows/test_attesting.py)


async def test_acknowledge_is_idempotent(uow) -> None:
    d = await issue(uow, ONE_CLICK)
    (first,) = await acknowledge(uow, d.id, "UOFF", NOW, in_audience=True)
    (second,) = await acknowledge(uow, d.id, "UOFF", NOW + timedelta(minutes=5), in_audience=True)
    assert isinstance(first, Acknowledged) and not first.already
    assert second.already and second.ack.at == NOW  # the original time
    assert await uow.acks.count(d.id) == 1 and await uow.acks.users(d.id) == {"UOFF"}
    assert [e.action for e in uow.audit.entries].count("directive:acknowledged") == 1


async def test_acknowledge_race_lost_at_the_unique_constraint(uow, monkeypatch) -> None:
    d = await issue(uow, ONE_CLICK)
    real_add = uow.acks.add

    async def other_click_lands_first(ack):
        await real_add(Acknowledgement(ack.directive_id, ack.user_id, NOW))  # the same person's other click
        return await real_add(ack)

    monkeypatch.setattr(uow.acks, "add", other_click_lands_first)
    (event,) = await acknowledge(uow, d.id, "UOFF", NOW + timedelta(minutes=1), in_audience=True)
    assert event.already and event.ack.at == NOW


async def test_acknowledge_refuses_a_revoked_directive(uow) -> None:
    d = await issue(uow, ONE_CLICK)
    await revoke_directive(uow, d.id, CMD, True, NOW)
    with pytest.raises(DirectiveNotActive):
        await acknowledge(uow, d.id, "UOFF", NOW, in_audience=True)


async def test_acknowledged_before_revocation_still_answers_already(uow) -> None:
    d = await issue(uow, ONE_CLICK)
    await acknowledge(uow, d.id, "UOFF", NOW, in_audience=True)
    await revoke_directive(uow, d.id, CMD, True, NOW)
    (event,) = await acknowledge(uow, d.id, "UOFF", NOW, in_audience=True)
    assert event.already


async def test_only_someone_it_was_sent_to_may_acknowledge_a_directive(uow) -> None:
    d = await issue(uow, ONE_CLICK)
    with pytest.raises(NotInAudience) as refused:
        await acknowledge(uow, d.id, "UOUTSIDER", NOW, in_audience=False)
    assert refused.value.ref == d.ref
    assert await uow.acks.count(d.id) == 0
    assert "directive:acknowledged" not in [e.action for e in uow.audit.entries]


async def test_acknowledge_unknown_directive(uow) -> None:
    with pytest.raises(NotFound):
        await acknowledge(uow, 42, "UOFF", NOW, in_audience=True)


async def test_late_acknowledgement_is_marked(uow) -> None:
    (issued, _) = await issue_directive(uow, draft(ONE_CLICK), CMD, True, NOW)
    due = issued.directive.ack_due
    (on_time,) = await acknowledge(uow, 1, "U1", due, in_audience=True)
    (late,) = await acknowledge(uow, 1, "U2", due + timedelta(seconds=1), in_audience=True)
    assert not on_time.late and late.late


# --- /tool-status --------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Clearview", "clearview ai", "clearview.ai", "CLEARVIEW", "clearveiw"])
async def test_tool_status_finds_the_tool(uow, query: str) -> None:
    await issue(uow, DirectiveKind.CEASE_USE, "Clearview AI")
    await record_tool_request(uow, "GrayKey", "REQ-0001", "UOFF", NOW)
    answer = await tool_status(uow, query)
    assert answer.tool.key == "clearview" and answer.tool.status is ToolStatus.CEASE_USE
    assert [d.ref for d in answer.directives] == ["DIR-0001"]
    assert answer.exact is (query != "clearveiw")  # a typo finds the closest record, not its own


async def test_a_name_close_to_a_tool_is_not_that_tool(uow) -> None:
    await record_tool_request(uow, "GPT-4", "REQ-0001", "UOFF", NOW)
    answer = await tool_status(uow, "GPT-4o")
    assert answer.tool is not None and answer.tool.name == "GPT-4" and not answer.exact


async def test_tool_status_ambiguous_partial_gives_suggestions(uow) -> None:
    await record_tool_request(uow, "Clearview", "REQ-0001", "UOFF", NOW)
    await record_tool_request(uow, "ClearSky", "REQ-0002", "UOFF", NOW)
    answer = await tool_status(uow, "clear")
    assert answer.tool is None
    assert {t.name for t in answer.suggestions} == {"Clearview", "ClearSky"}


async def test_tool_status_exact_match_wins_and_others_are_suggested(uow) -> None:
    await record_tool_request(uow, "Clearview", "REQ-0001", "UOFF", NOW)
    await record_tool_request(uow, "Clearview Pro", "REQ-0002", "UOFF", NOW)
    answer = await tool_status(uow, "clearview")
    assert answer.tool.name == "Clearview" and [t.name for t in answer.suggestions] == ["Clearview Pro"]


async def test_tool_status_unknown(uow) -> None:
    await record_tool_request(uow, "Clearview", "REQ-0001", "UOFF", NOW)
    answer = await tool_status(uow, "zzz")
    assert (answer.tool, answer.suggestions, answer.directives) == (None, (), ())


async def test_tool_status_lists_the_tools_open_requests_under_any_of_its_names() -> None:
    uow = FakeUnitOfWork()
    both = Policy(
        stages=(Stage("it_security", "IT security", "C1", ("USEC",)), Stage("privacy", "Privacy", "C2", ("UPRIV",)))
    )

    async def requested(name: str, policy: Policy = both) -> int:
        draft = RequestDraft(
            name, "clearview.ai", "Identify a suspect from stills.", data_kinds=("photos",), prior_use=PriorUse.NONE
        )
        [event] = await submit_request(uow, policy, draft, "UOFF", NOW)
        await record_tool_request(uow, name, event.request.ref, "UOFF", NOW)
        return event.request.id

    first, other_name = await requested("Clearview AI"), await requested("clearview")
    withdrawn, _ = await requested("Clearview"), await requested("GrayKey")
    await withdraw_request(uow, withdrawn, "UOFF", "", NOW)
    # Waiting at a stage this policy no longer has: nobody there to decide it.
    await requested("Clearview", Policy(stages=(Stage("legal", "Legal", "C3", ("ULAW",)),)))
    answer, requests = await tool_status_with_requests(uow, both, "clearview ai")
    assert answer.tool.key == "clearview" and [r.id for r in requests] == [first, other_name]
    answer, requests = await tool_status_with_requests(uow, both, "zzz")
    assert (answer.tool, requests) == (None, [])


# --- reminder bookkeeping (read by workflows.reminders) ------------------------------------


async def test_first_reminder_is_at_the_due_time(uow) -> None:
    (issued, _) = await issue_directive(uow, draft(), CMD, True, NOW)
    assert issued.directive.next_reminder_at == NOW + timedelta(days=1)


async def test_first_reminder_without_due_time_follows_the_policy(uow) -> None:
    settings = ReminderSettings(directive_after=timedelta(hours=4))
    (issued, _) = await issue_directive(uow, draft(ack_due=None), CMD, True, NOW, reminders=settings)
    assert issued.directive.next_reminder_at == NOW + timedelta(hours=4)


async def test_no_reminders_without_acknowledgement(uow) -> None:
    d = draft(ack_required=False, ack_due=None)
    (issued, _) = await issue_directive(uow, d, CMD, True, NOW)
    assert issued.directive.next_reminder_at is None


async def test_ending_a_directive_stops_its_reminders(uow) -> None:
    old = await issue(uow)
    (superseded, _) = await supersede_directive(uow, old.id, draft(), CMD, True, NOW)
    assert superseded.old.next_reminder_at is None and superseded.new.next_reminder_at is not None
    (revoked, _) = await revoke_directive(uow, superseded.new.id, CMD, True, NOW)
    assert revoked.directive.next_reminder_at is None


# --- where a directive is posted, and posting again where it failed ---------------------------


async def test_a_directive_is_to_be_posted_in_each_of_its_channels(uow):
    directive = await issue(uow)
    posts = await uow.directive_posts.for_directive(directive.id)
    assert [(p.channel, p.outcome) for p in posts] == [("C1", PostOutcome.PENDING), ("C2", PostOutcome.PENDING)]


async def test_command_staff_post_again_where_it_failed_and_it_is_audited(uow):
    directive = await issue(uow)
    await uow.directive_posts.set_outcome(directive.id, "C1", PostOutcome.POSTED, NOW, ts="1.1")
    await uow.directive_posts.set_outcome(directive.id, "C2", PostOutcome.FAILED, NOW, error="not_in_channel")
    with pytest.raises(NotCommandStaff):
        await retry_failed_posts(uow, directive.id, "UOFF", False, NOW)

    later = NOW + timedelta(hours=1)
    [retried] = await retry_failed_posts(uow, directive.id, CMD, True, later)
    assert isinstance(retried, PostsRetried) and retried.channels == ("C2",) and retried.by == CMD
    posts = {p.channel: p.outcome for p in await uow.directive_posts.for_directive(directive.id)}
    assert posts == {"C1": PostOutcome.POSTED, "C2": PostOutcome.PENDING}
    [entry] = [e for e in await uow.audit.for_subject(directive.ref) if e.action == "directive:retried"]
    assert entry.actor == CMD and entry.at == later and "C2" in entry.reason
    # Nothing failed any more: nothing to do, nothing audited.
    assert await retry_failed_posts(uow, directive.id, CMD, True, later) == []


async def test_a_directive_no_longer_in_force_is_not_posted_again(uow):
    directive = await issue(uow)
    await uow.directive_posts.set_outcome(directive.id, "C2", PostOutcome.FAILED, NOW, error="not_in_channel")
    await revoke_directive(uow, directive.id, CMD, True, NOW, "Issued in error.")
    with pytest.raises(DirectiveNotActive):
        await retry_failed_posts(uow, directive.id, CMD, True, NOW)
    with pytest.raises(NotFound):
        await retry_failed_posts(uow, 999, CMD, True, NOW)


async def test_a_newcomer_to_a_channel_owes_what_was_posted_there_and_is_in_force(uow):
    directive = await issue(uow, ONE_CLICK)  # to C1 and C2, acknowledgement asked
    await uow.directive_posts.set_outcome(directive.id, "C1", PostOutcome.POSTED, NOW, ts="1.1")
    await uow.directive_posts.set_outcome(directive.id, "C2", PostOutcome.FAILED, NOW, error="not_in_channel")
    assert [d.ref for d in await owed_in_channel(uow, "C1", "UNEW")] == [directive.ref]
    assert await owed_in_channel(uow, "C2", "UNEW") == []  # never arrived there
    await acknowledge(uow, directive.id, "UNEW", NOW, in_audience=True)
    assert await owed_in_channel(uow, "C1", "UNEW") == []
    await revoke_directive(uow, directive.id, CMD, True, NOW, "Issued in error.")
    assert await owed_in_channel(uow, "C1", "UOTHER") == []
