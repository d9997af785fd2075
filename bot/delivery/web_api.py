"""Slack calls whose JSON body is already written: the outbox's messages and response_url answers.

slack_sdk's `api_call(json=…)` takes a dict and encodes it, and its request path (deprecation
checks, URL joining, retry bookkeeping, debug-log guards) costs more CPU than the HTTP request
itself. The outbox stores every message as JSON text, so decoding it only for slack_sdk to
encode it again was pure waste. Measured on a review card's 2 KB: 800-930 µs of CPU a message
through api_call, 460-530 µs here; a decision sends three.
Here the stored text goes out as it is, on the client's own kept session, with the client's
token, base URL and time-out; the answer is slack_sdk's own `AsyncSlackResponse`, validated by
slack_sdk, so a refusal raises the same `SlackApiError` the rest of the bot knows.

Everything else (look-ups, views, joins) still goes through slack_sdk's methods.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.http.kept_connections import timed_session

JSON_BODY = "application/json;charset=utf-8"


def with_fields(body: str, fields: dict[str, Any]) -> str:
    """The JSON object `body` with `fields` set, as `{**json.loads(body), **fields}` would be, but
    without decoding it when none of the keys is in it (the sender's channel, ts and metadata never
    are). A quote inside a JSON string is escaped, so `"key":` in the text can only be a key."""
    if not fields:
        return body
    if any(f'"{key}":' in body for key in fields):
        return _dumps({**orjson.loads(body), **fields})
    head, rest = _dumps(fields), body.lstrip()
    assert rest.startswith("{"), "an outbox body is a JSON object"
    return head if rest[1:].lstrip().startswith("}") else head[:-1] + "," + rest[1:]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _answer(response: aiohttp.ClientResponse) -> dict:
    # The bytes to orjson as they came: aiohttp's `json()` first works out the charset from the
    # headers (JSON is UTF-8, which orjson reads itself), some 4 % of the sender's CPU per call.
    try:
        data = orjson.loads(await response.read())
    except ValueError:  # not JSON (an HTML error page from a proxy): judged by its status alone
        return {}
    return data if isinstance(data, dict) else {}


class WebApi:
    """`call(method, body)`: one Web API call with a ready JSON body, as slack_sdk would make it."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._headers = {"Content-Type": JSON_BODY, **client.headers}
        if client.token:
            self._headers["Authorization"] = f"Bearer {client.token}"
        self._urls: dict[str, str] = {}

    def _url(self, method: str) -> str:
        url = self._urls.get(method)
        if url is None:
            url = self._urls[method] = self.client.base_url.rstrip("/") + "/" + method
        return url

    async def call(self, method: str, body: str) -> AsyncSlackResponse:
        """POST `body` to `method`; raises SlackApiError as slack_sdk does (HTTP status or ok=false),
        aiohttp's errors and TimeoutError for a call that got no answer."""
        url = self._url(method)
        session = self.client.session
        if session is None or session.closed:  # not started (a test, a one-off command): a session of its own
            async with timed_session(self.client.timeout) as own:
                return await self._post(own, url, body)
        return await self._post(session, url, body)

    async def _post(self, session: aiohttp.ClientSession, url: str, body: str) -> AsyncSlackResponse:
        ssl = True if self.client.ssl is None else self.client.ssl
        async with session.post(
            url, data=body.encode(), headers=self._headers, ssl=ssl, proxy=self.client.proxy
        ) as response:
            data = await _answer(response)
            answer = AsyncSlackResponse(
                client=self.client,
                http_verb="POST",
                api_url=url,
                req_args={},
                data=data,
                headers=response.headers,  # type: ignore[arg-type]  # slack_sdk passes them as they are
                status_code=response.status,
            )
        answer.validate()  # raises SlackApiError unless HTTP 200 and ok
        return answer


# Errors after which a request may have reached Slack: no answer came (a time-out, the connection
# lost or reset mid-call). A connection that was never made (ClientConnectorError) sent nothing.
UNANSWERED = (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError)


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a call that raised `exc` may have been carried out all the same."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False
    return isinstance(exc, UNANSWERED)


async def post_json(session: aiohttp.ClientSession, url: str, payload: dict) -> int:
    """POST `payload` to a response_url; the HTTP status. Not tried again here: a call that got no
    answer may have been carried out (see `outcome_unknown`), and a response_url's answer is not
    one to show twice."""
    async with session.post(url, data=_dumps(payload).encode(), headers={"Content-Type": JSON_BODY}) as response:
        await response.read()
        return response.status
