"""How long one licence-expiry sweep takes over many licences, on SQLite and PostgreSQL (issue 18).

Goal: the expiry sweep over 100,000 licences with 1,000 due < 0.2 s, and ×10 licences < ×1.5 time.

Method (as scripts/bench_sweep.py for review reminders)
-------------------------------------------------------
For each backend, a fresh database migrated with Alembic (a throwaway PostgreSQL database is
created next to the URL given, and dropped afterwards) is filled in bulk with ``--licences``
licences (default 100,000), each with its ``follow_ups`` row of kind ``licence-expiry`` (what the
licence service schedules when it grants one), shaped like a service's record after some years:

* ``--due`` licences (default 1,000) whose 30-day reminder fell due a few minutes to two days ago;
* 60% with a next turn ahead (their expiry 31 days to 3 years away);
* the rest with nothing due (no expiry, lapsed or superseded: ``due_at`` NULL).

Tools: one row for each due licence's tool and 4,000 others (a service has thousands of tools,
not a tool per licence). Owners: 5,000 people. PostgreSQL is ANALYZEd after the load, as
autovacuum would; SQLite is not (it never analyses on its own), but its WAL is checkpointed (the
one-transaction load left it hundreds of MB long, which a service's automatic checkpoints never do).

Timings, each the median (and min, max) of ``--runs`` runs after one warm-up run (the connection
and SQLAlchemy's statement cache: a process sweeps every minute); between runs the due rows are
put back as loaded (not timed), so every run claims the same 1,000:

1. **sweep**: the shared sweep (``workflows.followups.sweep.claim_due``) of the licence-expiry
   kind on the store of ``storage.uow``, one transaction, committed: the indexed SELECT of the
   due rows and the 1,000 conditional claims. This is the database cost the goal is about.
2. **sweep and produce**: ``run_follow_ups`` (the ``RunFollowUps`` change's service) in one
   transaction: the same, plus each won item's produce (its licence, the tool's current licence,
   the tool: the 1,000 reminder notices for the owners' DMs). Building the DMs and writing them
   to the outbox are not included (bot/followups/messages.py; one DM per owner).

The database is opened as the bot opens it (``storage.db.open_database``): on SQLite its one
writer, whose commits leave the WAL's checkpoint to a thread (storage/wal_checkpoint.py; inside
the commit, it was what grew from 100,000 to 1,000,000 licences: docs/licences-and-usage.md).
``--keep DIR`` seeds the SQLite files there once (bench-N-DUE.db and its due rows) and reuses them.

Also timed: a sweep when nothing is due, and the query plan of the due query is printed. Then
everything again with ``--scale`` (default 10) times the licences and the same number due.

    python scripts/bench_expiry.py                                          # SQLite
    python scripts/bench_expiry.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python scripts/bench_expiry.py --licences 10000 --scale 1 --runs 3      # a quick look
    python scripts/bench_expiry.py --keep /tmp/bench    # SQLite: seed once, reuse the files after
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
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy import create_engine as create_sync_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.policy_file import parse_policy  # noqa: E402
from scripts.bench_sweep import drop_postgres, fresh_postgres, plan, stats  # noqa: E402
from storage.db import migrate, open_database, urls  # noqa: E402
from storage.tables import FollowUpRow, LicenceRow, ToolRow  # noqa: E402
from storage.uow import uow_factory  # noqa: E402
from tests.slack.harness import CONFIG  # noqa: E402
from workflows.followups.kind import Known  # noqa: E402
from workflows.followups.licence_expiry import LicenceExpiry  # noqa: E402
from workflows.followups.run import FollowUpsDue, run_follow_ups  # noqa: E402
from workflows.followups.sweep import claim_due  # noqa: E402
from workflows.licences import EXPIRY_FOLLOW_UP  # noqa: E402

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
OTHER_TOOLS = 4_000
DUE_QUERY = (
    "SELECT * FROM follow_ups WHERE kind = 'licence-expiry' AND due_at <= '{now}' ORDER BY due_at, subject LIMIT 1000"
)
KINDS = (LicenceExpiry(),)


def batches(rows, size: int = 10_000):
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(licences: int, due: int, seed: int = 7):
    """(licence rows, follow-up rows, tool rows, the due rows' (subject, due_at)), as column dicts."""
    rng = random.Random(seed)
    due_ids = set(rng.sample(range(1, licences + 1), due))
    tool_ids = due_ids | set(rng.sample(range(1, licences + 1), min(OTHER_TOOLS, licences)))
    licence_rows, follow_rows, tool_rows, due_rows = [], [], [], []
    for i in range(1, licences + 1):
        granted = NOW - timedelta(days=rng.uniform(1, 3 * 365))
        roll = rng.random()
        if i in due_ids:
            expires: datetime | None = NOW + timedelta(days=30) - timedelta(minutes=rng.uniform(5, 2 * 24 * 60))
            assert expires is not None
            due_at: datetime | None = expires - timedelta(days=30)
            due_rows.append((i, due_at))
        elif roll < 0.6:
            expires = NOW + timedelta(days=rng.uniform(31, 3 * 365))
            due_at = expires - timedelta(days=30)
        else:
            expires = None if roll < 0.8 else NOW - timedelta(days=rng.uniform(1, 365))
            due_at = None
        owner = f"U{rng.randrange(5000):07d}"
        licence_rows.append(
            {
                "id": i,
                "tool_key": f"tool-{i}",
                "request_ref": f"REQ-{i:04d}",
                "owner": owner,
                "conditions": ["A person checks every match."],
                "scope_kind": "people",
                "scope_people": [owner],
                "scope_groups": [],
                "scope_group_names": [],
                "valid_from": granted,
                "expires_at": expires,
                "list_publicly": False,
                "public_summary": "",
                "renewal_asked_at": None,
                "renewal_ref": None,
                "extended": False,
                "extension_reason": "",
                "lapsed_at": None,
                "note": "",
                "tier": "moderate",
                "granted_by": "U0CHIEF",
                "owner_unit": "",
                "version": 0,
            }
        )
        state = expires.isoformat() if expires is not None else ""
        follow_rows.append({"kind": EXPIRY_FOLLOW_UP, "subject": i, "due_at": due_at, "count": 0, "state": state})
        if i in tool_ids:
            mark = {"status": "approved", "source": f"REQ-{i:04d}", "by": "U0CHIEF", "since": granted.isoformat()}
            tool_rows.append(
                {
                    "key": f"tool-{i}",
                    "name": f"Tool {i}",
                    "decision": mark,
                    "directive": None,
                    "override": None,
                    "status": "approved",
                    "status_since": granted,
                    "created_at": granted,
                    "updated_at": granted,
                    "version": 0,
                }
            )
    return licence_rows, follow_rows, tool_rows, due_rows


def load(url: str, licences: int, due: int) -> tuple[float, list[tuple[int, datetime]]]:
    started = time.perf_counter()
    licence_rows, follow_rows, tool_rows, due_rows = generate(licences, due)
    engine = create_sync_engine(urls(url)[1])
    with engine.begin() as conn:
        for table, rows in ((LicenceRow, licence_rows), (FollowUpRow, follow_rows), (ToolRow, tool_rows)):
            for batch in batches(rows):
                conn.execute(insert(table.__table__), batch)  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('licences_id_seq', (SELECT max(id) FROM licences))"))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE licences; ANALYZE follow_ups; ANALYZE tools"))
        else:  # the load's WAL written back, as SQLite's automatic checkpoints keep it in service
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return time.perf_counter() - started, due_rows


def put_back(url: str, due_rows: list[tuple[int, datetime]]) -> None:
    """The due rows as loaded again (not timed): every run claims the same ones."""
    engine = create_sync_engine(urls(url)[1])
    table = FollowUpRow.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.kind == EXPIRY_FOLLOW_UP, table.c.subject == bindparam("s"))
        .values(due_at=bindparam("d"), count=0)
    )
    with engine.begin() as conn:
        conn.execute(statement, [{"s": s, "d": d} for s, d in due_rows])
    engine.dispose()


async def time_runs(url: str, due_rows, due: int, runs: int, produce: bool) -> list[float]:
    policy = parse_policy(tomllib.loads(CONFIG))
    database = open_database(url)  # as the bot opens it: on SQLite, its one writer and the WAL's checkpoints
    uows = uow_factory(database.sessions, lambda: NOW)
    samples = []
    for k in range(-1, runs):  # run -1 warms the connection and the statement cache: not counted
        put_back(url, due_rows)
        started = time.perf_counter()
        async with uows() as uow:
            if produce:
                events = await run_follow_ups(uow, policy, NOW, Known(), 1000, KINDS)
                won = len(events[0].notices) if events and isinstance(events[0], FollowUpsDue) else 0
            else:
                won = len(await claim_due(uow.reminders(policy.reminders), policy, NOW, limit=1000, kinds=KINDS))
            await uow.commit()
        if k >= 0:
            samples.append(time.perf_counter() - started)
        assert won == due, f"run {k}: {won} won, expected {due}"
    idle = []
    for _ in range(5):  # just after the last run: nothing due
        started = time.perf_counter()
        async with uows() as uow:
            assert await claim_due(uow.reminders(policy.reminders), policy, NOW, limit=1000, kinds=KINDS) == []
            await uow.commit()
        idle.append(time.perf_counter() - started)
    await database.dispose()
    return samples + [statistics.median(idle)]


def seeded(url: str, licences: int, due: int, keep: Path | None) -> tuple[str, list[tuple[int, datetime]]]:
    """Migrate and load, or with ``keep`` reuse the SQLite file (and its due rows) a previous run seeded."""
    sidecar = Path(url.removeprefix("sqlite:///") + ".due.json") if keep is not None else None
    migrate(url)  # a reused file is brought to head too
    if sidecar is not None and sidecar.exists():
        due_rows = [(s, datetime.fromisoformat(d)) for s, d in json.loads(sidecar.read_text())]
        return "reused", due_rows
    seconds, due_rows = load(url, licences, due)
    if sidecar is not None:
        sidecar.write_text(json.dumps([(s, d.isoformat()) for s, d in due_rows]))
    return f"loaded in {seconds:.1f} s", due_rows


async def bench(label: str, url: str, licences: int, due: int, runs: int, keep: Path | None = None) -> float:
    how, due_rows = seeded(url, licences, due, keep)
    print(f"\n{label}: {licences:,} licences, {due:,} due ({how})")
    print(f"  due query plan:\n{plan(url, DUE_QUERY)}")
    *sweeps, idle = await time_runs(url, due_rows, due, runs, produce=False)
    print(f"  sweep (select due + {due:,} claims, one transaction):       {stats(sweeps)}")
    *produced, _ = await time_runs(url, due_rows, due, runs, produce=True)
    print(f"  sweep and produce ({due:,} reminder notices, one transaction): {stats(produced)}")
    print(f"  sweep with nothing due:                                 median {idle * 1000:7.1f} ms")
    return statistics.median(sweeps)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL; a throwaway database is created next to it")
    parser.add_argument("--licences", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=int, default=10, help="then again with this many times the licences")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, help="SQLite: seed bench-N.db here once, reuse it on later runs")
    args = parser.parse_args()
    sizes = [args.licences] + ([args.licences * args.scale] if args.scale > 1 else [])
    medians: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    for size in sizes:
        if not args.skip_sqlite:
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                url = f"sqlite:///{args.keep / f'bench-{size}-{args.due}.db'}"
                medians["SQLite"].append(await bench("SQLite", url, size, args.due, args.runs, args.keep))
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                    medians["SQLite"].append(await bench("SQLite", url, size, args.due, args.runs))
        if args.postgres:
            url, admin = fresh_postgres(args.postgres)
            try:
                medians["PostgreSQL"].append(await bench("PostgreSQL", url, size, args.due, args.runs))
            finally:
                drop_postgres(url, admin)
    for label, found in medians.items():
        if len(found) == 2:
            print(f"\n{label}: ×{args.scale} licences -> sweep ×{found[1] / found[0]:.2f} time (goal < ×1.5)")


if __name__ == "__main__":
    asyncio.run(main())
