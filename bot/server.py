"""HTTP entry point: an ASGI app with POST /slack/events and GET /healthz, served by uvicorn.

The signature is checked here first, before Bolt parses anything, so a request that is not
from Slack gets 401 whatever its body; a signed but malformed one gets 400, never a 500.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    from bot.runtime import Clearance

log = logging.getLogger("clearance.http")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; refuse anything absurd


def asgi_app(c: Clearance):
    verifier = SignatureVerifier(c.settings.signing_secret)

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok = c.ready
            await _respond(send, 200 if ok else 503, {"status": "ok" if ok else "starting"})
            return
        if path != EVENTS_PATH:
            await _respond(send, 404, {"error": "not found"})
            return
        if method != "POST":
            await _respond(send, 405, {"error": "use POST"})
            return
        body = await _read_body(receive)
        if body is None:
            await _respond(send, 413, {"error": "body too large"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            await _respond(send, 400, {"error": "body is not UTF-8"})  # Slack always sends UTF-8
            return
        if not verifier.is_valid_request(body, headers):
            await _respond(send, 401, {"error": "invalid signature"})
            return
        if not c.ready:
            await _respond(send, 503, {"error": "starting"})
            return
        replay = _replay(body)
        started = False

        async def tracking_send(message):
            nonlocal started
            started = True
            await send(message)

        try:
            await handler(scope, replay, tracking_send)
        except Exception as exc:  # malformed payloads make Bolt's parser raise
            log.warning("could not handle a signed request: %s", type(exc).__name__)
            if not started:
                await _respond(send, 400, {"error": "malformed request"})

    handler = AsyncSlackRequestHandler(c.app, path=EVENTS_PATH)
    return app


async def _read_body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes):
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _respond(send, status: int, payload: dict) -> None:
    raw = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
