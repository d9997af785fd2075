"""GET /healthz tells the truth about the database and Slack, and recovers by itself.

The database is cut for real: PostgreSQL through a TCP proxy that is closed and reopened, SQLite
by making its file read-only. Slack is the fake, rejecting the token or not answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.fakes.clock import ManualClock
from tests.fakes.signing import SlackHttp, view_submission
from tests.fakes.tcp_proxy import TcpProxy
from tests.slack.harness import SECRET, form_values, start_bot, stop_bot

OK = {"status": "ok"}


@contextlib.asynccontextmanager
async def cuttable(database_url: str):
    """(url for the bot, cut(), restore()) for the database behind `database_url`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield database_url, *_read_only_switch(Path(url.database))
        return
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        yield proxied, proxy.cut, proxy.restore


def _read_only_switch(path: Path):
    root = os.geteuid() == 0  # root ignores file modes: make the file immutable as well

    def make_read_only() -> bool:
        path.chmod(0o444)
        if root and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            path.chmod(0o644)
            return False
        return True

    def make_writable() -> None:
        if root:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o644)

    async def cut():
        if not await asyncio.to_thread(make_read_only):
            pytest.skip("running as root without chattr: a read-only file cannot be simulated")

    async def restore():
        await asyncio.to_thread(make_writable)

    return cut, restore


async def test_health_is_503_with_the_reason_while_the_database_is_cut_and_200_once_it_is_back(
    slack, database_url, tmp_path
):
    async with cuttable(database_url) as (url, cut, restore):
        bot = await start_bot(slack, url, tmp_path)
        clock = ManualClock()
        http = SlackHttp(SECRET, app=bot.c.asgi(monotonic=clock.monotonic))
        try:
            assert (await http.client.get("/healthz")).json() == OK
            await cut()
            try:
                # Within the cache period the last probe stands: health checks do not hammer the database.
                assert (await http.client.get("/healthz")).status_code == 200
                clock.advance(2)
                response = await http.client.get("/healthz")
                assert response.status_code == 503
                health = response.json()
                assert health["status"] == "unavailable" and health["slack"] == "ok"
                assert health["database"].startswith(("unreachable: ", "unwritable: ")), health
            finally:
                await restore()
            clock.advance(2)
            response = await http.client.get("/healthz")
            assert (response.status_code, response.json()) == (200, OK)
        finally:
            await http.aclose()
            await stop_bot(bot)


async def test_a_write_that_could_not_connect_while_cut_does_not_hold_health_at_503_once_it_is_back(
    slack, database_url, tmp_path
):
    """A click (or a background sweep) met the cut: it could not connect, which is the server gone,
    not a refused write; once the database is back the probe's 200 stands, with no write needed.
    PostgreSQL only: a SQLite file always opens, so its failures are statements refused (held at
    503 until a write succeeds, tests/slack/test_health_writes.py)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite connection cannot fail to connect")
    async with cuttable(database_url) as (url, cut, restore):
        bot = await start_bot(slack, url, tmp_path)
        clock = ManualClock()
        http = SlackHttp(SECRET, app=bot.c.asgi(monotonic=clock.monotonic))
        try:
            await cut()
            try:
                await http.command("/request-tool", "Clearview AI", "U0OFFICER")
                view = (await slack.wait_for("views.open"))[-1].args["view"]
                submitted = await http.submit(view_submission(view["callback_id"], form_values(), "U0OFFICER"))
                assert submitted.status_code in (200, 503)  # told at once, nothing stored
            finally:
                await restore()
            clock.advance(2)
            response = await http.client.get("/healthz")
            assert (response.status_code, response.json()) == (200, OK)
        finally:
            await http.aclose()
            await stop_bot(bot)


async def test_a_token_slack_rejects_makes_health_503_and_is_logged(slack, database_url, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="clearance")
    slack.rejected_tokens["xoxb-test"] = "invalid_auth"
    bot = await start_bot(slack, database_url, tmp_path)
    try:
        response = await bot.http.client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "ok", "slack": "token rejected (invalid_auth)"}
        logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in logged and "xoxb-test" not in logged
    finally:
        await stop_bot(bot)


async def test_a_token_revoked_while_running_loses_no_message_and_health_says_so(slack, database_url, tmp_path):
    """Slack accepted the token at start, then revokes it: the card waits in the outbox (not failed
    for good), /healthz says 503 and why, and once Slack takes the token again the card goes out."""

    def quick(c):
        c.identity.backoff = (0.2,)
        c.sender.token_wait = timedelta(seconds=0.2)

    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        await bot.http.command("/request-tool", "Clearview AI", "U0OFFICER")
        view = (await slack.wait_for("views.open"))[-1].args["view"]
        slack.rejected_tokens["xoxb-test"] = "token_revoked"  # revoked while the officer fills the form
        submitted = await bot.http.submit(view_submission(view["callback_id"], form_values(), "U0OFFICER"))
        assert submitted.status_code == 200 and submitted.text in ("", "null")  # stored all the same
        for _ in range(50):
            if (await bot.http.client.get("/healthz")).status_code == 503:
                break
            await asyncio.sleep(0.05)
        response = await bot.http.client.get("/healthz")
        assert (response.status_code, response.json()["slack"]) == (503, "token rejected (token_revoked)")
        assert await bot.c.outbox.failures() == [] and (await bot.c.outbox.counts()).get("pending")
        del slack.rejected_tokens["xoxb-test"]  # the token works again
        await slack.wait_for("chat.postMessage", where=lambda call: call.args.get("channel") == "C0ITSEC", timeout=45)
        assert (await bot.http.client.get("/healthz")).status_code == 200
    finally:
        await stop_bot(bot)


@pytest.mark.parametrize("fault", ["HTTP 503", "ServerDisconnectedError"])
async def test_an_unreachable_slack_is_retried_in_the_background_and_health_says_so(
    slack, database_url, tmp_path, caplog, fault
):
    caplog.set_level(logging.INFO, logger="clearance")
    for _ in range(3):  # the first check and two retries fail
        if fault == "HTTP 503":
            slack.fail_next("auth.test", status=503)
        else:
            slack.drop_next("auth.test")

    def quick_retries(c):
        c.identity.backoff = (0.2, 0.05)

    bot = await start_bot(slack, database_url, tmp_path, configure=quick_retries)
    try:
        response = await bot.http.client.get("/healthz")
        assert (response.status_code, response.json()) == (
            200,  # still taking requests: their messages wait in the outbox
            {"status": "degraded", "database": "ok", "slack": f"unreachable ({fault}), retrying"},
        )
        await slack.wait_for("auth.test")  # answered on the fourth attempt…
        for _ in range(100):  # …and taken in
            if (await bot.http.client.get("/healthz")).json() == OK:
                break
            await asyncio.sleep(0.01)
        assert (await bot.http.client.get("/healthz")).json() == OK
        assert bot.c.identity.team_id == "T0TEAM"
        messages = [r.getMessage() for r in caplog.records if r.name == "clearance.slack"]
        assert len([m for m in messages if "not reachable" in m]) == 1  # once, not per retry
        assert any("accepted the bot token again" in m for m in messages)
    finally:
        await stop_bot(bot)
