"""Licences stored (migration 0012), on SQLite and PostgreSQL, through the domain's commands: the
final approval and its licence in one change, a stale save refused, renewal, extension, lapse, and
approvals from before licences turned into licences for everyone with no expiry."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from storage.db import alembic_config, migrate, session_factory
from storage.db import create_engine as create_async_engine
from storage.uow import uow_factory
from workflows.commands import ApproveWithLicence, ExtendLicence, LapseLicence, RenewLicence, run
from workflows.errors import ConcurrencyConflict, InvalidInput, LicenceRefused
from workflows.licence_service import BEFORE_LICENCES
from workflows.licence_terms import LicenceTerms
from workflows.licences import Change, Scope, ScopeKind
from workflows.policy import Policy, Stage
from workflows.registry import ToolStatus
from workflows.requests import PriorUse, RequestDraft
from workflows.submission import submit_request

POLICY = Policy(stages=(Stage("command", "Command", "C0CMD", ("U0CHIEF",)),))
TERMS = LicenceTerms(
    conditions=("A person checks every match",),
    scope=Scope(ScopeKind.GROUPS, groups=("S0MCU",), group_names=("major-crimes",)),
    until=date(2027, 6, 30),
    no_expiry=False,
    list_publicly=True,
    public_summary="Face matching of CCTV stills, checked by a person.",
)


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


async def approved(uows, clock) -> int:
    draft = RequestDraft("Clearview AI", "Clearview AI Inc.", "Identify suspects.", "", ("photos",), PriorUse.NONE)
    async with uows() as uow:
        events = await submit_request(uow, POLICY, draft, "U0OFFICER", clock())
        request_id = events[0].request.id
        await uow.commit()
    async with uows() as uow:
        command_ = ApproveWithLicence(request_id, "command", "U0CHIEF", TERMS, frozenset({"U0CHIEF"}), clock())
        await run(uow, POLICY, command_)
        await uow.commit()
    return request_id


async def test_the_approval_and_its_licence_are_stored_together(uows, clock):
    await approved(uows, clock)
    async with uows() as uow:
        licence = await uow.licences.current_for_tool("clearview")
        tool = await uow.tools.get_by_key("clearview")
        trail = await uow.audit.for_subject("REQ-0001")
    assert licence is not None and licence.id is not None
    assert licence.scope == TERMS.scope and licence.conditions == TERMS.conditions
    assert licence.expires_at == datetime(2027, 7, 1, tzinfo=UTC)  # valid through 30 June
    assert licence.list_publicly and licence.public_summary.startswith("Face matching")
    assert tool is not None and tool.status is ToolStatus.APPROVED_WITH_CONDITIONS
    assert tool.conditions == "A person checks every match"
    assert [e.action for e in trail][-2:] == ["approved:command", "licence:granted"]


async def test_a_bad_form_stores_neither_the_approval_nor_a_licence(uows, clock):
    draft = RequestDraft("Clearview AI", "Clearview AI Inc.", "Identify suspects.", "", ("photos",), PriorUse.NONE)
    async with uows() as uow:
        request_id = (await submit_request(uow, POLICY, draft, "U0OFFICER", clock()))[0].request.id
        await uow.commit()
    past = LicenceTerms((), Scope(ScopeKind.PEOPLE), clock().date() - timedelta(days=2), False, False, "")
    async with uows() as uow:
        with pytest.raises(InvalidInput) as refused:
            await run(
                uow, POLICY, ApproveWithLicence(request_id, "command", "U0CHIEF", past, frozenset({"U0CHIEF"}), clock())
            )
    assert set(refused.value.errors) == {"scope", "expires_at"}
    async with uows() as uow:
        request = await uow.requests.get(request_id)
        assert request is not None and request.status.is_open
        assert await uow.licences.current_for_tool("clearview") is None


async def test_a_save_from_a_stale_copy_is_refused(uows, clock):
    await approved(uows, clock)
    async with uows() as uow:
        stale = await uow.licences.current_for_tool("clearview")
    async with uows() as uow:
        await uow.licences.save(stale)
        await uow.commit()
    async with uows() as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.licences.save(stale)


async def test_renewal_extension_and_lapse(uows, clock):
    await approved(uows, clock)
    async with uows() as uow:
        events = await run(
            uow, POLICY, ExtendLicence("clearview", "U0CHIEF", True, date(2027, 12, 31), "Inquiry", clock())
        )
        await uow.commit()
    assert any(type(e).__name__ == "LicenceExtended" for e in events)
    async with uows() as uow:
        licence = await uow.licences.current_for_tool("clearview")
        assert licence.extended and licence.extension_reason == "Inquiry"
        assert licence.expires_at == datetime(2028, 1, 1, tzinfo=UTC)
    after_expiry = datetime(2028, 1, 2, tzinfo=UTC)
    async with uows() as uow:
        events = await run(uow, POLICY, LapseLicence(licence.id, frozenset({"U0A", "U0B"}), after_expiry))
        await uow.commit()
    lapsed = [e for e in events if type(e).__name__ == "LicenceLapsed"]
    assert len(lapsed) == 1 and set(lapsed[0].told) == {"U0OFFICER", "U0A", "U0B"}
    async with uows() as uow:
        assert await run(uow, POLICY, LapseLicence(licence.id, frozenset({"U0A"}), after_expiry)) == []  # told once
        tool = await uow.tools.get_by_key("clearview")
        assert tool.status is ToolStatus.LAPSED and tool.status.label == "Suspended — approval lapsed"
    async with uows() as uow:  # a lapsed licence can still be renewed: nothing changed -> last stage only
        events = await run(uow, POLICY, RenewLicence("clearview", "U0OFFICER", (), "", False, after_expiry))
        await uow.commit()
    renewal = next(e for e in events if type(e).__name__ == "RenewalAsked")
    assert renewal.request.route == ("command",) and renewal.request.extends == "REQ-0001"
    async with uows() as uow:
        assert (await uow.licences.current_for_tool("clearview")).renewal_ref == renewal.request.ref
        with pytest.raises(LicenceRefused, match="already under review"):
            await run(uow, POLICY, RenewLicence("clearview", "U0CHIEF", (Change.NEW_DATA,), "", True, after_expiry))


def test_tools_approved_before_licences_become_licences_for_everyone_with_no_expiry(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0010")
    engine = create_engine(url)
    approved_mark = (
        '{"status": "approved_with_conditions", "source": "REQ-0001", "by": "U0CHIEF", '
        '"since": "2026-03-01T10:00:00+00:00", "conditions": "Privacy: case numbers only"}'
    )
    rejected_mark = (
        '{"status": "rejected", "source": "REQ-0002", "by": "U0CHIEF", "since": "2026-03-02T10:00:00+00:00"}'
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tool_requests (id, requester_id, tool_name, vendor, purpose, case_number, data_kinds, "
                "prior_use, notes, status, stage_entered_at, created_at, updated_at, reminders_sent, version) VALUES "
                "(1, 'U0OFFICER', 'Stingray', '', '', '', '[]', 'none', '', 'approved', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, 0)"
            )
        )
        for key, mark in (("stingray", approved_mark), ("graykey", rejected_mark)):
            connection.execute(
                text(
                    "INSERT INTO tools (key, name, decision, status, created_at, version) "
                    "VALUES (:key, :key, :mark, 'approved', '2026-01-01 00:00:00', 0)"
                ),
                {"key": key, "mark": mark},
            )
    engine.dispose()
    migrate(url)

    async def read():
        db = create_async_engine(url)
        try:
            async with uow_factory(session_factory(db), lambda: None)() as uow:
                return [await uow.licences.current_for_tool(k) for k in ("stingray", "graykey")]
        finally:
            await db.dispose()

    stingray, graykey = asyncio.run(read())
    assert graykey is None
    assert stingray.scope.kind is ScopeKind.EVERYONE and stingray.expires_at is None
    assert stingray.owner == "U0OFFICER" and stingray.note == BEFORE_LICENCES
    assert stingray.conditions == ("Privacy: case numbers only",)


async def test_the_expiry_sweep_reads_its_licences_with_their_tool_in_one_go(uows, clock):
    """ExpiringLoader: each licence, whether it is its tool's current one (a renewal supersedes it),
    and the tool's name (its key when the registry has none)."""
    await approved(uows, clock)
    async with uows() as uow:
        first = await uow.licences.current_for_tool("clearview")
        renewal = await uow.licences.add(dataclasses.replace(first, request_ref="REQ-0002", id=None))
        orphan = await uow.licences.add(dataclasses.replace(first, tool_key="no-such-tool", id=None))
        await uow.commit()
    async with uows() as uow:
        found = await uow.reminders().expiring([first.id, renewal.id, orphan.id, 999])
    assert set(found) == {first.id, renewal.id, orphan.id}
    assert found[first.id][1:] == (False, "Clearview AI")  # superseded by the renewal
    assert found[renewal.id][1:] == (True, "Clearview AI")
    assert found[orphan.id][1:] == (True, "no-such-tool")
    assert found[first.id][0].request_ref == "REQ-0001" and found[first.id][0].scope == first.scope
