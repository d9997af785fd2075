"""How long one reminder sweep takes over a large history, on SQLite and PostgreSQL.

Method
------
For each backend, a fresh database migrated with Alembic (a throwaway PostgreSQL database is
created next to the URL given, and dropped afterwards) is filled with ``--history`` requests
(default 100,000) in bulk, shaped like a service's record after some years:

* ``--due`` requests (default 1,000) pending at IT security, due a few minutes to a few days ago;
* 2% open and not due yet (next reminder 2 to 30 days ahead);
* the rest closed (approved, rejected or withdrawn: next_reminder_at NULL, as the services leave it).

PostgreSQL is ANALYZEd after the load, as autovacuum would; SQLite is not (it never analyses on
its own). Two timings, each the median (and min, max) of ``--runs`` runs; run k happens at
now + k × remind_every, when exactly the same 1,000 requests are due again (each run's claims
moved them one remind_every on), so every run claims 1,000:

1. **sweep**: the domain's ``workflows.reminders.sweep`` on ``storage.reminders.SqlReminderStore``
   in one transaction, committed: the indexed SELECT of what is due, 1,000 conditional UPDATE
   claims. This is the database cost the issue asks about.
2. **scheduler run**: ``bot.followups.scheduler.ReminderScheduler.run_once`` of a real ``Clearance`` against
   the fake Slack Web API of the tests (in this process, on loopback): the peek, the user group
   look-up (cached after the first run), the claims, building the DMs (digests of 20 requests,
   one set per reviewer) and writing them to the outbox, committed. Delivery by the sender is not
   included (it runs on its own, paced by Slack's rate limits). No review cards are stored, so no
   chat.getPermalink calls are made; with cards, the first sweep of each card adds one call
   (eight at a time), later ones use the cache.

Also timed: a sweep when nothing is due (what every check_every costs almost always), and the
query plan of the due query is printed. Then everything again with ``--scale`` (default 10) times
the history and the same number due.

    python scripts/bench_sweep.py                                          # SQLite
    python scripts/bench_sweep.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python scripts/bench_sweep.py --history 10000 --scale 1 --runs 3       # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
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

from bot.wiring.runtime import Clearance  # noqa: E402
from storage.db import create_engine, migrate, session_factory, urls  # noqa: E402
from storage.tables import RequestRow  # noqa: E402
from storage.uow import uow_factory  # noqa: E402
from tests.fakes.fake_slack import FakeSlack  # noqa: E402
from tests.slack.harness import CONFIG, settings_for  # noqa: E402
from workflows.reminders import sweep  # noqa: E402

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
EVERY = timedelta(hours=24)  # IT security's remind_every in the config used
DUE_QUERY = "SELECT * FROM tool_requests WHERE next_reminder_at <= '{now}' ORDER BY next_reminder_at, id LIMIT 1000"


def rows(history: int, due: int, seed: int = 7):
    """The requests to load, as column dicts, in id order."""
    rng = random.Random(seed)
    due_ids = set(rng.sample(range(1, history + 1), due))
    purpose = "Identify a suspect from CCTV stills in a robbery investigation. " * 3
    for request_id in range(1, history + 1):
        created = NOW - timedelta(days=rng.uniform(3, 5 * 365))
        row = {
            "id": request_id,
            "requester_id": f"U{rng.randrange(5000):07d}",
            "tool_name": f"Tool {rng.randrange(3000)}",
            "vendor": "vendor.example",
            "purpose": purpose,
            "case_number": "",
            "data_kinds": ["photos"],
            "prior_use": "none",
            "notes": "",
            "created_at": created,
            "updated_at": created,
            "reminders_sent": 0,
            "escalated_at": None,
            "version": 1,
        }
        roll = rng.random()
        if request_id in due_ids:
            entered = NOW - timedelta(days=1, minutes=rng.uniform(5, 3 * 24 * 60))
            row.update(status="pending", stage_key="it_security", stage_entered_at=entered, closed_at=None)
            row["next_reminder_at"] = entered + timedelta(days=1)
        elif roll < 0.02:
            row.update(status="pending", stage_key="privacy", stage_entered_at=NOW, closed_at=None)
            row["next_reminder_at"] = NOW + timedelta(days=rng.uniform(60, 90))  # beyond every run
        else:
            status = rng.choice(["approved", "approved", "rejected", "withdrawn"])
            closed = created + timedelta(days=rng.uniform(1, 3))
            row.update(status=status, stage_key=None, stage_entered_at=closed, closed_at=closed)
            row["next_reminder_at"] = None
        yield row


def load(url: str, history: int, due: int) -> float:
    started = time.perf_counter()
    engine = create_sync_engine(urls(url)[1])
    table = RequestRow.__table__
    batch: list[dict] = []
    with engine.begin() as conn:
        for row in rows(history, due):
            batch.append(row)
            if len(batch) == 10_000:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('tool_requests_id_seq', (SELECT max(id) FROM tool_requests))"))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE tool_requests"))
    engine.dispose()
    return time.perf_counter() - started


def plan(url: str, due_query: str = DUE_QUERY) -> str:
    """The due query's plan as the database chooses it (`due_query` has a `{now}` to fill in)."""
    engine = create_sync_engine(urls(url)[1])
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = due_query.format(now=NOW.isoformat()) + " FOR UPDATE SKIP LOCKED"  # as the sweep reads
            lines = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + query)).scalars().all()
        else:
            query = due_query.format(now=NOW.strftime("%Y-%m-%d %H:%M:%S.%f"))
            lines = [r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + query)).all()]
    engine.dispose()
    return "\n".join(f"      {line}" for line in lines)


def stats(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"median {statistics.median(ms):7.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f}, n={len(ms)})"


async def time_sweeps(url: str, due: int, runs: int, offset: int) -> list[float]:
    """Domain sweep on SqlReminderStore, one transaction each; run k at NOW + (offset + k) × EVERY."""
    import tomllib

    from bot.config.policy_file import parse_policy

    policy = parse_policy(tomllib.loads(CONFIG))
    engine = create_engine(url)
    uows = uow_factory(session_factory(engine), lambda: NOW)
    samples = []
    for k in range(runs):
        now = NOW + (offset + k) * EVERY
        started = time.perf_counter()
        async with uows() as uow:
            won = await sweep(uow.reminders(policy.reminders), policy, now, limit=due)
            await uow.commit()
        samples.append(time.perf_counter() - started)
        assert len(won) == due, f"run {k}: {len(won)} reminders won, expected {due}"
    await engine.dispose()
    return samples


async def time_scheduler(url: str, due: int, runs: int, offset: int, workdir: Path) -> tuple[list[float], float, int]:
    """ReminderScheduler.run_once of a real Clearance against the fake Slack; also a sweep with nothing due."""
    clock_now = [NOW]
    async with FakeSlack() as slack:
        slack.usergroups["S0SECGRP"] = ["U0SEC2"]
        c = Clearance(settings_for(slack, url, workdir), clock=lambda: clock_now[0])
        samples = []
        messages = 0
        for k in range(runs):
            clock_now[0] = NOW + (offset + k) * EVERY
            started = time.perf_counter()
            report = await c.reminders.run_once()
            samples.append(time.perf_counter() - started)
            assert report.counts["review reminder"] == due, f"run {k}: {report.counts} reminders, expected {due}"
            messages = report.messages
        clock_now[0] += timedelta(minutes=1)  # just after the last run: nothing due
        idle = []
        for _ in range(5):
            started = time.perf_counter()
            report = await c.reminders.run_once()
            idle.append(time.perf_counter() - started)
            assert report.counts["review reminder"] == 0
        await c.stop()
    return samples, statistics.median(idle), messages


def fresh_postgres(base_url: str) -> tuple[str, str]:
    base = make_url(base_url)
    name = f"clearance_bench_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(drivername="postgresql", database=name).render_as_string(hide_password=False), admin


def drop_postgres(url: str, admin: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench(label: str, url: str, history: int, due: int, runs: int, workdir: Path) -> None:
    migrate(url)
    seconds = load(url, history, due)
    print(f"\n{label}: {history:,} requests, {due:,} due (loaded in {seconds:.1f} s)")
    print(f"  due query plan:\n{plan(url)}")
    sweeps = await time_sweeps(url, due, runs, offset=0)
    print(f"  sweep (select due + {due:,} claims, one transaction):   {stats(sweeps)}")
    scheduled, idle, messages = await time_scheduler(url, due, runs, offset=runs, workdir=workdir)
    print(f"  scheduler run (+ Slack look-ups, {messages} DMs to the outbox): {stats(scheduled)}")
    print(f"  scheduler run with nothing due:                     median {idle * 1000:7.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL; a throwaway database is created next to it")
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=int, default=10, help="then again with this many times the history")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [args.history] + ([args.history * args.scale] if args.scale > 1 else [])
    for history in sizes:
        if not args.skip_sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                await bench("SQLite", url, history, args.due, args.runs, Path(tmp))
        if args.postgres:
            url, admin = fresh_postgres(args.postgres)
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    await bench("PostgreSQL", url, history, args.due, args.runs, Path(tmp))
            finally:
                drop_postgres(url, admin)


if __name__ == "__main__":
    asyncio.run(main())
