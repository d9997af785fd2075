"""Self-tests of the fake Slack Web API and the signed-request builders.

They drive the fake with slack_sdk's real clients, so a passing run also documents how
slack_sdk behaves against it (JSON vs form bodies, how 429/5xx/network errors surface).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import signing
from tests.fakes.fake_slack import BOT_USER_ID, FakeSlack

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Request* pending"}}
MODAL = {
    "type": "modal",
    "callback_id": "request",
    "title": {"type": "plain_text", "text": "New request"},
    "submit": {"type": "plain_text", "text": "Submit"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Technology"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


# ------------------------------------------------------------------ messages


async def test_post_message_then_update_round_trip(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C1", text="pending", blocks=[SECTION])
    assert posted["channel"] == "C1"
    assert posted["message"]["bot_id"] == "B0BOT"
    ts = posted["ts"]

    updated_block = {"type": "section", "text": {"type": "mrkdwn", "text": "*Request* approved"}}
    updated = await client.chat_update(channel="C1", ts=ts, text="approved", blocks=[updated_block])
    assert updated["ts"] == ts

    [post] = slack.calls_to("chat.postMessage")
    assert post.token == "xoxb-test"  # sent as JSON, token in the Authorization header
    assert post.args["blocks"] == [SECTION]
    assert slack.message("C1", ts)["blocks"] == [updated_block]
    assert [m["text"] for m in slack.messages_in("C1")] == ["approved"]
    assert slack.invalid == []

    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="C1", ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"


async def test_dm_channel_timestamps_and_permalink(slack: FakeSlack, client: AsyncWebClient) -> None:
    first = await client.chat_postMessage(channel="U123", text="hi")
    second = await client.chat_postMessage(channel="U123", text="again")
    opened = await client.conversations_open(users="U123")
    dm = opened["channel"]["id"]
    assert dm.startswith("D") and "U123" not in dm  # the DM's own id, as in Slack
    assert first["channel"] == second["channel"] == dm and slack.messages_in("U123") == []
    assert float(second["ts"]) > float(first["ts"])
    link = await client.chat_getPermalink(channel=dm, message_ts=first["ts"])  # a GET
    assert link["permalink"] == f"https://test.slack.com/archives/{dm}/p{first['ts'].replace('.', '')}"


async def test_form_body_with_json_strings_is_decoded(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.api_call("chat.postMessage", data={"channel": "C1", "text": "t", "blocks": json.dumps([SECTION])})
    [call] = slack.calls_to("chat.postMessage")
    assert call.args["blocks"] == [SECTION]


async def test_invalid_blocks_are_refused_and_recorded(slack: FakeSlack, client: AsyncWebClient) -> None:
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(SlackApiError) as bad:
        await client.chat_postMessage(channel="C1", text="t", blocks=[too_long, {"type": "no_such_block"}])
    assert bad.value.response.status_code == 200
    assert bad.value.response["error"] == "invalid_blocks"
    assert len(bad.value.response["errors"]) == 2
    assert len(slack.invalid) == 1 and "chat.postMessage" in slack.invalid[0]
    assert slack.calls_to("chat.postMessage") == []
    assert slack.all_calls_to("chat.postMessage")[0].ok is False

    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C1", text="t", blocks=[SECTION] * 51)
    with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning, match="text"):
        await client.chat_postMessage(channel="C1")
    assert empty.value.response["error"] == "no_text"
    assert len(slack.invalid) == 3


async def test_views_are_validated_and_recorded(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id="1.2.3", view=MODAL)
    view_id = opened["view"]["id"]
    assert opened["view"]["callback_id"] == "request" and opened["view"]["hash"]
    updated = await client.views_update(view_id=view_id, view={**MODAL, "callback_id": "request2"})
    assert updated["view"]["id"] == view_id
    assert [v["callback_id"] for v in slack.views] == ["request", "request2"]

    with pytest.raises(SlackApiError):
        await client.views_open(trigger_id="1.2.3", view={**MODAL, "title": {"type": "plain_text", "text": "x" * 25}})
    assert len(slack.invalid) == 1 and "title" in slack.invalid[0]


async def test_views_are_held_to_slacks_limits(slack: FakeSlack, client: AsyncWebClient) -> None:
    """Slack's numbers, not the bot's: 100 blocks in a modal or a Home tab, 3000 characters of private_metadata."""

    def inputs(n: int) -> list[dict]:
        return [{**MODAL["blocks"][0], "block_id": f"b{i}"} for i in range(n)]

    home = {"type": "home", "blocks": [SECTION] * 100}
    await client.views_publish(user_id="U1", view=home)
    await client.views_open(trigger_id="1.2.3", view={**MODAL, "private_metadata": "m" * 3000})
    await client.views_open(trigger_id="1.2.3", view={**MODAL, "blocks": inputs(100)})
    assert slack.invalid == []
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U1", view={**home, "blocks": [SECTION] * 101})
    with pytest.raises(SlackApiError):
        await client.views_open(trigger_id="1.2.3", view={**MODAL, "private_metadata": "m" * 3001})
    with pytest.raises(SlackApiError):
        await client.views_open(trigger_id="1.2.3", view={**MODAL, "blocks": inputs(101)})
    assert len(slack.invalid) == 3
    assert all("max 100" in i or "max 3000" in i for i in slack.invalid)  # refused for the limit, nothing else


# ------------------------------------------------------------------ scripted failures


async def test_fail_next_429_surfaces_with_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="t")
    response = limited.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert slack.all_calls_to("chat.postMessage")[0].attempt_status == 429

    await client.chat_postMessage(channel="C1", text="t")  # only the next call failed
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_fail_next_503_and_slack_errors(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("users.info", status=503)
    with pytest.raises(SlackApiError) as unavailable:
        await client.users_info(user="U1")
    assert unavailable.value.response.status_code == 503
    assert unavailable.value.response.data == {}

    slack.fail_next("chat.postMessage", status=200, error="channel_not_found", where=lambda a: a["channel"] == "C2")
    await client.chat_postMessage(channel="C1", text="t")  # not matched by `where`
    with pytest.raises(SlackApiError) as not_found:
        await client.chat_postMessage(channel="C2", text="t")
    assert not_found.value.response["error"] == "channel_not_found"


async def test_drop_next_is_a_connection_error(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.drop_next("chat.postMessage")
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.chat_postMessage(channel="C1", text="t")
    assert slack.all_calls_to("chat.postMessage")[0].attempt_status == 0

    # slack_sdk's connection-error retry handler recovers from a single drop.
    retrying = AsyncWebClient(
        base_url=slack.api_url,
        token="xoxb-test",
        retry_handlers=[AsyncConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))],
    )
    slack.drop_next("chat.postMessage")
    assert (await retrying.chat_postMessage(channel="C1", text="t"))["ok"]
    assert [c.attempt_status for c in slack.all_calls_to("chat.postMessage")] == [0, 0, 200]


async def test_channel_errors_and_join(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.channel_errors.update({"C1": "not_in_channel", "G1": "not_in_channel"})
    slack.private_channels.add("G1")
    for _ in range(2):
        with pytest.raises(SlackApiError) as not_in:
            await client.chat_postMessage(channel="C1", text="t")
        assert not_in.value.response["error"] == "not_in_channel"
    await client.conversations_join(channel="C1")
    await client.chat_postMessage(channel="C1", text="t")

    with pytest.raises(SlackApiError) as private:
        await client.conversations_join(channel="G1")
    assert private.value.response["error"] == "method_not_supported_for_channel_type"


# ------------------------------------------------------------------ directory methods


async def test_conversations_members_paginates(slack: FakeSlack, client: AsyncWebClient) -> None:
    members = [f"U{i:04d}" for i in range(250)]
    slack.channel_members["C1"] = members
    pages, cursor = [], None
    while True:
        page = await client.conversations_members(channel="C1", limit=100, cursor=cursor)
        pages.append(page["members"])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sum(pages, []) == members

    with pytest.raises(SlackApiError) as unknown:
        await client.conversations_members(channel="C404")
    assert unknown.value.response["error"] == "channel_not_found"


async def test_users_groups_and_auth(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.usergroups["S1"] = ["U1", "U2"]
    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as no_group:
        await client.usergroups_users_list(usergroup="S2")
    assert no_group.value.response["error"] == "no_such_subteam"

    user = (await client.users_info(user="U1"))["user"]
    assert (user["id"], user["is_bot"], user["tz"]) == ("U1", False, "America/Edmonton")
    assert (await client.users_info(user=BOT_USER_ID))["user"]["is_bot"] is True
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("U0BOT", "B0BOT", "T0TEAM")


async def test_auth_test_reports_the_workspace_and_rejected_tokens_fail_everywhere(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.enterprise_id = "E0ORG"
    auth = await client.auth_test()
    assert (auth["team_id"], auth["enterprise_id"]) == ("T0TEAM", "E0ORG")
    slack.rejected_tokens["xoxb-test"] = "token_revoked"
    for call in (client.auth_test(), client.chat_postMessage(channel="C1", text="hi")):
        with pytest.raises(SlackApiError) as refused:
            await call
        assert refused.value.response["error"] == "token_revoked"


async def test_history_is_newest_first_after_oldest_with_metadata_only_when_asked(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.now = lambda: 1_800_000_000.0
    metadata = {"event_type": "clearance_outbox", "event_payload": {"outbox_id": 7}}
    first = await client.chat_postMessage(channel="C1", text="one", metadata=metadata)
    second = await client.chat_postMessage(channel="C1", text="two")
    await client.chat_postMessage(channel="C2", text="elsewhere")
    assert float(second["ts"]) > float(first["ts"]) >= 1_800_000_000  # ts is Slack's clock, unique

    plain = await client.conversations_history(channel="C1", limit=1)
    assert [m["text"] for m in plain["messages"]] == ["two"] and plain["has_more"]
    following = await client.conversations_history(
        channel="C1", limit=1, cursor=plain["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in following["messages"]] == ["one"] and "metadata" not in following["messages"][0]
    everything = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert everything["messages"][1]["metadata"] == metadata
    later = await client.conversations_history(channel="C1", oldest=first["ts"])
    assert [m["text"] for m in later["messages"]] == ["two"]  # oldest is exclusive unless inclusive


async def test_bad_metadata_is_refused(slack: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="x", metadata={"event_type": "has space", "event_payload": {}})
    assert refused.value.response["error"] == "invalid_metadata_format"
    assert slack.invalid and slack.messages_in("C1") == []
    slack.invalid.clear()


async def test_answer_late_posts_at_once_and_answers_after_the_client_gave_up(slack: FakeSlack) -> None:
    impatient = AsyncWebClient(base_url=slack.api_url, token="xoxb-test", retry_handlers=[], timeout=0.3)
    slack.answer_late("chat.postMessage", 1.0)
    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel="C1", text="slow")
    [held] = await slack.wait_held()
    assert held.ok and [m["text"] for m in slack.messages_in("C1")] == ["slow"]  # Slack has it anyway
    slack.answer_late("chat.postMessage")  # held until release()
    patient = AsyncWebClient(base_url=slack.api_url, token="xoxb-test", retry_handlers=[])
    task = asyncio.create_task(patient.chat_postMessage(channel="C1", text="held"))
    await slack.wait_held(2)
    await asyncio.sleep(0.1)
    assert not task.done() and len(slack.messages_in("C1")) == 2
    slack.release()
    assert (await task)["ok"]


async def test_wait_for_and_reset(slack: FakeSlack, client: AsyncWebClient) -> None:
    async def post_later() -> None:
        await asyncio.sleep(0.01)
        await client.chat_postMessage(channel="C1", text="decision")

    task = asyncio.create_task(post_later())
    [call] = await slack.wait_for("chat.postMessage", where=lambda c: c.args["text"] == "decision")
    await task
    assert call.args["channel"] == "C1"

    with pytest.raises(AssertionError, match="chat.postMessage"):
        await slack.wait_for("chat.postMessage", count=2, timeout=0.05)
    slack.reset()
    assert slack.calls == []


# ------------------------------------------------------------------ signing


def test_signer_reproduces_slack_test_vector() -> None:
    vector = json.loads((SAMPLES / "signature_test_vector.json").read_text())
    headers = signing.sign(vector["body"], vector["signing_secret"], int(vector["timestamp"]))
    assert headers == {
        "X-Slack-Request-Timestamp": vector["timestamp"],
        "X-Slack-Signature": vector["valid_signature"],
    }


def test_builders_produce_verifiable_slack_shapes() -> None:
    body, content_type = signing.slash_command("/clearance", "request ChatGPT", "U1")
    assert content_type == "application/x-www-form-urlencoded"
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert (fields["command"], fields["text"], fields["channel_id"]) == (
        "/clearance",
        "request ChatGPT",
        "C0GENERAL",
    )
    assert SignatureVerifier("s3cret").is_valid_request(body, signing.sign(body, "s3cret"))

    action = signing.block_action("approve", "42", "U1", channel_id="C1", message_ts="1.2")
    assert action["container"]["message_ts"] == "1.2" and action["message"]["ts"] == "1.2"
    assert action["actions"][0]["value"] == "42"
    values = {"name": {"value": {"type": "plain_text_input", "value": "x"}}}
    submission = signing.view_submission("request", values, "U1", private_metadata="m")
    assert submission["view"]["state"]["values"] == values
    form, _ = signing.form_payload(submission)
    assert json.loads(parse_qs(form.decode())["payload"][0]) == submission
    event = signing.event_callback({"type": "app_home_opened", "user": "U1"})
    assert event["type"] == "event_callback" and event["event_id"].startswith("Ev")


async def test_slack_http_signs_each_request() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = (await receive())["body"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen.append(headers)
        status = (
            200
            if SignatureVerifier("s3cret").is_valid(
                body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
            )
            else 401
        )
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with signing.SlackHttp("s3cret", app=app) as http:
        assert (await http.command("/clearance", "help", "U1")).status_code == 200
        assert (await http.event(signing.event_callback({"type": "x"}), retry_num=1)).status_code == 200
        assert (await http.action(signing.block_action("a", "v", "U1"), secret="wrong")).status_code == 401
    assert seen[1]["x-slack-retry-num"] == "1"
    assert isinstance(http.client, httpx.AsyncClient)


# ------------------------------------------------------------------ Socket Mode


async def test_socket_mode_round_trip(slack: FakeSlack) -> None:
    web = AsyncWebClient(base_url=slack.api_url, token="xapp-test")
    socket = SocketModeClient(app_token="xapp-test", web_client=web)

    async def ack(client: SocketModeClient, request: SocketModeRequest) -> None:
        payload = {"text": "got it"} if request.type == "slash_commands" else None
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload=payload))

    socket.socket_mode_request_listeners.append(ack)
    try:
        await socket.connect()
        await asyncio.wait_for(slack.socket_connected.wait(), 1)
        envelope = json.loads((SAMPLES / "socket_mode.envelope.slash_commands.json").read_text())
        reply = await slack.socket_send("slash_commands", envelope["payload"], timeout=1)
        assert reply["payload"] == {"text": "got it"}
        assert slack.calls_to("apps.connections.open")[0].token == "xapp-test"
    finally:
        await socket.close()
