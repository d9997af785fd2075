"""Trap 8 of issue 22: an answer that cannot be delivered is a warning saying what was not
delivered, and never holds up or fails the acknowledgement."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.slack.harness import start_bot, stop_bot


class Unreachable:
    """Stands in for FakeSlack where Slack's Web API cannot be reached at all (a closed port)."""

    api_url = "http://127.0.0.1:1/api/"


async def test_with_slack_unreachable_a_slash_command_is_still_answered_and_nothing_is_an_error(
    database_url, tmp_path, caplog
):
    """Bolt's own auth.test on the first request (with slack_sdk's ~1 s retry) failed every slash
    command as "unhandled error … ClientConnectorError" with no answer; now it is answered."""
    caplog.set_level(logging.INFO)
    bot = await start_bot(Unreachable(), database_url, tmp_path)  # type: ignore[arg-type]
    try:
        response = await bot.http.command("/tool-status", "Clearview", "U0OFFICER", response_url="http://127.0.0.1:1/r")
        await bot.c.tasks.done()
    finally:
        await stop_bot(bot)
    assert response.status_code == 200
    assert "Clearview" in response.json()["text"]  # the status of record, from the database
    assert [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(("clearance.app", "clearance.listeners", "slack_bolt")) and r.levelno >= logging.ERROR
    ] == []


@pytest.fixture
async def hanging_response_url():
    """A response_url that takes the connection, then holds it until `release` is set and closes it
    unanswered (a network error, after the fact)."""
    connected, release = asyncio.Event(), asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/commands/T0TEAM/1/x", connected, release
    release.set()
    server.close()
    await server.wait_closed()


async def test_an_answer_through_an_unreachable_response_url_comes_after_the_ack_and_is_a_warning(
    bot, slack, hanging_response_url, caplog
):
    url, connected, release = hanging_response_url
    slack.fail_next("views.open", status=200, error="internal_error")  # so the answer goes by response_url
    caplog.set_level(logging.INFO)
    response = await bot.http.command("/request-tool", "Clearview", "U0OFFICER", response_url=url)
    assert response.status_code == 200  # acked...
    await asyncio.wait_for(connected.wait(), 5)
    assert not release.is_set()  # ...while the response_url attempt had not finished
    release.set()
    await bot.c.tasks.done()
    warnings = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "response_url" in r.getMessage()
    ]
    assert warnings == [
        "the answer to slash command /request-tool was not delivered through its response_url "
        "(ServerDisconnectedError); it may have arrived, so it is not sent again"
    ]
    assert not any("unhandled error" in r.getMessage() for r in caplog.records)
    assert url not in caplog.text and "xoxb" not in caplog.text
