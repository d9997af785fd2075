"""Logs help operators without exposing anyone: no secrets, no words people typed."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.messages.ids import ActionId
from bot.wiring.logs import describe_payload
from tests.fakes.clock import ManualClock
from tests.fakes.signing import FORM, SlackHttp, form_payload
from tests.serving import Serve, serve_env
from tests.slack.harness import CONFIG, SECRET

SECRET_PURPOSE = "Find the informant Jane Doe at 12 Elm Street"


async def test_logs_carry_no_secrets_or_personal_data(bot, slack, caplog):
    caplog.set_level(logging.DEBUG, logger="clearance")
    caplog.set_level(logging.INFO)
    slack.fail_next("chat.postMessage", status=503)
    slack.channel_errors["C0PRIV"] = "channel_not_found"  # a permanent failure gets logged too
    await bot.request_tool(tool_name="Secret Tool Name", purpose=SECRET_PURPOSE)
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.http.send(*form_payload({"type": "block_actions", "actions": [{"action_id": "x"}]}))
    await bot.http.send(b"payload=%7Bbroken", FORM)
    await bot.settle()
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "channel_not_found" in logged and "503" in logged  # the operator learns what went wrong
    for private in (SECRET, "xoxb-test", "Secret Tool Name", "Jane Doe", "12 Elm Street"):
        assert private not in logged


async def test_errors_and_unknown_payloads_name_the_command_or_action_not_the_words(bot, slack, caplog):
    caplog.set_level(logging.INFO)
    slack.fail_next("views.open", status=200, error="internal_error")
    await bot.http.command("/request-tool", "Secret Tool Name", "U0OFFICER")
    await bot.http.send(*form_payload({"type": "block_actions", "actions": [{"action_id": "x"}]}))
    await bot.settle()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("error in slash command /request-tool" in line for line in logged), logged
    assert any(line.startswith("block_actions x ") and "no listener for its id" in line for line in logged), logged
    assert not any("Secret Tool Name" in line for line in logged)


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(
    ("sample", "described"),
    [
        ("slash_command.docs.txt", "slash command /weather"),
        ("block_actions.message_button.bolt_tests.json", "block_actions a"),
        ("view_submission.bolt_tests.json", "view_submission view-id"),
        ("event.reaction_added.docs.json", "event reaction_added"),
    ],
)
def test_payloads_are_described_by_their_ids_only(sample, described):
    raw = (SAMPLES / sample).read_text()
    body = dict(parse_qsl(raw)) if sample.endswith(".txt") else json.loads(raw)
    assert describe_payload(body) == described
    # Anything that is not an id (spaces, markup, a typed sentence) is never echoed.
    assert describe_payload({"command": "/x <!channel> Jane Doe"}) == "slash command ?"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_serve_logs_in_one_format_with_no_warnings_on_a_normal_start(slack, tmp_path, log_format):
    (tmp_path / "clearance.toml").write_text(CONFIG)
    env = serve_env(api_url=slack.api_url, secret=SECRET)
    if log_format == "json":
        env["CLEARANCE_LOG_FORMAT"] = "json"
    server = Serve(log_format, tmp_path, env)
    await server.start()
    try:
        await server.healthy()
        async with SlackHttp(SECRET, base_url=server.url) as http:
            assert (await http.command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")).is_success
        await slack.wait_for("views.open")
    finally:
        await server.stop()
    lines = (await server.output()).splitlines()
    if log_format == "json":
        entries = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all({"time", "level", "logger", "message"} <= set(e) for e in entries), entries
        seen = [(e["level"], e["logger"], e["message"]) for e in entries]
    else:
        matches = [TEXT_LINE.fullmatch(line) for line in lines]
        assert all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
        seen = [m.groups() for m in matches]
    loggers = {logger for _, logger, _ in seen}
    assert {"uvicorn", "clearance", "alembic.runtime.migration"} <= loggers, loggers  # uvicorn's lines too
    assert any(message.startswith("Finished server process") for _, _, message in seen)
    assert [line for line in seen if line[0] != "INFO"] == []  # no warnings (Bolt's "token will be unused")


TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): (.*)")


def test_even_at_debug_slacks_libraries_do_not_log_payloads():
    """slack_bolt and slack_sdk log whole request and response bodies at DEBUG: what people typed."""
    from bot.wiring.logs import configure_logging

    root = logging.getLogger()
    before = (root.level, [h for h in root.handlers])
    try:
        configure_logging("text", "DEBUG")
        assert root.level == logging.DEBUG
        for name in ("slack_bolt", "slack_sdk", "slack_sdk.web.async_base_client"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        assert logging.getLogger("slack_sdk").isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(before[0])
        for handler in root.handlers[:]:
            if handler.get_name() == "clearance":
                root.removeHandler(handler)


def test_a_loop_failing_while_the_database_is_down_logs_a_line_a_minute_not_a_flood(caplog):
    from bot.wiring.logs import LoopFailures

    clock = ManualClock(seconds=0.0)
    failures = LoopFailures(logging.getLogger("clearance.test"), "the outbox sweep", clock=clock.monotonic)
    caplog.set_level(logging.INFO, logger="clearance.test")
    for second in range(130):  # a sweep a second for over two minutes
        clock.advance(1 if second else 0)
        try:
            raise ConnectionRefusedError("the database is gone")
        except ConnectionRefusedError:
            failures.failed()
    failures.worked()
    lines = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert lines == [
        ("ERROR", "the outbox sweep failed; trying again shortly", True),  # the first, with its traceback
        ("WARNING", "the outbox sweep still failing (61 times so far)", False),
        ("WARNING", "the outbox sweep still failing (121 times so far)", False),
        ("INFO", "the outbox sweep works again, after 130 failure(s)", False),
    ]
