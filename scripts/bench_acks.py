"""How long it takes to record 5,000 acknowledgements to one directive, on SQLite and PostgreSQL.

Method
------
Two measurements, each on a fresh database migrated with Alembic (a throwaway PostgreSQL
database is created next to the URL given, and dropped afterwards):

1. **Service + storage.** One directive is issued with the domain service; then each of N people
   acknowledges it through ``workflows.directives.acknowledge`` on a real ``SqlUnitOfWork``, one
   transaction and commit per click (as in production: load the directive, look for an earlier
   acknowledgement, INSERT … ON CONFLICT DO NOTHING, audit entry). Run twice: *sequential*
   (one click after another) and *concurrent* (``--concurrency`` clicks in flight, retried on a
   concurrency conflict like ``Clearance.change``). Wall time by ``time.perf_counter``.
2. **HTTP end to end.** The real bot runs as a separate process (``python -m bot.cli serve``,
   uvicorn) with SLACK_API_URL pointing at the fake Slack Web API of the tests (in this process,
   on loopback). The directive is issued by a signed ``/directive`` command and form submission,
   to a channel whose N members Slack lists over several pages. Then N signed ``block_actions``
   Acknowledge clicks are sent, ``--concurrency`` in flight. Reported: the wall time until every
   click was answered (each is recorded in the database before its HTTP 200), per-click latency
   (median, p95) on the client side, the time until every private confirmation had reached
   Slack (through each click's response_url), until the message showed "N of N acknowledged",
   and how many chat.update calls the running count cost.

Every run checks that exactly N acknowledgements (and N audit entries) were stored.

    python scripts/bench_acks.py                                         # SQLite, 5,000
    python scripts/bench_acks.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python scripts/bench_acks.py -n 500 --skip-http                      # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import create_engine, migrate, session_factory  # noqa: E402
from storage.tables import AcknowledgementRow, AuditRow  # noqa: E402
from storage.uow import uow_factory  # noqa: E402
from tests.fakes.fake_slack import RESPONSE_URL_METHOD, FakeSlack  # noqa: E402
from tests.fakes.signing import SlackHttp, block_action, view_submission  # noqa: E402
from tests.serving import Serve, serve_env  # noqa: E402
from tests.slack.harness import CONFIG, SECRET  # noqa: E402
from workflows.directives import DirectiveDraft, DirectiveKind, acknowledge, issue_directive  # noqa: E402
from workflows.errors import ConcurrencyConflict  # noqa: E402

CHIEF = "U0CHIEF"  # command staff in the harness config
CHANNEL = "C0BENCH"


def people(n: int) -> list[str]:
    return [f"U9{i:07d}" for i in range(n)]


class Database:
    """A fresh, migrated database: a SQLite file, or a throwaway PostgreSQL database."""

    def __init__(self, postgres: str | None, label: str) -> None:
        self.postgres = postgres
        self.label = label
        self.admin = None
        self.name = None

    def __enter__(self) -> str:
        if self.postgres:
            self.name = f"clearance_bench_{self.label}_{uuid.uuid4().hex[:8]}"
            self.admin = make_url(self.postgres).set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            url = make_url(self.admin).set(database=self.name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='clearance-bench-')) / 'bench.db'}"
        migrate(url)
        return url

    def __exit__(self, *exc_info) -> None:
        if self.postgres:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def stored(url: str, directive_id: int) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            acks = await conn.scalar(
                select(func.count())
                .select_from(AcknowledgementRow)
                .where(AcknowledgementRow.directive_id == directive_id)
            )
            audit = await conn.scalar(
                select(func.count()).select_from(AuditRow).where(AuditRow.action == "directive:acknowledged")
            )
    finally:
        await engine.dispose()
    return acks or 0, audit or 0


# --- 1. the service and storage -------------------------------------------------------------------


async def bench_service(url: str, n: int, concurrency: int) -> float:
    engine = create_engine(url)
    uows = uow_factory(session_factory(engine), lambda: datetime.now(UTC))
    try:
        async with uows() as uow:
            draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop.", (CHANNEL,), True, None)
            events = await issue_directive(uow, draft, CHIEF, True, datetime.now(UTC))
            await uow.commit()
        directive_id = events[0].directive.id
        users = people(n)
        slots = asyncio.Semaphore(concurrency)

        async def click(user: str) -> None:
            async with slots:
                for attempt in range(5):
                    try:
                        async with uows() as uow:
                            await acknowledge(uow, directive_id, user, datetime.now(UTC))
                            await uow.commit()
                        return
                    except ConcurrencyConflict:
                        if attempt == 4:
                            raise

        started = time.perf_counter()
        await asyncio.gather(*(click(u) for u in users))
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    acks, audit = await stored(url, directive_id)
    assert (acks, audit) == (n, n), (acks, audit)
    return elapsed


# --- 2. HTTP end to end ---------------------------------------------------------------------------


def directive_form_state() -> dict:
    option = {"type": "plain_text", "text": "x"}
    return {
        "kind": {"value": {"type": "radio_buttons", "selected_option": {"value": "cease_use", "text": option}}},
        "tool": {
            "directive-tool": {
                "type": "external_select",
                "selected_option": {"value": "n:Clearview AI", "text": option},
            }
        },
        "text": {"value": {"type": "plain_text_input", "value": "Stop using Clearview AI now."}},
        "channels": {"value": {"type": "multi_conversations_select", "selected_conversations": [CHANNEL]}},
        "ack": {"value": {"type": "checkboxes", "selected_options": [{"value": "required", "text": option}]}},
        "ack_due": {"value": {"type": "datetimepicker", "selected_date_time": None}},
    }


async def bench_http(url: str, n: int, concurrency: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="clearance-bench-"))
    (workdir / "clearance.toml").write_text(CONFIG)
    users = people(n)
    async with FakeSlack() as slack:
        slack.channel_members[CHANNEL] = [*users, "U0BOT"]
        env = serve_env(api_url=slack.api_url, secret=SECRET, database_url=url, config=workdir / "clearance.toml")
        server = Serve("bench", workdir, env)
        await server.start()
        try:
            await server.healthy()
            base = server.url
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with SlackHttp(SECRET, base_url=base, timeout=60) as http:
                http.client._transport = httpx.AsyncHTTPTransport(limits=limits)
                assert (await http.command("/directive", "", CHIEF)).status_code == 200
                submitted = await http.submit(view_submission("directive-form", directive_form_state(), CHIEF))
                assert submitted.status_code == 200 and "clear" in submitted.text, submitted.text
                (posted,) = await slack.wait_for(
                    "chat.postMessage", timeout=30, where=lambda c: c.args.get("channel") == CHANNEL
                )
                ts = posted.response["ts"]
                button = next(
                    e
                    for b in posted.args["blocks"]
                    for e in b.get("elements", [])
                    if e.get("action_id") == "directive-acknowledge"
                )
                await slack.wait_for("chat.update", timeout=30, where=lambda c: c.args.get("channel") == CHANNEL)
                updates_before = len([c for c in slack.calls_to("chat.update") if c.args.get("channel") == CHANNEL])
                slots = asyncio.Semaphore(concurrency)
                latencies: list[float] = []

                async def click(user: str) -> None:
                    payload = block_action(
                        "directive-acknowledge",
                        button["value"],
                        user,
                        channel_id=CHANNEL,
                        message_ts=ts,
                        response_url=slack.new_response_url(user),
                    )
                    async with slots:
                        began = time.perf_counter()
                        response = await http.action(payload)
                        latencies.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200, response.text

                started = time.perf_counter()
                await asyncio.gather(*(click(u) for u in users))
                answered = time.perf_counter() - started
                await slack.wait_for(RESPONSE_URL_METHOD, count=n, timeout=600)
                confirmed = time.perf_counter() - started
                final = f"{n} of {n} acknowledged"
                await slack.wait_for(
                    "chat.update",
                    timeout=60,
                    where=lambda c: c.args.get("channel") == CHANNEL and final in str(c.args.get("blocks")),
                )
                shown = time.perf_counter() - started
                updates = len([c for c in slack.calls_to("chat.update") if c.args.get("channel") == CHANNEL])
                member_pages = len(
                    [c for c in slack.calls_to("conversations.members") if c.args.get("channel") == CHANNEL]
                )
        finally:
            await server.stop()
    acks, audit = await stored(url, 1)
    assert (acks, audit) == (n, n), (acks, audit)
    latencies.sort()
    return {
        "answered_s": answered,
        "confirmed_s": confirmed,
        "count_shown_s": shown,
        "median_ms": statistics.median(latencies),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1],
        "count_updates": updates - updates_before,
        "member_pages": member_pages,
    }


async def run(label: str, postgres: str | None, n: int, concurrency: int, http: bool) -> list[str]:
    lines = []
    with Database(postgres, "seq") as url:
        seconds = await bench_service(url, n, 1)
        lines.append(
            f"{label:10} service+storage, sequential      {n} acks in {seconds:6.2f} s  ({n / seconds:6.0f}/s)"
        )
    with Database(postgres, "par") as url:
        seconds = await bench_service(url, n, concurrency)
        mode = f"{concurrency:2} concurrent"
        lines.append(f"{label:10} service+storage, {mode}   {n} acks in {seconds:6.2f} s  ({n / seconds:6.0f}/s)")
    if http:
        with Database(postgres, "http") as url:
            r = await bench_http(url, n, concurrency)
        lines.append(
            f"{label:10} HTTP clicks, {concurrency:2} concurrent       {n} acks in {r['answered_s']:6.2f} s  "
            f"({n / r['answered_s']:6.0f}/s); per click median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms; "
            f"all {n} confirmations delivered after {r['confirmed_s']:.1f} s; "
            f"'{n} of {n}' shown after {r['count_shown_s']:.1f} s with {r['count_updates']} chat.update calls "
            f"(members read in {r['member_pages']} pages)"
        )
    for line in lines:
        print(line, flush=True)
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="acknowledgements (default 5000)")
    parser.add_argument("--concurrency", type=int, default=20, help="clicks in flight (default 20)")
    parser.add_argument("--postgres", help="a PostgreSQL URL; also benchmarks PostgreSQL (throwaway database)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-http", action="store_true", help="only the service + storage measurement")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.n} people acknowledge one directive.")
    if not args.skip_sqlite:
        await run("SQLite", None, args.n, args.concurrency, not args.skip_http)
    if args.postgres:
        await run("PostgreSQL", args.postgres, args.n, args.concurrency, not args.skip_http)


if __name__ == "__main__":
    asyncio.run(main())
