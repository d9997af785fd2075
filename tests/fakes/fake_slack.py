"""A fake Slack Web API (and Socket Mode endpoint) for end-to-end tests.

Slack cannot be reached from the test machine, so the real bot is pointed at this server
(``AsyncWebClient(base_url=slack.api_url)``). The fake:

* answers every ``/api/<method>`` call with a realistic body (shapes taken from
  the examples on Slack's method pages), keeping enough state (messages, views) that
  follow-up calls such as ``chat.update`` behave like Slack;
* records every call, decoded, so tests can assert on what the bot sent;
* validates every outbound message and view with slack_sdk's Block Kit models and answers
  ``ok: false`` like Slack when they are invalid (collected in ``slack.invalid``);
* can be scripted to fail: rate limits, 5xx, Slack errors, dropped connections, and answers
  held back after the call was carried out (``answer_late``: a client that times out, or dies
  waiting, while Slack has in fact posted);
* keeps message metadata and serves conversations.history, so a bot can find its own posts;
* serves Socket Mode over a websocket so the bot can also run in Socket Mode.

Usage::

    async with FakeSlack() as slack:
        client = AsyncWebClient(base_url=slack.api_url, token="xoxb-test")
        ...
        [call] = await slack.wait_for("chat.postMessage")
        assert slack.invalid == []
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

# Slack's documented limits, shared with the demo's stand-in (never taken from the bot's code).
from demo.slack_rules import message_errors, view_errors

# Identity of the fake workspace and of the bot installed in it. Payload builders in
# tests/fakes/signing.py use the same values so that requests and answers agree.
TEAM_ID = "T0TEAM"
TEAM_NAME = "Test"
TEAM_DOMAIN = "test"
APP_ID = "A0APP"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
USER_TZ = "America/Edmonton"

MAX_HISTORY_LIMIT = 999

# Arguments that slack_sdk (or hand-written form posts) send as JSON-encoded strings in
# form bodies and query strings. They are decoded so that recorded args are Python objects
# regardless of how the client chose to encode the request.
JSON_STRING_ARGS = frozenset(
    {"blocks", "attachments", "view", "metadata", "unfurls", "user_auth_blocks", "options", "profile", "files"}
)

# Pseudo-method under which posts to a fake response_url are recorded.
RESPONSE_URL_METHOD = "response_url"

Predicate = Callable[[dict[str, Any]], bool]


def _peer(request: web.Request) -> tuple:
    return tuple(request.transport.get_extra_info("peername") or ()) if request.transport else ()


@dataclass
class Call:
    """One HTTP request the fake received."""

    method: str
    args: dict[str, Any]
    token: str | None
    # HTTP status the fake answered with; 0 when the connection was dropped unanswered.
    attempt_status: int
    ok: bool = False
    response: dict[str, Any] | None = None
    http_method: str = "POST"
    path: str = ""
    connection: tuple = ()  # the caller's (address, port): calls over one kept connection share it


@dataclass
class _Failure:
    """A scripted failure, consumed by the next matching call(s)."""

    method: str
    status: int
    retry_after: int
    times: int
    error: str | None
    where: Predicate | None
    drop: bool = False
    carried_out: bool = False  # Slack did the work; a gateway's error page came back instead


@dataclass
class _Late:
    """A scripted slow answer: the call is carried out at once, its answer held back."""

    method: str
    seconds: float | None  # None: until release()
    times: int
    where: Predicate | None


@dataclass
class _Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"ok": True})


def _error(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int | None:
    """Offset from a cursor made by `_encode_cursor`; None if it is not one of ours."""
    try:
        prefix, _, number = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        offset = int(number)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        return None
    return offset if prefix == "offset" and offset >= 0 else None


class FakeSlack:
    """A fake Slack Web API server on 127.0.0.1 (random port); see module docstring."""

    def __init__(self) -> None:
        # --- recorded traffic -------------------------------------------------------
        self.calls: list[Call] = []
        self.invalid: list[str] = []
        # Latest args of every posted message (text, blocks, ...) by (channel, ts), in
        # posting order. chat.update merges into the entry, chat.delete removes it.
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        # Every view as answered (with "id" and "hash"), in the order they were sent.
        self.views: list[dict[str, Any]] = []
        # Latest version of each view by id, and the latest Home tab per user.
        self.views_by_id: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        # Every ack received over Socket Mode.
        self.socket_acks: list[dict[str, Any]] = []

        # --- workspace state, settable by tests ------------------------------------
        self.usergroups: dict[str, list[str]] = {}
        self.bots: set[str] = {BOT_USER_ID}
        self.channel_members: dict[str, list[str]] = {}
        self.private_channels: set[str] = set()
        self.archived_channels: set[str] = set()
        self.channel_names: dict[str, str] = {}
        # Overrides merged into users.info / users.list user objects (name, real_name, deleted, ...).
        self.users: dict[str, dict[str, Any]] = {}
        # Users that do not exist in the workspace: users.info answers user_not_found.
        self.missing_users: set[str] = set()
        # Persistent per-channel errors for posting methods, e.g. {"C1": "not_in_channel"}.
        self.channel_errors: dict[str, str] = {}
        # Seconds to wait before answering a method: Slack on a slow day.
        self.delays: dict[str, float] = {}
        # The workspace auth.test reports (set enterprise_id for an Enterprise Grid install).
        self.team_id: str = TEAM_ID
        self.enterprise_id: str | None = None
        # Tokens Slack refuses (revoked, or a placeholder): every call with one gets this error.
        self.rejected_tokens: dict[str, str] = {}
        # Methods the app lacks a scope for: method -> the scope Slack says is needed.
        self.missing_scopes: dict[str, str] = {}
        # Slack's clock, for message timestamps (ts) and conversations.history's oldest/latest.
        self.now: Callable[[], float] = time.time
        # Calls carried out whose answers are being held back (answer_late), in order.
        self.held: list[Call] = []
        # files.uploadV2: bytes uploaded to each file id's upload URL, and the files shared by
        # files.completeUploadExternal ({"id", "title", "name", "channel", "content", "initial_comment"}).
        self.uploads: dict[str, bytes] = {}
        self.files: list[dict[str, Any]] = []
        self._upload_names: dict[str, str] = {}

        # --- scripted failures and internals ----------------------------------------
        self._failures: list[_Failure] = []
        self._late: list[_Late] = []
        self._release = asyncio.Event()
        self._last_ts = 0.0
        self._id_counter = itertools.count(1)
        self._dm_ids: dict[str, str] = {}  # user id -> the DM channel's id
        self._changed = asyncio.Condition()
        self._in_flight = 0  # Web API calls being answered (a delay or a held answer included)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.socket_connected = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._counted_api)
        app.router.add_post("/response/{tag}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        # A short shutdown_timeout: stop() must not wait a minute for a client that keeps
        # a request open (e.g. a test that failed half-way).
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        # Websocket handlers run until their socket closes; close them first so that the
        # runner's graceful shutdown does not wait on them.
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutting down")
        for future in self._acks.values():
            future.cancel()
        self._release.set()  # held answers go out (to whoever still listens)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for SLACK_API_URL / AsyncWebClient(base_url=...)."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket"

    def new_response_url(self, tag: str | None = None) -> str:
        """A response_url served by this fake; posts to it are recorded as "response_url" calls."""
        return f"{self.base_url}/response/{tag or next(self._id_counter)}"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """Calls to `method` that were answered ok:true."""
        return [c for c in self.calls if c.method == method and c.ok]

    def all_calls_to(self, method: str) -> list[Call]:
        """Every attempt to call `method`, including failed and dropped ones."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested API, like asyncio.wait_for
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until at least `count` successful calls to `method` match `where`; return them."""

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if where is None or where(c)]

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} successful call(s) to {method}"
                f"{' matching the predicate' if where else ''} within {timeout}s, got {len(matching())}.\n"
                f"Calls seen:\n{self.describe_calls()}"
            ) from None
        return matching()

    def describe_calls(self, calls: Iterable[Call] | None = None) -> str:
        """A readable listing of calls (for assertion messages)."""
        lines = []
        for c in self.calls if calls is None else calls:
            outcome = "ok" if c.ok else (c.response or {}).get("error", "no answer")
            args = json.dumps(c.args, default=str)
            if len(args) > 300:
                args = args[:300] + "..."
            lines.append(f"  {c.method} [{c.attempt_status} {outcome}] {args}")
        return "\n".join(lines) or "  (none)"

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """Latest version of a posted message (raises KeyError if unknown)."""
        return self.messages[(channel, ts)]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Latest version of each message in `channel`, in posting order."""
        return [m for (ch, _), m in self.messages.items() if ch == channel]

    def reset(self) -> None:
        """Forget recorded calls, invalid payloads and socket acks (state and scripts stay)."""
        self.calls.clear()
        self.invalid.clear()
        self.socket_acks.clear()

    def clear_failures(self) -> None:
        """Slack is healthy again: forget every scripted failure still pending."""
        self._failures.clear()

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
        where: Predicate | None = None,
        carried_out: bool = False,
    ) -> None:
        """Fail the next `times` calls to `method` (only those whose args match `where`).

        status 429 -> HTTP 429, Retry-After header, {"ok": false, "error": "ratelimited"};
        status 200 -> HTTP 200 {"ok": false, "error": error or "internal_error"};
        any other status -> that HTTP status with a short HTML body.
        carried_out: the call is carried out all the same (a posted message is in the channel)
        and only its answer is the failure, as when a gateway times out on a slow Slack (504).
        """
        self._failures.append(_Failure(method, status, retry_after, times, error, where, carried_out=carried_out))

    def drop_next(self, method: str, times: int = 1, where: Predicate | None = None) -> None:
        """Close the connection without answering the next `times` calls to `method`."""
        self._failures.append(_Failure(method, 0, 0, times, None, where, drop=True))

    def answer_late(
        self, method: str, seconds: float | None = None, *, times: int = 1, where: Predicate | None = None
    ) -> None:
        """Carry out the next `times` calls to `method` at once but hold their answers back.

        Slack has done the work (a posted message is in the channel, with its metadata); the
        client hears nothing for `seconds` (past its time-out), or, with None, until release()
        — long enough to kill the process waiting for it. Held calls are listed in `held`.
        """
        self._late.append(_Late(method, seconds, times, where))

    def release(self) -> None:
        """Send every answer held back by answer_late(seconds=None)."""
        self._release.set()

    async def wait_held(self, count: int = 1, timeout: float = 5.0) -> list[Call]:  # noqa: ASYNC109
        """Wait until `count` calls have been carried out with their answers held back."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.held) >= count)
        except TimeoutError:
            seen = self.describe_calls()
            raise AssertionError(f"expected {count} held call(s), got {len(self.held)}:\n{seen}") from None
        return list(self.held)

    def _take_late(self, method: str, args: dict[str, Any]) -> _Late | None:
        for late in self._late:
            if late.method == method and (late.where is None or late.where(args)):
                late.times -= 1
                if late.times <= 0:
                    self._late.remove(late)
                return late
        return None

    def _take_failure(self, method: str, args: dict[str, Any]) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and (failure.where is None or failure.where(args)):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    # ------------------------------------------------------------------ HTTP plumbing

    async def idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until no Web API call is being answered: whatever was asked has been done."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self._in_flight == 0)

    async def _counted_api(self, request: web.Request) -> web.StreamResponse:
        self._in_flight += 1
        try:
            return await self._handle_api(request)
        finally:
            self._in_flight -= 1
            await self._record_change()

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args, token = await self._read_args(request)
        except ValueError:  # a malformed JSON body
            call = Call(method, {}, None, 200, response=_error("invalid_json"), path=request.path)
            self._note_invalid(method, ["request body is not valid JSON"], {})
            await self._record(call)
            return web.json_response(call.response)
        call = Call(
            method=method,
            args=args,
            token=token,
            attempt_status=0,
            http_method=request.method,
            path=request.path,
            connection=_peer(request),
        )

        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        failure = self._take_failure(method, args)
        if failure is not None and not failure.carried_out:
            return await self._fail(request, call, failure)

        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if token in self.rejected_tokens:
            reply = _Reply(body=_error(self.rejected_tokens[token]))  # as Slack answers a bad token: HTTP 200
        elif method in self.missing_scopes:
            reply = _Reply(body=_error("missing_scope", needed=self.missing_scopes[method], provided="chat:write"))
        else:
            reply = handler(args, token) if handler is not None else _Reply()
        call.attempt_status = reply.status
        call.ok = bool(reply.body.get("ok"))
        call.response = reply.body
        if failure is not None:  # carried out; the answer is lost behind the gateway's error
            return await self._fail(request, call, failure)
        await self._record(call)
        if (late := self._take_late(method, args)) is not None:
            self.held.append(call)
            await self._record_change()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), late.seconds)
        return web.json_response(reply.body, status=reply.status)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        """A response_url (used by bolt's respond()); answers like hooks.slack.com."""
        args, token = await self._read_args(request)
        call = Call(RESPONSE_URL_METHOD, args, token, 200, path=request.path, connection=_peer(request))
        failure = self._take_failure(RESPONSE_URL_METHOD, args)
        if failure is not None:
            return await self._fail(request, call, failure)
        errors = []
        if not args.get("delete_original"):
            errors = message_errors(args)
        if errors:
            self._note_invalid(RESPONSE_URL_METHOD, errors, args)
            call.response = _error("invalid_blocks", errors=errors)
            await self._record(call)
            return web.Response(status=400, text="invalid_blocks", content_type="text/plain")
        call.ok = True
        call.response = {"ok": True}
        await self._record(call)
        return web.Response(text="ok", content_type="text/plain")

    async def _fail(self, request: web.Request, call: Call, failure: _Failure) -> web.StreamResponse:
        """Answer (or not) a call as scripted by fail_next/drop_next, and record it."""
        if failure.drop:
            await self._record(call)  # attempt_status stays 0: nothing was answered
            # Closing the transport makes the client see ServerDisconnectedError, as with a
            # connection reset mid-request. The response returned below goes nowhere.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        call.attempt_status = failure.status
        if failure.status == 429:
            # Status, header and body as Slack sends them (web_api/ratelimited.429.python_sdk_tests.txt).
            call.response = _error("ratelimited")
            response = web.json_response(call.response, status=429, headers={"Retry-After": str(failure.retry_after)})
        elif failure.status == 200:
            call.response = _error(failure.error or "internal_error")
            response = web.json_response(call.response)
        else:
            # A load balancer's error page. It is not JSON, so slack_sdk's SlackApiError
            # carries response.data == {} and response.status_code == failure.status.
            response = web.Response(
                status=failure.status,
                text=f"<html><body><h1>{failure.status} Service Unavailable</h1></body></html>",
                content_type="text/html",
            )
        await self._record(call)
        return response

    async def _read_args(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        """Merge query string, form and JSON body into one dict; pull out the token.

        slack_sdk sends `json=` methods (chat.*, views.*) as JSON with the token in the
        Authorization header, `params=` methods (auth.test, conversations.join, ...) as a
        POST with the arguments in the *query string* and an empty body, and some methods
        (conversations.members, users.info, ...) as GET with a query string.
        """
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                raw = await request.text()
                if raw:
                    args["_raw_body"] = raw
        for key in JSON_STRING_ARGS & args.keys():
            value = args[key]
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(value)

        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
        return args, token

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        await self._record_change()

    async def _record_change(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ validation

    def _note_invalid(self, method: str, errors: list[str], args: dict[str, Any]) -> None:
        where = args.get("channel") or args.get("view_id") or args.get("user_id") or args.get("trigger_id")
        self.invalid.append(f"{method} ({where}): " + "; ".join(errors))

    def _invalid_message(self, method: str, args: dict[str, Any]) -> _Reply | None:
        errors = message_errors(args)
        if not errors:
            return None
        self._note_invalid(method, errors, args)
        # Slack's own codes where it has a specific one, else invalid_blocks.
        code = "invalid_blocks"
        own_codes = ("no_text", "msg_too_long", "invalid_metadata_format", "metadata_too_large")
        if errors[0].startswith(own_codes) and len(errors) == 1:
            code = errors[0].split(":")[0]
        return _Reply(body=_error(code, errors=errors, response_metadata={"messages": errors}))

    # ------------------------------------------------------------------ ids and objects

    def _next_ts(self) -> str:
        """A message ts as Slack makes it: the time it was posted, unique."""
        self._last_ts = max(self.now(), self._last_ts + 0.0001)
        return f"{self._last_ts:.6f}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08d}"

    def dm_with(self, user: str) -> str:
        """The id of the bot's DM channel with `user`, as conversations.open returns it: a D… id of
        its own (as in Slack, not derived from the user id), the same every time."""
        if user not in self._dm_ids:
            self._dm_ids[user] = self._next_id("D")
        return self._dm_ids[user]

    def _dm_channel(self, channel: str) -> str:
        """chat.postMessage to a user id posts in the DM with that user (conversations.open's id)."""
        return self.dm_with(channel) if channel[:1] in ("U", "W") else channel

    def _user(self, user_id: str) -> dict[str, Any]:
        name = user_id.lower()
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": user_id in self.bots,
            "is_app_user": False,
            "tz": USER_TZ,
            "tz_label": "Mountain Standard Time",
            "tz_offset": -25200,
            "profile": {"real_name": f"User {user_id}", "display_name": name, "team": TEAM_ID},
        }
        user.update(self.users.get(user_id, {}))
        return user

    def _channel(self, channel: str) -> dict[str, Any]:
        is_im = channel.startswith("D")
        return {
            "id": channel,
            "name": self.channel_names.get(channel, channel.lower()),
            "is_channel": not is_im and channel not in self.private_channels,
            "is_group": False,
            "is_im": is_im,
            "is_private": channel in self.private_channels or is_im,
            "is_archived": channel in self.archived_channels,
            "is_member": self.channel_errors.get(channel) != "not_in_channel",
            "context_team_id": TEAM_ID,
        }

    def _known_users(self) -> list[str]:
        users: dict[str, None] = {}  # an ordered set
        for members in itertools.chain(self.channel_members.values(), self.usergroups.values()):
            users.update(dict.fromkeys(members))
        users.update(dict.fromkeys(sorted(self.bots)))
        users.update(dict.fromkeys(self.users))
        return list(users)

    def _known_channels(self) -> list[str]:
        channels: dict[str, None] = {}
        for source in (
            self.channel_members,
            self.channel_names,
            self.private_channels,
            self.archived_channels,
        ):
            channels.update(dict.fromkeys(sorted(source)))
        return list(channels)

    @staticmethod
    def _page(items: list[Any], args: dict[str, Any], default_limit: int = 100) -> tuple[list[Any], str] | None:
        """One page of `items` and the next cursor ("" on the last page); None if the cursor is bad.

        A limit of 0 means "everything from the cursor on".
        """
        cursor = args.get("cursor") or ""
        offset = _decode_cursor(cursor) if cursor else 0
        if offset is None:
            return None
        limit = int(args.get("limit") or default_limit)
        end = offset + limit if limit > 0 else len(items)
        return items[offset:end], _encode_cursor(end) if end < len(items) else ""

    # ------------------------------------------------------------------ Web API methods
    # Each `_api_<method with dots as underscores>` gets the decoded args and the token.

    def _api_auth_test(self, args: dict[str, Any], token: str | None) -> _Reply:
        return _Reply(
            body={
                "ok": True,
                "url": f"https://{TEAM_DOMAIN}.slack.com/",
                "team": TEAM_NAME,
                "user": "clearance",
                "team_id": self.team_id,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
                **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
            }
        )

    def _api_chat_postMessage(self, args: dict[str, Any], token: str | None) -> _Reply:
        if not args.get("channel"):
            self._note_invalid("chat.postMessage", ["channel is required"], args)
            return _Reply(body=_error("channel_not_found"))
        channel = self._dm_channel(str(args["channel"]))
        if error := self.channel_errors.get(args["channel"]) or self.channel_errors.get(channel):
            return _Reply(body=_error(error))
        if invalid := self._invalid_message("chat.postMessage", args):
            return invalid
        ts = self._next_ts()
        self.messages[(channel, ts)] = {**args, "channel": channel, "ts": ts}
        return _Reply(body={"ok": True, "channel": channel, "ts": ts, "message": self._message_body(args, ts)})

    @staticmethod
    def _message_body(args: dict[str, Any], ts: str) -> dict[str, Any]:
        # A test may put a person's message in `messages` with its own "user" (and "edited").
        user = args.get("user", BOT_USER_ID)
        message: dict[str, Any] = {
            "type": "message",
            "text": args.get("text", ""),
            "user": user,
            **({"bot_id": BOT_ID, "app_id": APP_ID} if user == BOT_USER_ID else {}),
            "team": TEAM_ID,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata", "edited"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    def _api_chat_update(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = self._dm_channel(str(args.get("channel", "")))
        ts = str(args.get("ts", ""))
        if (channel, ts) not in self.messages:
            return _Reply(body=_error("message_not_found"))
        if channel in self.archived_channels:
            return _Reply(body=_error("is_archived"))
        if invalid := self._invalid_message("chat.update", args):
            return invalid
        # Like Slack, blocks/attachments left out of an update are kept.
        merged = {**self.messages[(channel, ts)], **args, "channel": channel, "ts": ts}
        self.messages[(channel, ts)] = merged
        body = {"ok": True, "channel": channel, "ts": ts, "text": merged.get("text", "")}
        body["message"] = self._message_body(merged, ts)
        return _Reply(body=body)

    def _api_chat_delete(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = self._dm_channel(str(args.get("channel", "")))
        ts = str(args.get("ts", ""))
        if self.messages.pop((channel, ts), None) is None:
            return _Reply(body=_error("message_not_found"))
        return _Reply(body={"ok": True, "channel": channel, "ts": ts})

    def _api_chat_postEphemeral(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = str(args.get("channel", ""))
        if error := self.channel_errors.get(channel):
            return _Reply(body=_error(error))
        if not args.get("user"):
            self._note_invalid("chat.postEphemeral", ["user is required"], args)
            return _Reply(body=_error("user_not_in_channel"))
        if invalid := self._invalid_message("chat.postEphemeral", args):
            return invalid
        return _Reply(body={"ok": True, "message_ts": self._next_ts()})

    def _api_chat_scheduleMessage(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = self._dm_channel(str(args.get("channel", "")))
        if error := self.channel_errors.get(str(args.get("channel", ""))) or self.channel_errors.get(channel):
            return _Reply(body=_error(error))
        if not args.get("post_at"):
            self._note_invalid("chat.scheduleMessage", ["post_at is required"], args)
            return _Reply(body=_error("invalid_time"))
        if invalid := self._invalid_message("chat.scheduleMessage", args):
            return invalid
        return _Reply(
            body={
                "ok": True,
                "channel": channel,
                "scheduled_message_id": self._next_id("Q"),
                "post_at": int(args["post_at"]),
                "message": self._message_body(args, self._next_ts()),
            }
        )

    def _api_chat_getPermalink(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = str(args.get("channel", ""))
        ts = str(args.get("message_ts", ""))
        permalink = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return _Reply(body={"ok": True, "channel": channel, "permalink": permalink})

    def _api_conversations_join(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = str(args.get("channel", ""))
        error = self.channel_errors.get(channel)
        if error == "channel_not_found":
            return _Reply(body=_error(error))
        if channel in self.archived_channels:
            return _Reply(body=_error("is_archived"))
        if channel in self.private_channels:
            # Bots cannot join private channels themselves; someone must invite them.
            return _Reply(body=_error("method_not_supported_for_channel_type"))
        if error == "not_in_channel":
            del self.channel_errors[channel]
        return _Reply(body={"ok": True, "channel": self._channel(channel)})

    def _api_conversations_open(self, args: dict[str, Any], token: str | None) -> _Reply:
        if args.get("channel"):
            return _Reply(body={"ok": True, "channel": {"id": args["channel"]}})
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            self._note_invalid("conversations.open", ["users or channel is required"], args)
            return _Reply(body=_error("users_list_not_supplied"))
        channel_id = self.dm_with(users[0]) if len(users) == 1 else "G" + "".join(sorted(users))[:20]
        return _Reply(body={"ok": True, "channel": {"id": channel_id}})

    def _api_conversations_history(self, args: dict[str, Any], token: str | None) -> _Reply:
        """Newest first, between oldest and latest; metadata only with include_all_metadata."""
        channel = str(args.get("channel", ""))
        if not channel:
            self._note_invalid("conversations.history", ["channel is required"], args)
            return _Reply(body=_error("channel_not_found"))
        if (error := self.channel_errors.get(channel)) in ("channel_not_found", "not_in_channel"):
            return _Reply(body=_error(error))
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or "inf")
            limit = min(int(args.get("limit") or 100), MAX_HISTORY_LIMIT)
        except ValueError:
            self._note_invalid("conversations.history", ["oldest, latest and limit are numbers"], args)
            return _Reply(body=_error("invalid_arguments"))
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = sorted(
            ((ts, m) for (ch, ts), m in self.messages.items() if ch == channel and within(float(ts))),
            key=lambda item: float(item[0]),
            reverse=True,
        )
        page = self._page(found, {**args, "limit": limit})
        if page is None:
            return _Reply(body=_error("invalid_cursor"))
        items, next_cursor = page
        messages = []
        for ts, m in items:
            message = self._message_body(m, ts)
            if not with_metadata:
                message.pop("metadata", None)
            messages.append(message)
        body = {"ok": True, "messages": messages, "has_more": bool(next_cursor), "pin_count": 0}
        body["response_metadata"] = {"next_cursor": next_cursor}
        return _Reply(body=body)

    def _api_conversations_info(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = str(args.get("channel", ""))
        if self.channel_errors.get(channel) == "channel_not_found":
            return _Reply(body=_error("channel_not_found"))
        return _Reply(body={"ok": True, "channel": self._channel(channel)})

    def _api_conversations_members(self, args: dict[str, Any], token: str | None) -> _Reply:
        channel = str(args.get("channel", ""))
        if channel not in self.channel_members or self.channel_errors.get(channel) == "channel_not_found":
            return _Reply(body=_error("channel_not_found"))
        page = self._page(self.channel_members[channel], args)
        if page is None:
            return _Reply(body=_error("invalid_cursor"))
        members, next_cursor = page
        return _Reply(body={"ok": True, "members": members, "response_metadata": {"next_cursor": next_cursor}})

    def _api_conversations_list(self, args: dict[str, Any], token: str | None) -> _Reply:
        page = self._page(self._known_channels(), args)
        if page is None:
            return _Reply(body=_error("invalid_cursor"))
        channels, next_cursor = page
        body = {"ok": True, "channels": [self._channel(c) for c in channels]}
        body["response_metadata"] = {"next_cursor": next_cursor}
        return _Reply(body=body)

    def _api_usergroups_users_list(self, args: dict[str, Any], token: str | None) -> _Reply:
        group = str(args.get("usergroup", ""))
        if group not in self.usergroups:
            return _Reply(body=_error("no_such_subteam"))
        return _Reply(body={"ok": True, "users": list(self.usergroups[group])})

    def _api_usergroups_list(self, args: dict[str, Any], token: str | None) -> _Reply:
        """Every user group of the workspace, in one answer (usergroups.list is not paged)."""
        groups = [
            {"id": g, "team_id": TEAM_ID, "handle": g.lower(), "user_count": len(m)} for g, m in self.usergroups.items()
        ]
        return _Reply(body={"ok": True, "usergroups": groups})

    def _api_users_info(self, args: dict[str, Any], token: str | None) -> _Reply:
        user = str(args.get("user", ""))
        if not user or user in self.missing_users:
            return _Reply(body=_error("user_not_found"))
        return _Reply(body={"ok": True, "user": self._user(user)})

    def _api_users_list(self, args: dict[str, Any], token: str | None) -> _Reply:
        # Without a limit Slack returns everyone at once (for small workspaces).
        page = self._page(self._known_users(), args, default_limit=0)
        if page is None:
            return _Reply(body=_error("invalid_cursor"))
        users, next_cursor = page
        body = {"ok": True, "members": [self._user(u) for u in users], "cache_ts": 1_700_000_000}
        body["response_metadata"] = {"next_cursor": next_cursor}
        return _Reply(body=body)

    # --- files.uploadV2 (slack_sdk's files_upload_v2): get an upload URL, upload, complete

    def _api_files_getUploadURLExternal(self, args: dict[str, Any], token: str | None) -> _Reply:
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            self._note_invalid("files.getUploadURLExternal", ["filename and length are required"], args)
            return _Reply(body=_error("invalid_arguments"))
        file_id = self._next_id("F")
        self._upload_names[file_id] = filename
        return _Reply(body={"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id})

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        if file_id not in self._upload_names:
            return web.Response(status=404, text="no such upload")
        self.uploads[file_id] = await request.read()
        await self._record(Call("upload", {"file_id": file_id}, None, 200, path=request.path, ok=True))
        return web.Response(text=f"OK - {len(self.uploads[file_id])}", content_type="text/plain")

    def _api_files_completeUploadExternal(self, args: dict[str, Any], token: str | None) -> _Reply:
        files = args.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            self._note_invalid("files.completeUploadExternal", ["files must be a JSON list of {id, title}"], args)
            return _Reply(body=_error("invalid_arguments"))
        if missing := [f["id"] for f in files if f["id"] not in self.uploads]:
            return _Reply(body=_error("file_not_found", missing=missing))
        channel = str(args.get("channel_id") or "")
        shared = []
        for f in files:
            name = self._upload_names[f["id"]]
            stored = {
                "id": f["id"],
                "name": name,
                "title": f.get("title") or name,
                "channel": channel,
                "content": self.uploads[f["id"]],
                "initial_comment": args.get("initial_comment") or "",
            }
            self.files.append(stored)
            shared.append(
                {"id": f["id"], "name": name, "title": stored["title"], "channels": [channel] if channel else []}
            )
        return _Reply(body={"ok": True, "files": shared})

    def _api_apps_connections_open(self, args: dict[str, Any], token: str | None) -> _Reply:
        if not (token or "").startswith("xapp-"):
            # Slack requires the app-level token here, not the bot token.
            return _Reply(body=_error("not_allowed_token_type"))
        return _Reply(body={"ok": True, "url": self.socket_url})

    # --- views

    def _store_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        previous = self.views_by_id.get(view_id or "", {})
        stored = {
            "team_id": TEAM_ID,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            **view,
            "id": view_id or self._next_id("V"),
            "hash": f"1700000000.{uuid.uuid4().hex[:8]}",
        }
        stored["root_view_id"] = previous.get("root_view_id", stored["id"])
        self.views.append(stored)
        self.views_by_id[stored["id"]] = stored
        return stored

    def _view_call(self, method: str, args: dict[str, Any]) -> _Reply | None:
        """Shared argument and view checks; a reply if the call must fail."""
        view = args.get("view")
        errors = view_errors(view) if view is not None else ["view is required"]
        if errors:
            self._note_invalid(method, errors, args)
            # Slack answers a malformed view with invalid_arguments; `errors` lists why.
            return _Reply(body=_error("invalid_arguments", errors=errors, response_metadata={"messages": errors}))
        return None

    def _api_views_open(self, args: dict[str, Any], token: str | None) -> _Reply:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            self._note_invalid("views.open", ["trigger_id is required"], args)
            return _Reply(body=_error("invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]}))
        if failed := self._view_call("views.open", args):
            return failed
        return _Reply(body={"ok": True, "view": self._store_view(args["view"])})

    def _api_views_push(self, args: dict[str, Any], token: str | None) -> _Reply:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            self._note_invalid("views.push", ["trigger_id is required"], args)
            return _Reply(body=_error("invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]}))
        if failed := self._view_call("views.push", args):
            return failed
        return _Reply(body={"ok": True, "view": self._store_view(args["view"])})

    def _api_views_update(self, args: dict[str, Any], token: str | None) -> _Reply:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((v["id"] for v in reversed(self.views) if v.get("external_id") == args["external_id"]), None)
            if view_id is None:
                return _Reply(body=_error("not_found"))
        if not view_id:
            self._note_invalid("views.update", ["view_id or external_id is required"], args)
            return _Reply(body=_error("invalid_arguments"))
        if failed := self._view_call("views.update", args):
            return failed
        # Unknown view ids are accepted: tests build view_submission/block_actions payloads
        # for modals this fake never opened.
        return _Reply(body={"ok": True, "view": self._store_view(args["view"], str(view_id))})

    def _api_views_publish(self, args: dict[str, Any], token: str | None) -> _Reply:
        user_id = args.get("user_id")
        if not user_id:
            self._note_invalid("views.publish", ["user_id is required"], args)
            return _Reply(body=_error("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]}))
        if failed := self._view_call("views.publish", args):
            return failed
        previous = self.home_views.get(str(user_id))
        stored = self._store_view(args["view"], previous["id"] if previous else None)
        self.home_views[str(user_id)] = stored
        return _Reply(body={"ok": True, "view": stored})

    # ------------------------------------------------------------------ Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        # autoping answers the SDK's "sdk-ping-pong:<t>" pings with matching pongs.
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "applink-fake",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
            # Cleared again when the last socket closes, so socket_send waits for a reconnect.
            self.socket_connected.set()
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    ack = json.loads(msg.data)
                except ValueError:
                    continue
                if not isinstance(ack, dict) or "envelope_id" not in ack:
                    continue
                self.socket_acks.append(ack)
                future = self._acks.pop(ack["envelope_id"], None)
                if future is not None and not future.done():
                    future.set_result(ack)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self.socket_connected.clear()
        return ws

    async def socket_send(
        self,
        type: str,
        payload: dict[str, Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested API, like asyncio.wait_for
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any]:
        """Send an envelope over Socket Mode and return the client's ack for it.

        `type` is "slash_commands", "interactive" or "events_api". Raises TimeoutError if
        no client is connected or no ack arrives within `timeout` seconds.
        """
        if accepts_response_payload is None:
            # What Slack does: commands, view submissions and option loads can be answered
            # through the ack; events and button clicks cannot.
            accepts_response_payload = type == "slash_commands" or payload.get("type") in (
                "view_submission",
                "block_suggestion",
            )
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        try:
            async with asyncio.timeout(timeout):
                while not self._sockets:  # a socket can close between set() and here
                    self.socket_connected.clear()
                    await self.socket_connected.wait()
                await self._sockets[-1].send_json(envelope)
                return await future
        finally:
            self._acks.pop(envelope_id, None)
