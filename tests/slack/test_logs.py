"""Logs help operators without exposing anyone: no secrets, no words people typed."""

from __future__ import annotations

import logging

from bot.ids import ActionId
from tests.fakes.signing import FORM, form_payload
from tests.slack.harness import SECRET

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
