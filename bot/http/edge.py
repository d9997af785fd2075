"""The HTTP edge, bounded: a slow or hostile client costs a connection for seconds, never memory
without bound, and never all the connections.

uvicorn (with httptools) closes a connection idle between requests (timeout_keep_alive), but has
no time-out for reading a request's headers or body, no limit on header size (llhttp buffers
what it is given) and no cap on open connections: 400 stalled `POST … Host: x` stayed open for
ever, 1,100 of them under systemd's 1,024 open files reset every new connection, and four 48 MB
headers took 270 MB. So the protocol uvicorn runs is this subclass of its own:

- the headers of a request must be complete `header_timeout` seconds after the connection opened
  or the last response went out, and its body `body_timeout` seconds after its headers: else the
  connection is closed;
- headers larger than `max_header_bytes` are answered 431 and the connection closed, before
  more than that is given to the parser;
- at most `max_connections` are open: a new one beyond that takes the place of the one idle
  longest (no request in progress: a stalled or kept-alive connection), so /healthz and Slack
  still get in; when every connection is busy with a request, the new one is closed at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.config.settings import HttpLimits

log = logging.getLogger("clearance.http")

# Descriptors kept for what is not a client connection: the database pool, Slack connections,
# the log, the listening socket.
RESERVED_FILES = 128


def connection_cap(wanted: int) -> tuple[int, str | None]:
    """The connection cap under this process's open-file limit (raised to its hard limit first),
    and a warning when the limit forced it lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted, None
    cap = max(1, soft - RESERVED_FILES)
    return cap, (
        f"the open-file limit (RLIMIT_NOFILE) is {soft}: at most {cap} HTTP connections at once, not {wanted}. "
        f"Raise it (systemd: LimitNOFILE={needed} or more; a shell: ulimit -n {needed})."
    )


def uvicorn_options(limits: HttpLimits) -> dict[str, Any]:
    """What uvicorn.Config is given for the edge (bot/cli.py): the guarded protocol, keep-alive."""
    cap, warning = connection_cap(limits.max_connections)
    if warning:
        log.warning(warning)
    effective = dataclasses.replace(limits, max_connections=cap)
    return {"http": guarded_protocol(effective), "timeout_keep_alive": limits.keep_alive}


_TOO_LARGE_BODY = b'{"error": "request headers too large"}'
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TOO_LARGE_BODY), _TOO_LARGE_BODY)
)


def guarded_protocol(limits: HttpLimits) -> type[asyncio.Protocol]:
    class GuardedHttp(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._idle_since = time.monotonic()
            self._in_request = False
            self._reading_headers = True
            self._header_bytes = 0
            self._refused = False
            self._deadline: asyncio.TimerHandle | None = None
            if len(self.connections) >= limits.max_connections and not self._make_room():
                log.warning("refused an HTTP connection: %d open, all busy", len(self.connections))
                transport.abort()
                return
            super().connection_made(transport)
            self._expect(limits.header_timeout, "headers")

        def _make_room(self) -> bool:
            idle = [c for c in self.connections if isinstance(c, GuardedHttp) and not c._in_request]
            if not idle:
                return False
            oldest = min(idle, key=lambda c: c._idle_since)
            oldest.transport.abort()
            oldest.connections.discard(oldest)  # at once: its connection_lost comes a loop turn later
            return True

        def _expect(self, seconds: float, what: str) -> None:
            self._cancel_deadline()
            self._deadline = self.loop.call_later(seconds, self._too_slow, what)

        def _cancel_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self, what: str) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                if not self._refused:
                    log.info("closed an HTTP connection: its %s did not arrive in time", what)
                self.transport.close()

        def _refuse_headers(self) -> None:
            """431, then what still arrives is dropped unread for a moment before the connection is
            closed: closed at once, the unread bytes would make it a reset the client sees before
            the answer."""
            log.warning("refused an HTTP request: headers over %d bytes", limits.max_header_bytes)
            self._refused = True
            self.transport.write(_TOO_LARGE)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self._expect(1.0, "end")

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return  # dropped: nothing buffered
            if self._reading_headers:
                room = limits.max_header_bytes - self._header_bytes
                if len(data) > room:
                    head, rest = data[: max(room, 0)], data[max(room, 0) :]
                    self._header_bytes += len(head)
                    if head:
                        super().data_received(head)
                    if self._reading_headers:
                        self._refuse_headers()
                        return
                    if rest and not self.transport.is_closing():
                        self.data_received(rest)
                    return
                self._header_bytes += len(data)
            super().data_received(data)

        def on_headers_complete(self) -> None:
            self._reading_headers = False
            self._in_request = True  # from here until its response: not taken for a newcomer
            self._expect(limits.body_timeout, "body")
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._cancel_deadline()
            self._reading_headers = True  # a pipelined request's headers count on their own
            self._header_bytes = 0
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._in_request = False
            self._idle_since = time.monotonic()
            super().on_response_complete()
            if not self.transport.is_closing():
                self._expect(limits.header_timeout, "headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_deadline()
            if self.transport is None:  # refused in connection_made: uvicorn never saw it
                return
            super().connection_lost(exc)

    return GuardedHttp
