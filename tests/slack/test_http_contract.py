"""The HTTP endpoint: signatures, health, and bad input that must never become a 500."""

from __future__ import annotations

import json
import time

import pytest

from bot.ids import ActionId
from tests.fakes.signing import FORM, JSON, block_action, form_payload, slash_command, url_verification


async def test_health_answers_once_the_bot_takes_requests(bot):
    response = await bot.http.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "how",
    [
        {"signed": False},
        {"secret": "not-the-secret"},
        {"timestamp": int(time.time()) - 6 * 60},  # stale: over 5 minutes old
    ],
)
async def test_unsigned_or_stale_requests_get_401_and_do_nothing(bot, slack, how):
    body, content_type = slash_command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
    response = await bot.http.send(body, content_type, **how)
    assert response.status_code == 401
    action, action_type = form_payload(block_action(ActionId.APPROVE, '{"r":1,"s":"it_security"}', "U0SEC1"))
    assert (await bot.http.send(action, action_type, **how)).status_code == 401
    await bot.settle()
    assert slack.calls_to("views.open") == []
    assert slack.calls_to("chat.postMessage") == []


async def test_a_fresh_signature_is_accepted(bot, slack):
    body, content_type = slash_command("/request-tool", "", "U0OFFICER", trigger_id="1.2.3")
    assert (await bot.http.send(body, content_type, timestamp=int(time.time()) - 60)).status_code == 200
    await slack.wait_for("views.open")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot-json", FORM),
        (b"payload=%5B1%2C2%5D", FORM),  # JSON, but not an object
        (b"\xff\xfe garbage", FORM),
        (b"{not json", JSON),
        (
            json.dumps(
                {"type": "block_actions", "actions": [{"action_id": ActionId.APPROVE, "value": "nope"}]}
            ).encode(),
            JSON,
        ),
        (
            form_payload(
                {"type": "block_actions", "user": {"id": "U0SEC1"}, "actions": [{"action_id": ActionId.APPROVE}]}
            )[0],
            FORM,
        ),
        (
            form_payload({"type": "view_submission", "user": {"id": "U0X"}, "view": {"callback_id": "review-reason"}})[
                0
            ],
            FORM,
        ),
        (form_payload({"type": "something_new"})[0], FORM),
        (json.dumps({"type": "event_callback", "event": {"type": "unknown_event"}, "event_id": "Ev9"}).encode(), JSON),
    ],
)
async def test_malformed_or_unknown_payloads_get_a_4xx_or_a_harmless_200(bot, slack, body, content_type):
    response = await bot.http.send(body, content_type)
    assert response.status_code in (200, 400, 404), response.status_code
    # And the bot is still up and working.
    assert (await bot.http.client.get("/healthz")).status_code == 200
    await bot.request_tool()


async def test_url_verification_is_answered(bot):
    body = json.dumps(url_verification(challenge="abc123")).encode()
    response = await bot.http.send(body, JSON)
    assert response.status_code == 200 and "abc123" in response.text


async def test_wrong_paths_and_methods(bot):
    assert (await bot.http.client.get("/slack/events")).status_code == 405
    assert (await bot.http.client.get("/nope")).status_code == 404


async def test_slack_is_answered_before_slow_work_is_done(bot, slack):
    """The ack never waits for Slack's Web API: a slow views.open or chat.update comes after it."""
    slack.delays["views.open"] = 0.5
    response = await bot.http.command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
    assert response.status_code == 200
    assert slack.calls_to("views.open") == []  # still being opened after Slack got its answer
    await slack.wait_for("views.open")

    slack.delays.clear()
    await bot.request_tool()
    slack.delays["chat.update"] = slack.delays["chat.postMessage"] = 0.5
    card = bot.card("C0ITSEC")
    response = await bot.click(card, ActionId.APPROVE, "U0SEC1")
    assert response.status_code == 200
    async with bot.c.uow() as uow:  # the decision is already stored…
        assert (await uow.requests.for_requester("U0OFFICER"))[0].decisions
    assert slack.calls_to("chat.update") == []  # …while its messages are still on their way
    await bot.settle()
    assert bot.card("C0ITSEC").buttons == {}
