"""What each SQL statement of a submission costs: statements per click and thread CPU per statement.

    PYTHONPATH=. .venv/bin/python scripts/statement_cpu.py [--requests 300] [--database-url URL]

Runs the real bot over signed HTTP against the fake Slack (tests/slack/harness.py) in this process,
sends `--requests` request forms 16 at a time, then prints, per statement shape, how many ran, how
many rows they carried and the thread CPU they took between SQLAlchemy's before/after cursor events.

Why thread CPU and not a profile: Python's sqlite3 module lets go of the GIL while SQLite works, so
`py-spy --gil` does not see SQLite's own time. On SQLite most statements run in place on the event
loop (storage/db.py's OneHopConnection), and their thread CPU is theirs alone. A statement that
waits (BEGIN IMMEDIATE and COMMIT go to aiosqlite's thread, every PostgreSQL statement awaits the
network) also counts whatever the event loop ran meanwhile: read those rows as upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from storage.db import migrate  # noqa: E402
from tests.fakes.fake_slack import FakeSlack  # noqa: E402
from tests.fakes.signing import view_submission  # noqa: E402
from tests.slack.harness import form_values, start_bot, stop_bot  # noqa: E402

COUNT: Counter[str] = Counter()
ROWS: Counter[str] = Counter()
CPU: Counter[str] = Counter()


def _shape(statement: str, many: bool) -> str:
    return " ".join(statement.split()[:3])[:48] + (" [many]" if many else "")


@event.listens_for(Engine, "before_cursor_execute")
def _before(conn, _cursor, _statement, _parameters, _context, _many) -> None:
    conn.info["statement_cpu_started"] = time.thread_time()


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn, _cursor, statement, parameters, _context, many) -> None:
    started = conn.info.pop("statement_cpu_started", None)
    if started is None:
        return
    shape = _shape(statement, many)
    COUNT[shape] += 1
    ROWS[shape] += len(parameters) if many else 1
    CPU[shape] += time.thread_time() - started


async def run(requests: int, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="statement-cpu-"))
    url = database_url or f"sqlite+aiosqlite:///{folder}/clearance.db"
    migrate(url)
    async with FakeSlack() as slack:
        bot = await start_bot(slack, url, folder)
        for counted in (COUNT, ROWS, CPU):  # the start-up's own statements are not the clicks'
            counted.clear()
        try:
            lanes = asyncio.Semaphore(16)

            async def submit(i: int) -> None:
                body = view_submission("request-form", form_values(tool_name=f"Tool {i}"), f"U0OFF{i % 16:03d}")
                async with lanes:
                    response = await bot.http.submit(body)
                assert response.status_code == 200, response.text

            await asyncio.gather(*(submit(i) for i in range(requests)))
            await bot.settle(60)
        finally:
            await stop_bot(bot)
    print(f"{requests} submissions, 16 at once, {url.split(':')[0]}")
    print(f"{'per click':>9} {'rows/click':>10} {'µs each':>9} {'µs/click':>9}  statement")
    for shape, cpu in CPU.most_common():
        if COUNT[shape] * 50 < requests:  # the odd background statement
            continue
        each, per_click = cpu / COUNT[shape] * 1e6, cpu / requests * 1e6
        print(f"{COUNT[shape] / requests:9.2f} {ROWS[shape] / requests:10.2f} {each:9.1f} {per_click:9.1f}  {shape}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=300)
    parser.add_argument("--database-url", help="a migrated-on-the-fly database; a fresh SQLite file if not given")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.database_url))
