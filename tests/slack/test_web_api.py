"""The outbox's Web API calls (stored JSON sent as it is) behave as slack_sdk's own, against the fake Slack."""

from __future__ import annotations

import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.posted import retry_after
from bot.delivery.web_api import WebApi, outcome_unknown, post_json, with_fields
from bot.http.kept_connections import timed_session
from tests.fakes.fake_slack import RESPONSE_URL_METHOD, FakeSlack

TRICKY = 'Ünïcödé ✅ \\ \\" "channel": <!channel> 🚓'

BODIES = [
    "{}",
    " { } ",
    '{"text":"a"}',
    json.dumps({"text": TRICKY, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": TRICKY}}]}),
    json.dumps({"text": TRICKY}, ensure_ascii=True),  # \u escapes
    '{"channel":"C0OLD","text":"given already: replaced"}',
    '{"blocks":[{"type":"conversations_select","channel":"nested"}],"text":"x"}',  # a nested key of the same name
]
FIELDS = [{}, {"channel": "C1", "ts": "1.2"}, {"metadata": {"event_type": "x", "event_payload": {"id": 1}}}]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("fields", FIELDS)
def test_with_fields_is_the_decoded_merge(body: str, fields: dict) -> None:
    out = with_fields(body, fields)
    assert json.loads(out) == {**json.loads(body), **fields}
    if not fields:
        assert out == body  # sent exactly as stored


def test_with_fields_does_not_decode_a_body_without_the_keys() -> None:
    body = '{"text":"' + TRICKY.replace("\\", "\\\\").replace('"', '\\"') + '"}'
    # Byte for byte: the stored text follows the added fields untouched.
    assert with_fields(body, {"channel": "C1"}) == '{"channel":"C1",' + body[1:]


async def test_a_call_reaches_slack_with_the_token_and_answers_like_slack_sdk(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    calls = WebApi(client)
    posted = await calls.call("chat.postMessage", json.dumps({"channel": "C1", "text": TRICKY}))
    assert posted["ok"] and posted["channel"] == "C1" and posted.status_code == 200
    [call] = slack.calls_to("chat.postMessage")
    assert (call.token, call.args["text"]) == ("xoxb-test", TRICKY)

    client.session = timed_session(5)  # a kept session, as the running bot gives it
    try:
        await calls.call("chat.update", with_fields('{"text":"new"}', {"channel": "C1", "ts": posted["ts"]}))
    finally:
        await client.session.close()
    assert slack.message("C1", posted["ts"])["text"] == "new"


async def test_refusals_raise_slack_api_error_as_slack_sdk_does(slack: FakeSlack, client: AsyncWebClient) -> None:
    calls = WebApi(client)
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        await calls.call("chat.postMessage", '{"channel":"C1","text":"t"}')
    assert (limited.value.response.status_code, limited.value.response["error"]) == (429, "ratelimited")
    assert retry_after(limited.value.response.headers) == 7

    slack.fail_next("chat.postMessage", status=503)  # an HTML error page
    with pytest.raises(SlackApiError) as unavailable:
        await calls.call("chat.postMessage", '{"channel":"C1","text":"t"}')
    assert (unavailable.value.response.status_code, unavailable.value.response.data) == (503, {})

    slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as refused:
        await calls.call("chat.postMessage", '{"channel":"C1","text":"t"}')
    assert refused.value.response["error"] == "channel_not_found"

    slack.drop_next("chat.postMessage")  # no answer: not retried here (the sender decides)
    with pytest.raises(aiohttp.ClientConnectionError):
        await calls.call("chat.postMessage", '{"channel":"C1","text":"t"}')
    assert [c.attempt_status for c in slack.all_calls_to("chat.postMessage")] == [429, 503, 200, 0]


async def test_a_response_url_answer_that_got_no_answer_is_not_sent_again(slack: FakeSlack) -> None:
    """Slack got it and the connection dropped before its answer: sent again, it would show twice."""
    url = slack.new_response_url()
    async with timed_session(5) as session:
        assert await post_json(session, url, {"text": "first", "response_type": "ephemeral"}) == 200
        slack.drop_next(RESPONSE_URL_METHOD)
        with pytest.raises(aiohttp.ClientConnectionError) as dropped:
            await post_json(session, url, {"text": "second", "response_type": "ephemeral"})
        assert outcome_unknown(dropped.value)  # so the caller does not tell the person another way either
    assert [c.args.get("text") for c in slack.all_calls_to(RESPONSE_URL_METHOD)] == ["first", "second"]


async def test_a_connection_never_made_is_known_not_to_have_reached_slack() -> None:
    async with timed_session(5) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as refused:
            await post_json(session, "http://127.0.0.1:9/response/x", {"text": "x"})  # nothing listens on port 9
    assert not outcome_unknown(refused.value)
