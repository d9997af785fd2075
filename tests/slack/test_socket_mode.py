"""Socket Mode: the same flow over a WebSocket the bot opens to (fake) Slack."""

from __future__ import annotations

import pytest

from bot.messages.ids import ActionId
from bot.wiring.runtime import Clearance, socket_mode_handler
from tests.fakes.signing import block_action, slash_command_fields, view_submission
from tests.slack.harness import Bot, form_values, settings_for


@pytest.fixture
async def socket_bot(slack, database_url, tmp_path):
    c = Clearance(settings_for(slack, database_url, tmp_path, SLACK_APP_TOKEN="xapp-test"))
    c.sender.poll_seconds = 0.05
    await c.start()
    handler = socket_mode_handler(c)
    await handler.connect_async()
    await slack.socket_connected.wait()
    yield Bot(c, None, slack)
    await handler.close_async()
    await c.stop()


async def test_request_and_decision_through_socket_mode(socket_bot, slack):
    bot = socket_bot
    ack = await slack.socket_send(
        "slash_commands", slash_command_fields("/request-tool", "Clearview AI", "U0OFFICER", trigger_id="1.2.3")
    )
    assert "envelope_id" in ack
    view = (await slack.wait_for("views.open"))[0].args["view"]
    assert view["callback_id"] == "request-form"

    ack = await slack.socket_send("interactive", view_submission("request-form", form_values(), "U0OFFICER"))
    assert not (ack.get("payload") or {}).get("errors")
    await bot.settle()
    card = bot.card("C0ITSEC")
    assert ActionId.APPROVE in card.buttons

    button = card.buttons[ActionId.APPROVE]
    await slack.socket_send(
        "interactive",
        block_action(ActionId.APPROVE, button["value"], "U0SEC1", channel_id="C0ITSEC", message_ts=card.ts),
    )
    await bot.settle()
    assert bot.card("C0ITSEC").buttons == {}
    assert ActionId.APPROVE in bot.card("C0PRIV").buttons


async def test_invalid_form_errors_come_back_over_the_socket(socket_bot, slack):
    ack = await slack.socket_send("interactive", view_submission("request-form", form_values(purpose="x"), "U0OFFICER"))
    assert ack["payload"]["response_action"] == "errors"
    assert "purpose" in ack["payload"]["errors"]


async def test_a_payload_from_another_workspace_is_refused_over_the_socket(socket_bot, slack):
    """Socket Mode payloads are not signed; the installed team (auth.test) is what tells ours apart."""
    await socket_bot.c.identity.check()
    await slack.socket_send(
        "slash_commands", slash_command_fields("/request-tool", "Clearview AI", "U0OFFICER", team_id="T0OTHER")
    )
    await slack.socket_send(
        "slash_commands", slash_command_fields("/request-tool", "Clearview AI", "U0OFFICER", trigger_id="4.5.6")
    )
    opened = await slack.wait_for("views.open")
    assert [call.args["trigger_id"] for call in opened] == ["4.5.6"]  # only our own workspace's command
