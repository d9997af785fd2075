"""A licence's owner unit stored (migration 0015), on SQLite and PostgreSQL: licences from before
it read as "" (blank), the column goes down and up again, and a licence's unit round-trips."""

from __future__ import annotations

import asyncio
import csv
from datetime import date

from alembic import command
from sqlalchemy import create_engine, text

from storage.db import alembic_config, migrate, session_factory, urls
from storage.db import create_engine as create_async_engine
from storage.export import export_record
from storage.uow import uow_factory
from workflows.commands import ApproveWithLicence, run
from workflows.licence_terms import LicenceTerms
from workflows.licences import Scope, ScopeKind
from workflows.policy import Policy, Stage
from workflows.requests import PriorUse, RequestDraft
from workflows.submission import submit_request

POLICY = Policy(stages=(Stage("command", "Command", "C0CMD", ("U0CHIEF",)),))
# A licence as 0012 to 0014 stored it: no owner_unit column to name.
BEFORE = (
    "INSERT INTO licences (tool_key, request_ref, owner, conditions, scope_kind, scope_people, scope_groups, "
    "scope_group_names, valid_from, list_publicly, public_summary, extended, extension_reason, note, granted_by, "
    "version) VALUES ('stingray', 'REQ-0001', 'U0OFFICER', '[]', 'everyone', '[]', '[]', '[]', "
    "'2026-03-01 10:00:00+00:00', false, '', false, '', '', 'U0CHIEF', 0)"
)


def columns(url: str) -> list[str]:
    engine = create_engine(urls(url)[1])
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT * FROM licences")).keys())
    finally:
        engine.dispose()


def test_licences_from_before_0015_have_a_blank_owner_unit_and_it_goes_down_and_up(empty_url):
    config = alembic_config(empty_url)
    command.upgrade(config, "0014")
    engine = create_engine(urls(empty_url)[1])
    with engine.begin() as connection:
        connection.execute(text(BEFORE))
    engine.dispose()
    migrate(empty_url)

    async def read():
        db = create_async_engine(empty_url)
        try:
            async with uow_factory(session_factory(db), lambda: None)() as uow:
                return await uow.licences.current_for_tool("stingray")
        finally:
            await db.dispose()

    licence = asyncio.run(read())
    assert licence is not None and licence.owner_unit == ""
    command.downgrade(config, "0014")
    assert "owner_unit" not in columns(empty_url)
    command.upgrade(config, "head")
    command.check(config)
    assert "owner_unit" in columns(empty_url)


async def test_the_owner_unit_is_stored_with_the_licence(sessions, clock):
    uows = uow_factory(sessions, clock)
    draft = RequestDraft("Clearview AI", "Clearview AI Inc.", "Identify suspects.", "", ("photos",), PriorUse.NONE)
    async with uows() as uow:
        request_id = (await submit_request(uow, POLICY, draft, "U0OFFICER", clock()))[0].request.id
        await uow.commit()
    terms = LicenceTerms(
        (), Scope(ScopeKind.EVERYONE), date(2027, 6, 30), False, False, "", owner_unit="  Forensic\nIdentification "
    )
    async with uows() as uow:
        await run(
            uow, POLICY, ApproveWithLicence(request_id, "command", "U0CHIEF", terms, frozenset({"U0CHIEF"}), clock())
        )
        await uow.commit()
    async with uows() as uow:
        licence = await uow.licences.current_for_tool("clearview")
        assert licence is not None and licence.owner_unit == "Forensic Identification"
        await uow.licences.save(licence)  # a save keeps it (an extension, a lapse)
        await uow.commit()
    async with uows() as uow:
        assert (await uow.licences.every())[0].owner_unit == "Forensic Identification"


async def test_the_export_holds_the_owner_unit_made_inert_for_spreadsheets(sessions, database_url, clock, tmp_path):
    uows = uow_factory(sessions, clock)
    unit = '=HYPERLINK("https://attacker.example","Major Crimes")'
    draft = RequestDraft("Clearview AI", "Clearview AI Inc.", "Identify suspects.", "", ("photos",), PriorUse.NONE)
    async with uows() as uow:
        request_id = (await submit_request(uow, POLICY, draft, "U0OFFICER", clock()))[0].request.id
        await uow.commit()
    terms = LicenceTerms((), Scope(ScopeKind.EVERYONE), None, True, False, "", owner_unit=unit)
    async with uows() as uow:
        chief = frozenset({"U0CHIEF"})
        await run(uow, POLICY, ApproveWithLicence(request_id, "command", "U0CHIEF", terms, chief, clock()))
        await uow.commit()
    out = tmp_path / "export"
    export_record(database_url, out)
    with (out / "licences.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["owner_unit"] == "'" + unit  # shown as text; the value follows the '
    with (out / "audit_log.csv").open(encoding="utf-8") as handle:
        [granted] = [r for r in csv.DictReader(handle) if r["action"] == "licence:granted"]
    assert f"owner unit: {unit}" in granted["reason"]
