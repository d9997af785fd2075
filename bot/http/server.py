"""HTTP entry point: a Starlette app with POST /slack/events and GET /healthz, served by uvicorn.

Order of checks on /slack/events, each before anything later is touched:
  headers well-formed (400) → body at most 1 MiB (413, never read further) → signature (401) →
  UTF-8 (400) → started (503) → content type (415) → parsed by Bolt (400 if malformed, never
  500) → from the installed workspace (403; Events API deliveries acked 200) → Bolt's listeners.

Bolt's AsyncSlackRequestHandler for Starlette is not used as-is: it reads the whole body however
large and parses it before the signature is verified. The Bolt request is built here from the
verified bytes and the validated Slack headers only, and Bolt's Starlette adapter turns Bolt's
answer into the response. More pages: add a Route to `routes()`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Sequence

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.http.health import Health
from bot.http.metrics import Metrics, kind_of
from bot.http.slack_body import parse_body
from bot.http.turned_away import TurnedAwayLog
from bot.people.slack_identity import SlackIdentity
from storage.probe import DatabaseProbe

log = logging.getLogger("clearance.http")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; refuse anything absurd
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")  # all Slack sends

_TIMESTAMP = re.compile(r"[0-9]{1,10}")  # Unix seconds; 10 digits last until the year 2286
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_RETRY_NUM = re.compile(r"[0-9]{1,3}")
_RETRY_REASON = re.compile(r"[a-z_]{1,64}")


def asgi_app(
    app: AsyncApp,
    identity: SlackIdentity,
    *,
    signing_secret: str | None,
    database_url: str,
    ready: Callable[[], bool],
    monotonic: Callable[[], float] = time.monotonic,
    pages: Sequence[BaseRoute] = (),
    write_problem: Callable[[], str | None] | None = None,
    config_problems: Callable[[], list[str]] = list,
    metrics: Metrics | None = None,
    metrics_route: BaseRoute | None = None,
) -> Starlette:
    """The ASGI app uvicorn serves: Slack's payloads go to the Bolt `app`; `ready()` says the process
    has started; `monotonic` is the clock for health caching and log limits; `pages` are the public
    pages' routes (pages/http.py: /transparency)."""
    health = Health(
        identity,
        DatabaseProbe(database_url),
        ready,
        monotonic=monotonic,
        write_problem=write_problem,
        config_problems=config_problems,
    )
    events = SlackEvents(app, identity, signing_secret, ready, monotonic=monotonic, metrics=metrics)
    extra = [metrics_route] if metrics_route is not None else []
    return Starlette(routes=[*routes(health, events, pages), *extra], exception_handlers={HTTPException: _http_error})


def routes(health: Health, events: SlackEvents, pages: Sequence[BaseRoute] = ()) -> Sequence[BaseRoute]:
    return [
        Route("/healthz", health.endpoint, methods=["GET"]),  # HEAD too (Starlette adds it)
        Route(EVENTS_PATH, events.endpoint, methods=["POST"]),
        *pages,
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    """404 and 405 from routing, as JSON like every other answer."""
    assert isinstance(exc, HTTPException)
    errors = {404: "not found", 405: "method not allowed"}
    return JSONResponse(
        {"error": errors.get(exc.status_code, exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class SlackEvents:
    """POST /slack/events: everything Slack sends over HTTP (commands, interactivity, events)."""

    def __init__(
        self,
        app: AsyncApp,
        identity: SlackIdentity,
        signing_secret: str | None,
        ready: Callable[[], bool],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._identity = identity
        self._ready = ready
        self._secret = (signing_secret or "").encode()
        self.bad_signatures = TurnedAwayLog(
            log,
            "request(s) with no valid Slack signature",
            "If these come from Slack, SLACK_SIGNING_SECRET is wrong: copy the Signing Secret from the "
            "Slack app settings → Basic Information (not the client secret or a token).",
            monotonic=monotonic,
        )
        self.foreign_teams = TurnedAwayLog(
            log,
            "payload(s) from another Slack workspace",
            "This Clearance serves only the workspace its bot token belongs to.",
            monotonic=monotonic,
        )

    async def endpoint(self, request: Request) -> Response:
        headers, problem = _slack_headers(request)
        if problem:
            return _error(400, problem)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 12):
            return _error(400, "Content-Length is not a number")
        if declared is not None and int(declared) > MAX_BODY:
            return _error(413, "body too large")
        try:
            body = await _read_body(request)
        except ClientDisconnect:  # the sender gave up mid-body: nothing to answer, nothing to log
            return _error(400, "incomplete body")
        if body is None:
            return _error(413, "body too large")
        refused = self._signature_problem(body, headers)
        if refused:
            self.bad_signatures.note(refused, request.client.host if request.client else "unknown address")
            return _error(401, "invalid signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "body is not UTF-8")  # Slack always sends UTF-8
        if not self._ready():
            return _error(503, "starting")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            return _error(415, "Content-Type must be application/json or application/x-www-form-urlencoded")
        return await self._dispatch(text, content_type, headers)

    def _signature_problem(self, body: bytes, headers: dict[str, str]) -> str | None:
        """Why the request is not signed by Slack (a short reason for the log), or None."""
        timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        if not self._secret:
            return "no SLACK_SIGNING_SECRET set (Socket Mode), so HTTP requests are not taken"
        if timestamp is None or signature is None:
            return "unsigned"
        if abs(time.time() - int(timestamp)) > 60 * 5:
            return "stale timestamp (replayed, or this machine's clock is off)"
        # Slack's v0 scheme, over the raw bytes (slack_sdk's verifier decodes them first).
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not _SIGNATURE.fullmatch(signature) or not hmac.compare_digest(expected, signature):
            return "signature mismatch"
        return None

    async def _dispatch(self, text: str, content_type: str, headers: dict[str, str]) -> Response:
        try:
            # Parsed here, faster than Bolt would (bot/http/slack_body.py). Bolt takes a parsed body only
            # in its Socket Mode form, whose one other difference is that Bolt does not check the
            # signature again: it was checked above, on the raw bytes.
            bolt_request = AsyncBoltRequest(
                body=parse_body(text, content_type), headers=dict(headers), mode="socket_mode"
            )
        except Exception as exc:  # signed, but not a payload Bolt can read
            log.warning("could not parse a signed request: %s", type(exc).__name__)
            return _error(400, "malformed request")
        team, enterprise = bolt_request.context.team_id, bolt_request.context.enterprise_id
        if self._identity.is_foreign(team, enterprise):
            kind = "slash_command" if "command" in bolt_request.body else str(bolt_request.body.get("type", "?"))[:40]
            self.foreign_teams.note(kind, f"org {enterprise}" if enterprise else f"team {team}")
            if bolt_request.body.get("type") == "event_callback":
                # Acked, not failed: Slack retries failed deliveries and disables an app's event
                # subscription when most of them fail, which would cut off the installed workspace too.
                return Response(status_code=200)
            return _error(403, "this Clearance serves another Slack workspace")
        started = time.perf_counter()
        try:
            bolt_response = await self._app.async_dispatch(bolt_request)
        except Exception as exc:  # malformed payloads can make Bolt's matchers raise
            log.warning("could not handle a signed request: %s", type(exc).__name__)
            return _error(400, "malformed request")
        if self._metrics is not None:
            kind = kind_of(bolt_request.body)
            self._metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
            self._metrics.requests.labels(kind, str(bolt_response.status)).inc()
        return to_starlette_response(bolt_response)


def _slack_headers(request: Request) -> tuple[dict[str, str], str | None]:
    """The headers Bolt is given (only these, validated), or the reason they are malformed.

    A request with neither signature header is left to the signature check (401): it is simply
    not signed. Anything else malformed is a 400 that says which header is wrong.
    """
    raw = request.headers
    headers: dict[str, str] = {}
    for name in ("content-type", "x-slack-request-timestamp", "x-slack-signature"):
        values = raw.getlist(name)
        if len(values) > 1:
            return {}, f"{_title(name)} was sent more than once"
        if values:
            headers[name] = values[0]
    timestamp = headers.get("x-slack-request-timestamp")
    if "x-slack-signature" in headers and timestamp is None:
        return {}, "X-Slack-Request-Timestamp is missing"
    if timestamp is not None and not _TIMESTAMP.fullmatch(timestamp):
        return {}, "X-Slack-Request-Timestamp must be a Unix time in seconds"
    retry_num, retry_reason = raw.get("x-slack-retry-num"), raw.get("x-slack-retry-reason")
    if retry_num is not None:
        if not _RETRY_NUM.fullmatch(retry_num):
            return {}, "X-Slack-Retry-Num must be a small number"
        headers["x-slack-retry-num"] = retry_num
    if retry_reason is not None and _RETRY_REASON.fullmatch(retry_reason):
        headers["x-slack-retry-reason"] = retry_reason  # informational; dropped if odd
    return headers, None


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


async def _read_body(request: Request) -> bytes | None:
    """The body, or None as soon as it passes MAX_BODY (the rest is never read)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
