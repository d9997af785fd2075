"""How long a reviewer waits between clicking Approve and Slack getting its acknowledgement.

Method: start the real bot (`python -m bot.cli serve`, uvicorn, a separate process) on a fresh
database, with SLACK_API_URL pointing at the fake Slack Web API of the tests (in this process,
on loopback). Submit N requests through signed view_submission requests, wait for their review
cards, then send one signed block_actions Approve click per card, one after another, exactly as
Slack would (form-encoded, v0 signature), and time each HTTP round trip on the client side with
time.perf_counter(): that is the click's acknowledgement time as Slack measures it, and it
includes storing the decision and its outbox messages (committed before the response). The
bot's outbox sender keeps delivering card updates and DMs to the fake in the background while
the clicks go on, as in production.

    python scripts/bench_click_ack.py                 # SQLite, 300 clicks
    python scripts/bench_click_ack.py --postgres postgresql://postgres@127.0.0.1:5432/test -n 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.fake_slack import FakeSlack  # noqa: E402
from tests.fakes.signing import SlackHttp, block_action, view_submission  # noqa: E402
from tests.serving import Serve, serve_env  # noqa: E402
from tests.slack.harness import CONFIG, SECRET, form_values  # noqa: E402


async def main(n: int, postgres: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="clearance-bench-"))
    (workdir / "clearance.toml").write_text(CONFIG)
    admin_url, db_name = None, None
    if postgres:
        db_name = f"clearance_bench_{uuid.uuid4().hex[:8]}"
        admin_url = make_url(postgres).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        database_url = make_url(admin_url).set(database=db_name).render_as_string(hide_password=False)
    else:
        database_url = f"sqlite:///{workdir / 'bench.db'}"

    async with FakeSlack() as slack:
        slack.usergroups["S0SECGRP"] = ["U0SEC2"]
        env = serve_env(
            api_url=slack.api_url, secret=SECRET, database_url=database_url, config=workdir / "clearance.toml"
        )
        server = Serve("bench", workdir, env)
        await server.start()
        try:
            await server.healthy()
            async with SlackHttp(SECRET, base_url=server.url) as http:
                for i in range(n):
                    payload = view_submission("request-form", form_values(tool_name=f"Tool {i}"), f"U0OFF{i:04d}")
                    assert (await http.submit(payload)).status_code == 200
                cards = await slack.wait_for(
                    "chat.postMessage", count=n, timeout=120, where=lambda c: c.args.get("channel") == "C0ITSEC"
                )
                timings = []
                for call in cards:
                    button = next(
                        e
                        for b in call.args["blocks"]
                        for e in b.get("elements", [])
                        if e.get("action_id") == "review-approve"
                    )
                    click = block_action(
                        "review-approve",
                        button["value"],
                        "U0SEC1",
                        channel_id="C0ITSEC",
                        message_ts=call.response["ts"],
                    )
                    started = time.perf_counter()
                    response = await http.action(click)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
            await slack.wait_for(
                "chat.postMessage", count=n, timeout=120, where=lambda c: c.args.get("channel") == "C0PRIV"
            )
        finally:
            await server.stop()
    if postgres:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    timings.sort()
    result = {
        "database": "postgresql" if postgres else "sqlite",
        "clicks": len(timings),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "worst_ms": round(timings[-1], 2),
        "best_ms": round(timings[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="number of clicks (default 300)")
    parser.add_argument("--postgres", help="a PostgreSQL URL; a throwaway database is created next to it")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.postgres))
