"""Directives, acknowledgements and the tool registry on SQLite and PostgreSQL, through the domain services."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from storage.db import migrate
from storage.uow import uow_factory
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import Acknowledged, DirectiveDraft, DirectiveIssued, DirectiveStatus
from workflows.directives import acknowledge, issue_directive, revoke_directive, supersede_directive
from workflows.errors import ConcurrencyConflict
from workflows.registry import ToolStatus
from workflows.tool_names import lookalike_rule
from workflows.tool_services import find_tool, record_request_outcome, record_tool_request, tool_status

CMD = "U0CHIEF"


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


def draft(kind=DirectiveKind.CEASE_USE, tool="Clearview AI", **changes) -> DirectiveDraft:
    base = DirectiveDraft(kind, tool, "Stop using it *now*.", ("C0A", "C0B"), True, None)
    return dataclasses.replace(base, **changes)


async def issue(uows, clock, **changes) -> int:
    async with uows() as uow:
        events = await issue_directive(uow, draft(**changes), CMD, True, clock())
        await uow.commit()
    return next(e for e in events if isinstance(e, DirectiveIssued)).directive.id


async def with_retry(uows, action):
    """What Clearance.change does: run the whole transaction again after a concurrency conflict."""
    for attempt in range(5):
        try:
            async with uows() as uow:
                result = await action(uow)
                await uow.commit()
                return result
        except ConcurrencyConflict:
            if attempt == 4:
                raise
            await asyncio.sleep(0)


async def test_directive_round_trip(uows, clock):
    due = clock() + timedelta(days=2)
    directive_id = await issue(uows, clock, ack_due=due)
    async with uows() as uow:
        stored = await uow.directives.get(directive_id)
    assert (stored.ref, stored.kind, stored.tool_key, stored.tool_name) == (
        "DIR-0001",
        DirectiveKind.CEASE_USE,
        "clearview",
        "Clearview AI",
    )
    assert stored.text == "Stop using it *now*." and stored.channels == ("C0A", "C0B")
    assert stored.ack_required and stored.ack_due == due and stored.ack_due.tzinfo is not None
    assert stored.issued_at == clock() and stored.next_reminder_at == due
    assert stored.status is DirectiveStatus.ACTIVE and stored.version == 0


async def test_tool_registry_round_trip_with_aliases_and_layers(uows, clock):
    async with uows() as uow:
        await record_tool_request(uow, "Clearview AI", "REQ-0001", "U0OFF", clock())
        await record_request_outcome(uow, "clearview.ai", "REQ-0001", "approved", "U0REV", clock(), "Warrant only.")
        await uow.commit()
    await issue(uows, clock, tool="Clear View")
    async with uows() as uow:
        tool = await uow.tools.get_by_key("clearview")
        by_alias = await uow.tools.find("no-such-key", "clear view", frozenset())
        listed = await uow.tools.with_status()
    assert tool == by_alias and [t.key for t in listed] == ["clearview"]
    assert tool.aliases == {"clearview", "clear view"}
    assert tool.status is ToolStatus.CEASE_USE and tool.override_ref == "DIR-0001"
    assert tool.underlying.status is ToolStatus.APPROVED_WITH_CONDITIONS
    assert tool.underlying.conditions == "Warrant only." and tool.underlying.since.tzinfo is not None


async def test_a_name_that_looks_like_a_registered_tool_is_found_by_index(uows, clock):
    async with uows() as uow:
        for ref, name in (("REQ-0001", "Stingray"), ("REQ-0002", "Cellebrite UFED")):
            await record_tool_request(uow, name, ref, "U0OFF", clock())
        await uow.commit()
    async with uows() as uow:
        found = {name: await find_tool(uow, name) for name in ("Stingrаy", "Sting Ray", "Graykey")}  # Cyrillic а
        tool = found["Stingrаy"]
        assert tool is not None and tool.key == "stingray" and found["Sting Ray"] == tool
        assert found["Graykey"] is None
        # A name added to a stored tool is found by its look-alikes too.
        await uow.tools.save(dataclasses.replace(tool, aliases=tool.aliases | {"graykey"}))
        await uow.commit()
    async with uows() as uow:
        found_later = await find_tool(uow, "GrayKеy")  # Cyrillic е
    assert found_later is not None and found_later.key == "stingray"


async def test_a_name_is_filed_by_key_first_then_alias_then_the_oldest_look_alike_in_one_statement(uows, clock):
    async with uows() as uow:
        for ref, name in (("REQ-0001", "Stingray"), ("REQ-0002", "Sting Ray Two"), ("REQ-0003", "Graykey")):
            await record_tool_request(uow, name, ref, "U0OFF", clock())
        stingray = await uow.tools.get_by_key("stingray")
        await uow.tools.save(dataclasses.replace(stingray, aliases=stingray.aliases | {"ray finder"}))
        await uow.commit()
    forms = frozenset({"stingray"})
    async with uows() as uow:
        statements: list[str] = []

        def seen(_conn, _cursor, statement, *_rest) -> None:
            statements.append(statement)

        event.listen(uow.session.bind.sync_engine, "before_cursor_execute", seen)
        try:
            by_key = await uow.tools.find("graykey", "ray finder", forms)  # its key wins over another's alias
            by_alias = await uow.tools.find("nothing", "ray finder", frozenset({"graykey"}))  # over a look-alike
            by_form = await uow.tools.find("nothing", "nothing", forms)  # the oldest with that form
            nothing = await uow.tools.find("nothing", "nothing", frozenset())
        finally:
            event.remove(uow.session.bind.sync_engine, "before_cursor_execute", seen)
    assert (by_key.key, by_alias.key, by_form.key, nothing) == ("graykey", "stingray", "stingray", None)
    assert by_alias.aliases >= {"stingray", "ray finder"}  # with its aliases
    assert len([s for s in statements if s.startswith("SELECT")]) == 4  # one each (SQLite adds its BEGIN)


async def _forget_forms(uows, where: str = "") -> None:
    """What an older version (no index) or another rule would leave: forms missing or wrong."""
    async with uows() as uow:
        await uow.session.execute(text(f"DELETE FROM tool_lookalikes {where}"))
        await uow.commit()


async def test_a_tool_whose_forms_went_missing_gets_them_back_when_it_is_next_saved(uows, clock):
    async with uows() as uow:
        await record_tool_request(uow, "Stingray", "REQ-0001", "U0OFF", clock())
        await uow.commit()
    await _forget_forms(uows)
    async with uows() as uow:
        assert await find_tool(uow, "Stingrаy") is None  # Cyrillic а: the index alone cannot tell
        await record_request_outcome(uow, "Stingray", "REQ-0001", "approved", "U0REV", clock())  # saved
        await uow.commit()
    async with uows() as uow:
        found = await find_tool(uow, "Stingrаy")
    assert found is not None and found.key == "stingray"


async def test_migrating_indexes_tools_without_forms_and_rebuilds_on_another_rule(uows, clock, database_url):
    async with uows() as uow:
        for ref, name in (("REQ-0001", "Stingray"), ("REQ-0002", "Graykey")):
            await record_tool_request(uow, name, ref, "U0OFF", clock())
        await uow.commit()
    await _forget_forms(uows, "WHERE tool_id = (SELECT id FROM tools WHERE key = 'stingray')")
    migrate(database_url)  # what every `clearance serve` and `clearance migrate` runs
    async with uows() as uow:
        assert (await find_tool(uow, "Stingrаy")).key == "stingray"
        # Built with another rule (a new Python's Unicode, new confusables data): rebuilt whole.
        await uow.session.execute(text("UPDATE derived_versions SET version = 'an older rule'"))
        await uow.session.execute(text("UPDATE tool_lookalikes SET form = form || '-old'"))
        await uow.commit()
    migrate(database_url)
    async with uows() as uow:
        assert [(await find_tool(uow, n)).key for n in ("Stingrаy", "GrayKеy")] == ["stingray", "graykey"]
        assert await find_tool(uow, "stingray-old") is None
        version = (await uow.session.execute(text("SELECT version FROM derived_versions"))).scalar_one()
    assert version == lookalike_rule()


async def test_registry_changes_are_audited(uows, clock):
    directive_id = await issue(uows, clock)
    async with uows() as uow:
        await revoke_directive(uow, directive_id, CMD, True, clock(), "Cleared by legal.")
        await uow.commit()
    async with uows() as uow:
        directive_trail = [(e.action, e.actor, e.reason) for e in await uow.audit.for_subject("DIR-0001")]
        tool_trail = [(e.action, e.from_state, e.to_state) for e in await uow.audit.for_subject("tool:clearview")]
    assert directive_trail == [
        ("directive:issued", CMD, "Cease use: Clearview AI"),
        ("directive:revoked", CMD, "Cleared by legal."),
    ]
    assert tool_trail == [
        ("tool:registered", "", "cease_use over unknown"),
        ("tool:status", "cease_use over unknown", "unknown"),
    ]


async def test_stale_saves_are_refused(uows, clock):
    directive_id = await issue(uows, clock)
    async with uows() as uow:  # two people load the same records…
        stale_directive = await uow.directives.get(directive_id)
        stale_tool = await uow.tools.get_by_key("clearview")
    async with uows() as uow:  # …one saves first
        directive, tool = await uow.directives.get(directive_id), await uow.tools.get_by_key("clearview")
        directive.reminders_sent, tool.name = 1, "Clearview"
        await uow.directives.save(directive)
        await uow.tools.save(tool)
        await uow.commit()
    async with uows() as uow:
        stale_directive.reminders_sent = 2
        with pytest.raises(ConcurrencyConflict):
            await uow.directives.save(stale_directive)
    async with uows() as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.tools.save(stale_tool)
    async with uows() as uow:
        assert (await uow.directives.get(directive_id)).reminders_sent == 1
        assert (await uow.tools.get_by_key("clearview")).name == "Clearview"


async def test_uncommitted_directive_is_rolled_back(uows, clock):
    async with uows() as uow:
        await issue_directive(uow, draft(), CMD, True, clock())
    async with uows() as uow:
        assert await uow.directives.list_active() == [] and await uow.tools.all() == []


async def test_supersede_and_active_queries(uows, clock):
    old = await issue(uows, clock)
    await issue(uows, clock, kind=DirectiveKind.ADVISORY, tool="GrayKey", channels=("C0B",))
    async with uows() as uow:
        await supersede_directive(uow, old, draft(DirectiveKind.APPROVED, tool="Clearview"), CMD, True, clock())
        await uow.commit()
    async with uows() as uow:
        active = [d.ref for d in await uow.directives.list_active()]
        for_tool = [d.ref for d in await uow.directives.active_for_tool("clearview")]
        in_b = [d.ref for d in await uow.directives.for_channel("C0B", ack_required=False)]
        old_directive = await uow.directives.get(old)
        answer = await tool_status(uow, "clearveiw")
    assert active == ["DIR-0002", "DIR-0003"] and for_tool == ["DIR-0003"] and in_b == active
    assert old_directive.status is DirectiveStatus.SUPERSEDED and old_directive.superseded_by == 3
    assert answer.tool.status is ToolStatus.APPROVED and answer.tool.status_source == "DIR-0003"


async def test_acknowledgement_is_recorded_once(uows, clock):
    directive_id = await issue(uows, clock, kind=DirectiveKind.RESTRICTED)  # one click
    for _ in range(3):
        async with uows() as uow:
            (event,) = await acknowledge(uow, directive_id, "U0OFF", clock(), in_audience=True)
            await uow.commit()
        clock.advance(timedelta(minutes=1))
    async with uows() as uow:
        assert await uow.acks.count(directive_id) == 1
        assert await uow.acks.users(directive_id) == {"U0OFF"}
        assert (await uow.acks.get(directive_id, "U0OFF")).at == clock() - timedelta(minutes=3)
        assert await uow.acks.counts([directive_id, 99]) == {directive_id: 1, 99: 0}
    assert event.already


async def test_duplicate_insert_does_not_abort_the_transaction(uows, clock):
    directive_id = await issue(uows, clock)
    async with uows() as uow:
        from workflows.directive_model import Acknowledgement

        assert await uow.acks.add(Acknowledgement(directive_id, "U0OFF", clock()))
        assert not await uow.acks.add(Acknowledgement(directive_id, "U0OFF", clock()))
        assert await uow.acks.add(Acknowledgement(directive_id, "U0OTHER", clock()))  # the transaction goes on
        await uow.commit()
    async with uows() as uow:
        assert await uow.acks.count(directive_id) == 2


async def test_concurrent_acknowledgements_record_one_per_person(uows, clock):
    """Two clicks of each of 40 people at once: 40 rows, 40 audit entries, every click answered."""
    directive_id = await issue(uows, clock, kind=DirectiveKind.RESTRICTED)
    users = [f"U{n:04d}" for n in range(40)]

    async def click(user):
        return await with_retry(uows, lambda uow: acknowledge(uow, directive_id, user, clock(), in_audience=True))

    results = await asyncio.gather(*(click(u) for u in users * 2))
    events = [e for result in results for e in result]
    assert all(isinstance(e, Acknowledged) for e in events) and len(events) == 80
    assert sorted(e.ack.user_id for e in events if not e.already) == users  # each person recorded once
    async with uows() as uow:
        assert await uow.acks.count(directive_id) == 40
        trail = await uow.audit.for_subject("DIR-0001")
    assert sum(e.action == "directive:acknowledged" for e in trail) == 40


async def test_concurrent_first_mentions_register_one_tool(uows, clock):
    async def request(n):
        return await with_retry(uows, lambda uow: record_tool_request(uow, "GrayKey", f"REQ-{n:04d}", "U0OFF", clock()))

    await asyncio.gather(*(request(n) for n in range(1, 6)))
    async with uows() as uow:
        tools = await uow.tools.all()
    assert [t.key for t in tools] == ["graykey"] and tools[0].status is ToolStatus.UNDER_REVIEW


async def test_directive_posts_record_outcomes_and_claim_counts(uows, clock):
    directive_id = await issue(uows, clock)
    async with uows() as uow:
        await uow.directive_posts.add(directive_id, "C0A", clock())
        await uow.directive_posts.add(directive_id, "C0A", clock())  # idempotent
        await uow.directive_posts.add(directive_id, "C0B", clock())
        await uow.commit()
    async with uows() as uow:
        assert await uow.directive_posts.set_outcome(directive_id, "C0A", "posted", clock(), ts="1.000100")
        assert not await uow.directive_posts.set_outcome(directive_id, "C0A", "posted", clock(), ts="1.000100")
        assert await uow.directive_posts.set_outcome(directive_id, "C0B", "failed", clock(), error="is_archived")
        await uow.commit()
    async with uows() as uow:
        posts = await uow.directive_posts.for_directive(directive_id)
        assert [(p.channel, p.outcome, p.error, p.ts) for p in posts] == [
            ("C0A", "posted", "", "1.000100"),
            ("C0B", "failed", "is_archived", None),
        ]
        (shown,) = await uow.directive_posts.posted_for_active()
        assert await uow.directive_posts.claim_count(shown.id, None, "0 of 3", clock())
        assert not await uow.directive_posts.claim_count(shown.id, None, "1 of 3", clock())  # someone else did
        await uow.commit()
    async with uows() as uow:
        (shown,) = await uow.directive_posts.posted_for_active()
        assert (shown.count_shown, shown.count_shown_at) == ("0 of 3", clock())


async def test_tool_status_finds_a_tools_open_request_however_many_others_are_open(uows, clock):
    from tests.storage.test_requests_storage import DRAFT, POLICY
    from workflows.submission import submit_request
    from workflows.tool_services import tool_status_with_requests

    async with uows() as uow:
        for i in range(230):  # more than a screenful of others, all older
            await submit_request(uow, POLICY, dataclasses.replace(DRAFT, tool_name=f"Other tool {i}"), "U0OFF", clock())
        [event] = await submit_request(
            uow, POLICY, dataclasses.replace(DRAFT, tool_name="Gizmo Tracker"), "U0OFF", clock()
        )
        await record_tool_request(uow, "Gizmo Tracker", event.request.ref, "U0OFF", clock())
        await uow.commit()
    async with uows() as uow:
        answer, requests = await tool_status_with_requests(uow, POLICY, "Gizmo Tracker")
    assert answer.exact and [r.id for r in requests] == [event.request.id]
