"""How long /tool-usage takes over 100,000 people linked to one tool, on SQLite and PostgreSQL.

Method
------
A fresh database migrated with Alembic (on PostgreSQL a throwaway database next to the URL given,
dropped afterwards) gets, in bulk:

* "Clearview AI" registered through the domain's service, and a cease-use directive about it;
* ``--people`` people linked to it (default 100,000), each a different person: 15% by its licences
  (one for everyone from before licences, superseded; then 7,500 named people, lapsed; then 7,500
  others, current) and of the rest two thirds by a request filed under one of three spellings
  ("Clearview AI", "clearview.ai", "Clearview"; half of them declaring prior use, which is a second
  link; 1 in 50 a self-report, /report-use), the others by acknowledging the directive, a third of
  those with an attestation (never used / stopped and deleted / still holding, with case numbers);
  and a licence for the user group @major-crimes, whose 2,000 members (requesters too) Slack lists
  at the question (here a stand-in that answers at once, as the 30 s cache does): some 133,000
  links in all;
* as many requests again for 3,000 other tools (noise the indexes must skip).

PostgreSQL is ANALYZEd after the load. Timed, median (min, max) of ``--runs`` runs: what the slash
command does before it answers (workflows.usage.tool_usage in a read-only unit of work: the
registry look-up, the two usage statements, building every link) plus bot.blocks.usage.usage_answer
(the message, checked against slack_sdk's models once). Also timed, not part of the answer: the
whole CSV text (what Send as CSV uploads).

    python scripts/bench_usage.py
    python scripts/bench_usage.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.blocks.usage import usage_answer  # noqa: E402
from storage.db import create_engine, migrate, session_factory, urls  # noqa: E402
from storage.tables import AcknowledgementRow, AttestationRow, LicenceRow, RequestRow  # noqa: E402
from storage.uow import uow_factory  # noqa: E402
from workflows.attestations import AttestationAnswer, SelfReport  # noqa: E402
from workflows.directive_kinds import DirectiveKind  # noqa: E402
from workflows.directive_model import DirectiveDraft, DirectiveIssued  # noqa: E402
from workflows.directives import issue_directive  # noqa: E402
from workflows.tool_services import record_tool_request  # noqa: E402
from workflows.usage import csv_text, tool_usage  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SPELLINGS = ("Clearview AI", "clearview.ai", "Clearview")


def request_row(rng: random.Random, request_id: int, tool: str, prior: str, person: str | None = None) -> dict:
    created = NOW - timedelta(days=rng.uniform(1, 3 * 365))
    return {
        "id": request_id,
        "requester_id": person or f"U{rng.randrange(60_000):07d}",
        "tool_name": tool,
        # Each tool is sold by one vendor (as requests name them): 3,000 tools, 500 vendors.
        "vendor": "Clearview AI Inc." if tool in SPELLINGS else f"Vendor {int(tool.split()[-1]) % 500}",
        "purpose": "Identify a suspect from CCTV stills in a robbery investigation.",
        "case_number": "",
        "data_kinds": ["photos"],
        "prior_use": prior,
        "notes": "",
        "status": rng.choice(["approved", "rejected", "withdrawn"]),
        "stage_key": None,
        "stage_entered_at": created,
        "created_at": created,
        "updated_at": created,
        "closed_at": created,
        "next_reminder_at": None,
        "reminders_sent": 0,
        "version": 1,
        "self_report": None,  # every row names every column: an executemany takes the first row's keys
    }


async def register(url: str) -> int:
    """The tool and its cease-use directive, through the domain (as the bot records them)."""
    engine = create_engine(url)
    uows = uow_factory(session_factory(engine), lambda: NOW)
    async with uows() as uow:
        await record_tool_request(uow, "Clearview AI", "REQ-0001", "U0000001", NOW)
        draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop using it.", ("C0ALL",), True, None)
        events = await issue_directive(uow, draft, "U0CHIEF", True, NOW)
        await uow.commit()
    await engine.dispose()
    return next(e for e in events if isinstance(e, DirectiveIssued)).directive.stored_id


def self_report(person: str, n: int) -> dict:
    since = (NOW - timedelta(days=30 + n % 300)).date()
    report = SelfReport(person, "Clearview AI", "Clearview AI Inc.", since, "A trial account.", n % 100 == 0,
                        f"2026-{n % 9000}", True, "Search results", NOW - timedelta(days=n % 30))  # fmt: skip
    return report.to_dict()


ANSWERS = (AttestationAnswer.NEVER_USED, AttestationAnswer.STOPPED_AND_DELETED, AttestationAnswer.STILL_HOLDING)


MCU = "S0MCU"


class Groups:
    """Slack's answer for @major-crimes, as the directory's cache gives it (no call)."""

    def __init__(self, members: frozenset[str]) -> None:
        self.members = members

    async def members_now(self, group: str) -> frozenset[str] | None:
        return self.members if group == MCU else None


def licence_row(scope: str, people: list[str], valid_from: datetime, **more) -> dict:
    return {
        "tool_key": "clearview", "request_ref": "REQ-0001", "owner": "U00000001", "conditions": [],
        "scope_kind": scope, "scope_people": people, "scope_groups": more.pop("groups", []),
        "scope_group_names": more.pop("names", []), "valid_from": valid_from, "expires_at": None,
        "list_publicly": False, "public_summary": "", "renewal_asked_at": None, "renewal_ref": None,
        "extended": False, "extension_reason": "", "lapsed_at": None, "note": "", "tier": None,
        "granted_by": "U0CHIEF", "owner_unit": "", "version": 0, **more,
    }  # fmt: skip


def licences(first: int, licensed: int) -> list[dict]:
    """For everyone (superseded), half the licensed people (lapsed), the other half (current), @major-crimes."""
    half = licensed // 2
    named = [f"U{n:08d}" for n in range(first, first + licensed)]
    lapsed = NOW - timedelta(days=200)
    return [
        licence_row("everyone", [], NOW - timedelta(days=900)),
        licence_row("people", named[:half], NOW - timedelta(days=565), expires_at=lapsed, lapsed_at=lapsed),
        licence_row("people", named[half:], NOW - timedelta(days=100), expires_at=NOW + timedelta(days=265)),
        licence_row("groups", [], NOW - timedelta(days=50), groups=[MCU], names=["major-crimes"]),
    ]


def load(url: str, people: int, directive_id: int) -> tuple[float, int]:
    started = time.perf_counter()
    rng = random.Random(7)
    licensed = people * 15 // 100  # named by the licences, each a different person
    requests = (people - licensed) * 2 // 3  # each by a different person; half declare prior use: 1.5 links a request
    acks = people - licensed - requests  # each by a different person again
    rows = []
    for n in range(1, requests + 1):
        person = f"U{n:08d}"
        row = request_row(rng, n, SPELLINGS[n % 3], "used" if n % 2 else "none", person)
        if n % 50 == 0:
            row["self_report"] = self_report(person, n)
        rows.append(row)
    for n in range(requests + 1, 2 * requests + 1):
        rows.append(request_row(rng, n, f"Tool {rng.randrange(3000)}", "none"))
    ack_rows, attestation_rows = [], []
    for i in range(acks):
        person, at = f"U{requests + 1 + i:08d}", NOW + timedelta(seconds=i)
        ack_rows.append({"directive_id": directive_id, "user_id": person, "at": at})
        if i % 3 == 0:  # an attestation: the cease-use answered with facts (its acknowledgement too)
            answer = ANSWERS[i // 3 % 3]
            holding = answer is AttestationAnswer.STILL_HOLDING
            attestation_rows.append(
                {"directive_id": directive_id, "request_id": None, "user_id": person, "answer": answer.value,
                 "case_numbers": [f"2026-{i}"] if holding else [], "held": "Stills" if holding else "", "at": at}
            )  # fmt: skip
    licence_rows = licences(requests + acks + 1, licensed)
    engine = create_sync_engine(urls(url)[1])
    with engine.begin() as conn:
        for table, loaded in (
            (RequestRow, rows),
            (AcknowledgementRow, ack_rows),
            (AttestationRow, attestation_rows),
            (LicenceRow, licence_rows),
        ):
            for start in range(0, len(loaded), 10_000):
                conn.execute(insert(table.__table__), loaded[start : start + 10_000])  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    owners = 3  # the requester owns the three licences for named people and groups, none names them
    return time.perf_counter() - started, requests * 3 // 2 + requests // 50 + acks + licensed + len(GROUP) + owners


GROUP = frozenset(f"U{n:08d}" for n in range(1, 4001, 2))  # 2,000 requesters in @major-crimes


def stats(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"median {statistics.median(ms):7.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f})"


async def time_answers(url: str, runs: int) -> tuple[list[float], list[float], int, int, int]:
    from slack_sdk.models.blocks import Block

    engine = create_engine(url)
    reading = uow_factory(session_factory(engine), lambda: NOW)
    answers, csvs = [], []
    size = people = links = 0
    for _ in range(runs):
        started = time.perf_counter()
        async with reading() as uow:
            answer = await tool_usage(uow, "Clearview", everyone=False, groups=Groups(GROUP))  # as the slash command
        _, blocks = usage_answer(answer)
        answers.append(time.perf_counter() - started)
        started = time.perf_counter()
        async with reading() as uow:
            full = await tool_usage(uow, "Clearview", groups=Groups(GROUP))
        csv = csv_text(full, {})
        csvs.append(time.perf_counter() - started)
        size, people, links = len(json.dumps(blocks)), answer.people_count, len(full.links)
    for block in blocks:  # once, outside the timing: what the fake Slack checks in the tests
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
    await engine.dispose()
    print(f"  CSV: {len(csv):,} characters")
    return answers, csvs, size, people, links


async def bench(label: str, url: str, people: int, runs: int) -> None:
    migrate(url)
    directive_id = await register(url)
    seconds, seeded = load(url, people, directive_id)
    print(f"\n{label}: {seeded:,} links to Clearview, as many requests for other tools (loaded in {seconds:.1f} s)")
    answers, csvs, size, people, found = await time_answers(url, runs)
    print(f"  /tool-usage Clearview: {found:,} links, {people:,} people; message {size:,} bytes of blocks")
    print(f"  /tool-usage: look-up, names, summary + newest 200, message (goal < 300 ms): {stats(answers)}")
    print(f"  Send as CSV: every link read and the whole CSV text (not the answer):    {stats(csvs)}")


def fresh_postgres(base_url: str) -> tuple[str, str]:
    base = make_url(base_url)
    name = f"clearance_bench_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(drivername="postgresql", database=name).render_as_string(hide_password=False), admin


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL; a throwaway database is created next to it")
    parser.add_argument("--people", type=int, default=100_000, help="people linked to Clearview, each once or twice")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            await bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.people, args.runs)
    if args.postgres:
        url, admin = fresh_postgres(args.postgres)
        try:
            await bench("PostgreSQL", url, args.people, args.runs)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
