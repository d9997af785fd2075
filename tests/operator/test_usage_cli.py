"""`clearance usage`: the operator's CSV of everyone linked to a tool, from the record alone."""

from __future__ import annotations

import asyncio
import csv
import io
import os

import pytest

from bot.cli import main
from storage.db import create_engine, migrate, session_factory
from storage.uow import uow_factory
from tests.fakes.clock import ManualClock
from tests.slack.harness import CONFIG
from workflows.policy import Policy, Stage
from workflows.requests import PriorUse, RequestDraft
from workflows.submission import submit_request
from workflows.tool_services import record_tool_request

POLICY = Policy(stages=(Stage("privacy", "Privacy", "C0PRIV", ("U0PRIV1",)),))


@pytest.fixture
def operator(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DATABASE_URL", "CLEARANCE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clearance.toml").write_text(CONFIG)
    url = f"sqlite:///{tmp_path / 'clearance.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    asyncio.run(_seed(url))
    return tmp_path


async def _seed(url: str) -> None:
    engine = create_engine(url)
    clock = ManualClock()
    now = clock()
    uows = uow_factory(session_factory(engine), clock)
    for who, tool, prior in (("U0ANNA", "Clearview AI", PriorUse.USED), ("U0BEN", "=cmd|' /C calc'!A0", PriorUse.NONE)):
        draft = RequestDraft(tool, "clearview.ai", "Identify a suspect from CCTV stills.", "", ("photos",), prior)
        async with uows() as uow:
            events = await submit_request(uow, POLICY, draft, who, now)
            await record_tool_request(uow, tool, events[0].request.ref, who, now)
            await uow.commit()
    await engine.dispose()


def test_usage_writes_the_csv_to_a_file_with_the_vendor_s_other_tools(operator, capsys):
    assert main(["usage", "Clearview", "--out", "usage.csv"]) == 0
    rows = list(csv.reader((operator / "usage.csv").open(encoding="utf-8")))
    assert rows == [
        ["person id", "person name", "tool", "link", "when", "detail"],
        ["U0BEN", "", "'=cmd|' /C calc'!A0", "requested", "2026-11-02T15:00:00+00:00", "REQ-0002: open"],
        ["U0ANNA", "", "Clearview AI", "requested", "2026-11-02T15:00:00+00:00", "REQ-0001: open"],
        ["U0ANNA", "", "Clearview AI", "declared prior use", "2026-11-02T15:00:00+00:00",
         "REQ-0001: Already used for police work"],
    ]  # fmt: skip
    err = capsys.readouterr().err
    assert "2 people, 3 links to Clearview AI, =cmd|' /C calc'!A0 to usage.csv." in err and "set SLACK_BOT_TOKEN" in err


def test_usage_by_vendor_to_standard_output_with_formulas_made_inert(operator, capsys):
    assert main(["usage", "clearview"]) == 0
    out = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out.out)))
    assert "'=cmd|' /C calc'!A0" in {r[2] for r in rows}  # a tool's name typed as a formula
    assert {r[0] for r in rows[1:]} == {"U0ANNA", "U0BEN"}


@pytest.mark.parametrize(("args", "said"), [
    (["usage"], "Give a tool's or a vendor's name"),
    (["usage", "Palantir"], "No tool or vendor on record is called 'Palantir'"),
    (["usage", "Clearview", "--out", "no/such/folder/u.csv"], "Clearance cannot write no/such/folder/u.csv"),
])  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(operator, capsys, args, said):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err


def test_usage_lists_a_licence_s_named_people_and_says_what_it_could_not_list(operator, capsys):
    """Without SLACK_BOT_TOKEN a licence's user groups are not listed (stderr says so); a licence for
    everyone is said on stderr, with no row of its own."""
    from datetime import UTC, datetime

    from workflows.licences import Licence, Scope, ScopeKind

    async def licences() -> None:
        engine = create_engine(os.environ["DATABASE_URL"])
        start = datetime(2026, 11, 1, tzinfo=UTC)
        async with uow_factory(session_factory(engine), ManualClock())() as uow:
            for scope in (
                Scope(ScopeKind.PEOPLE, people=("U0CARA",)),
                Scope(ScopeKind.GROUPS, groups=("S0MCU",), group_names=("major-crimes",)),
                Scope(ScopeKind.EVERYONE),
            ):
                await uow.licences.add(Licence("clearview", "REQ-0001", "U0ANNA", (), scope, start, None))
            await uow.commit()
        await engine.dispose()

    asyncio.run(licences())
    assert main(["usage", "Clearview AI", "--out", "usage.csv"]) == 0
    rows = list(csv.reader((operator / "usage.csv").open(encoding="utf-8")))
    assert ["U0CARA", "", "Clearview AI", "authorised", "2026-11-01T00:00:00+00:00",
            "LIC-0001: named people, no expiry, from REQ-0001"] in rows  # fmt: skip
    assert {r[3] for r in rows[1:]} == {"requested", "declared prior use", "authorised", "licence owner"}
    err = capsys.readouterr().err
    assert "Everyone may use it: LIC-0003 (REQ-0001) is for everyone, no expiry." in err
    assert "Members of @major-crimes are not listed: set SLACK_BOT_TOKEN to have them from Slack." in err
