"""The listener table: a click or form reaches the listener registered for its id, whatever the order
of registration; an id nobody registered goes to `otherwise`, else is "no listener", as with Bolt alone."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.authorization import AuthorizeResult

from bot.wiring.listener_table import ListenerTable
from tests.fakes.signing import FORM, block_action, view_submission


async def _authorize(enterprise_id, team_id, user_id):  # no auth.test: nothing here talks to Slack
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-test", bot_user_id="U0BOT")


def _app(heard: list[str]) -> AsyncApp:
    app = AsyncApp(
        signing_secret="unused", authorize=_authorize, request_verification_enabled=False, process_before_response=True
    )
    table = ListenerTable()

    def listener(name: str):
        async def heard_it(ack, body) -> None:
            heard.append(name)
            await ack()

        return heard_it

    table.command("/first")(listener("/first"))
    for action_id in ("approve", "reject", "acknowledge"):
        table.action(action_id)(listener(action_id))
    table.view("request-form")(listener("request-form"))
    table.install(app)
    return app


async def _send(app: AsyncApp, payload: dict) -> int:
    body = urlencode({"payload": json.dumps(payload)})
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers={"content-type": [FORM]}))
    return response.status


@pytest.mark.parametrize("action_id", ["approve", "reject", "acknowledge"])
async def test_a_click_reaches_the_listener_of_its_button(action_id):
    heard: list[str] = []
    assert await _send(_app(heard), block_action(action_id, "1", "U0A")) == 200
    assert heard == [action_id]


async def test_a_form_reaches_the_listener_of_its_callback_id_and_commands_still_reach_bolt():
    heard: list[str] = []
    app = _app(heard)
    assert await _send(app, view_submission("request-form", {}, "U0A")) == 200
    command = urlencode({"command": "/first", "text": "", "user_id": "U0A", "team_id": "T0A"})
    response = await app.async_dispatch(AsyncBoltRequest(body=command, headers={"content-type": [FORM]}))
    assert response.status == 200 and heard == ["request-form", "/first"]


async def test_an_id_nobody_registered_is_no_listener():
    heard: list[str] = []
    app = _app(heard)
    assert await _send(app, block_action("approve-not", "1", "U0A")) == 404  # a prefix is not a match
    assert await _send(app, block_action("approve\n", "1", "U0A")) == 404
    assert await _send(app, view_submission("other-form", {}, "U0A")) == 404
    assert heard == []


async def test_otherwise_takes_every_click_and_form_nobody_else_takes():
    heard: list[str] = []
    app = AsyncApp(
        signing_secret="unused", authorize=_authorize, request_verification_enabled=False, process_before_response=True
    )
    table = ListenerTable()

    async def approve(ack, body) -> None:
        heard.append("approve")
        await ack()

    async def otherwise(ack, body) -> None:
        heard.append(body.get("actions", [{}])[0].get("action_id") or body["view"]["callback_id"])
        await ack()

    table.action("approve")(approve)
    table.otherwise(otherwise)
    table.install(app)
    assert await _send(app, block_action("approve", "1", "U0A")) == 200
    assert await _send(app, block_action("approve-old", "1", "U0A")) == 200
    assert await _send(app, view_submission("old-form", {}, "U0A")) == 200
    assert heard == ["approve", "approve-old", "old-form"]


def test_two_listeners_for_one_id_are_refused_at_start():
    table = ListenerTable()
    table.action("approve")(lambda ack, body: None)
    with pytest.raises(ValueError, match="approve"):
        table.action("approve")(lambda ack, body: None)
