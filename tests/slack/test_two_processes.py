"""Two real `clearance serve` processes on one PostgreSQL database send each reminder once.

Both processes run the reminder sweep every second against the same database and the same fake
Slack (each with its own bot token, so the fake can tell who sent what), while requests fall due
in batches. Every reviewer must be reminded of every request exactly once: the conditional claim
on next_reminder_at decides which process sends it. The processes start half a second apart so
that both get work; tests/storage/test_reminders_storage.py makes two sweeps collide on purpose.
Skipped without CLEARANCE_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config.policy_file import parse_policy
from storage.db import create_engine, session_factory
from storage.uow import uow_factory
from tests.conftest import PG_URL
from tests.fakes.clock import ManualClock
from tests.serving import Serve, serve_env
from tests.slack.harness import CONFIG, SECRET, everything_said
from workflows.requests import PriorUse, RequestDraft
from workflows.submission import submit_request

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs CLEARANCE_TEST_POSTGRES_URL (PostgreSQL)")

ROOT = Path(__file__).resolve().parents[2]
BATCHES, PER_BATCH = 8, 25
REVIEWERS = ("U0SEC1", "U0SEC2")  # U0SEC2 through the S0SECGRP user group
FAST = CONFIG.replace('check_every = "1m"', 'check_every = "1s"')


async def test_two_serve_processes_on_one_postgresql_database_send_each_reminder_once(slack, database_url, tmp_path):
    if database_url.startswith("sqlite"):
        pytest.skip("this test is about two processes on PostgreSQL")
    config = tmp_path / "clearance.toml"
    config.write_text(FAST, encoding="utf-8")
    base = serve_env(api_url=slack.api_url, secret=SECRET, database_url=database_url, config=config)
    servers = [Serve(name, tmp_path, {**base, "SLACK_BOT_TOKEN": f"xoxb-process-{name}"}) for name in ("a", "b")]
    engine = create_engine(database_url)
    try:
        for server in servers:
            await server.start()
            await asyncio.sleep(0.5)  # their sweeps, every second, then take turns
        await asyncio.gather(*(server.healthy() for server in servers))

        # Requests submitted 25 hours ago (due an hour ago), in batches landing while both sweep.
        policy = parse_policy(tomllib.loads(FAST))
        clock = ManualClock(datetime.now(UTC) - timedelta(hours=25))
        uows = uow_factory(session_factory(engine), clock)
        draft = RequestDraft("Tool", "vendor.example", "A purpose long enough", "", ("none",), PriorUse.NONE)
        ids: list[int] = []
        for batch in range(BATCHES):
            async with uows() as uow:
                for _ in range(PER_BATCH):
                    ids.append((await submit_request(uow, policy, draft, "U0OFFICER", clock()))[0].request.id)
                await uow.commit()
            await asyncio.sleep(0.23 + 0.31 * (batch % 3))  # at varying points between the two sweeps

        def reminded() -> Counter:
            """(reviewer, request) -> how often it was reminded, from single and digest DMs alike."""
            pairs: Counter = Counter()
            for call in slack.calls_to("chat.postMessage"):
                if call.args.get("text", "").startswith("Reminder:") and call.args.get("channel") in REVIEWERS:
                    # A request is named in one DM at a time (a digest lists one line per request).
                    refs = set(re.findall(r"REQ-\d{4,}", everything_said(call.args)))
                    pairs.update((call.args["channel"], ref) for ref in refs)
            return pairs

        expected = {(reviewer, f"REQ-{i:04d}") for i in ids for reviewer in REVIEWERS}
        for _ in range(300):
            if set(reminded()) >= expected:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # two more sweeps by each process: nothing more may be sent

        pairs = reminded()
        assert set(pairs) == expected, f"{len(expected - set(pairs))} (reviewer, request) pairs never reminded"
        assert set(pairs.values()) == {1}, [pair for pair, n in pairs.items() if n > 1][:10]
        by_process = Counter(
            c.token for c in slack.calls_to("chat.postMessage") if c.args.get("text", "").startswith("Reminder:")
        )
        # Which process delivers a reminder is whoever's sender claims its outbox row first (one
        # claim takes a whole batch), so one process may send them all: exactly once is the rule.
        assert set(by_process) <= {"xoxb-process-a", "xoxb-process-b"}, by_process
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
        await engine.dispose()
    for server in servers:
        output = await server.output()
        assert "Traceback" not in output and " ERROR " not in output, output
