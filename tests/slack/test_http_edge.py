"""The HTTP edge is bounded (issue 21, rows 3-5): raw sockets against the bot served by uvicorn as
`clearance serve` runs it (bot/http/edge.py's protocol and options), on a real TCP port."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time

import pytest
import uvicorn

from bot.config.settings import HttpLimits, load_http_limits
from bot.http.edge import uvicorn_options
from bot.http.listen import bind
from tests.serving import ROOT

STALLED = b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"  # and nothing more, ever


@contextlib.asynccontextmanager
async def served(app, limits: HttpLimits):
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None, **uvicorn_options(limits))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), task
        await asyncio.sleep(0.01)
    try:
        yield server, sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def connect(port: int, data: bytes = b""):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if data:
        writer.write(data)
        await writer.drain()
    return reader, writer


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent until it closed the connection (fails if it is still open)."""
    async with asyncio.timeout(seconds):
        return await reader.read()


async def health(port: int) -> bytes:
    reader, writer = await connect(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    try:
        return await closed_within(reader, 5)
    finally:
        writer.close()


async def test_stalled_headers_and_a_stalled_body_are_closed_within_seconds(bot):
    limits = HttpLimits(header_timeout=1, body_timeout=1)
    async with served(bot.c.asgi(), limits) as (_, port):
        start = time.monotonic()
        stalled = [await connect(port, STALLED) for _ in range(50)]
        body = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
        slow_body = await connect(port, body)
        for reader, _ in [*stalled, slow_body]:
            assert await closed_within(reader, 5) == b""
        assert time.monotonic() - start < 5
        for _, writer in [*stalled, slow_body]:
            writer.close()


async def test_a_header_that_never_ends_is_refused_without_being_buffered(bot):
    limits = HttpLimits(max_header_bytes=16 * 1024)
    async with served(bot.c.asgi(), limits) as (server, port):
        reader, writer = await connect(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        chunk, sent = b"a" * 65536, 0
        with contextlib.suppress(ConnectionError):
            while sent < 48 * 1024 * 1024 and not reader.at_eof():
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
                if reader._buffer:  # type: ignore[attr-defined]  # the answer came: stop sending
                    break
        answer = await closed_within(reader, 5)
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert sent < 48 * 1024 * 1024  # refused long before the 48 MB were sent
        writer.close()
        assert (await health(port)).startswith(b"HTTP/1.1 200 ")


async def test_connections_are_capped_and_health_still_answers_past_the_cap(bot):
    limits = HttpLimits(max_connections=16, header_timeout=60)
    async with served(bot.c.asgi(), limits) as (server, port):
        stalled = [await connect(port, STALLED) for _ in range(40)]
        await asyncio.sleep(0)  # let the server see the last ones
        for _ in range(100):
            if sum(reader.at_eof() for reader, _ in stalled) >= 40 - 16:
                break
            await asyncio.sleep(0.02)
        assert len(server.server_state.connections) <= 16
        # The ones that waited longest gave their places to newcomers; the newest are still open.
        assert all(reader.at_eof() for reader, _ in stalled[:20])
        assert not any(reader.at_eof() for reader, _ in stalled[-8:])
        assert (await health(port)).startswith(b"HTTP/1.1 200 ")
        for _, writer in stalled:
            writer.close()


async def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_time_out(bot):
    async with served(bot.c.asgi(), HttpLimits(keep_alive=1)) as (_, port):
        reader, writer = await connect(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = await closed_within(reader, 4)
        assert answer.startswith(b"HTTP/1.1 200 ")
        writer.close()


def test_a_low_open_file_limit_lowers_the_cap_with_a_warning_at_start():
    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300));"
        "from bot.http.edge import connection_cap; print(connection_cap(1000))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.startswith("(172, ")  # 300 less the descriptors kept for the database, Slack and logs
    assert "RLIMIT_NOFILE" in out and "LimitNOFILE=1128" in out


def test_the_limits_come_from_the_environment_and_nonsense_is_refused():
    problems: list[str] = []
    limits = load_http_limits(
        {"CLEARANCE_HTTP_HEADER_TIMEOUT": "5s", "CLEARANCE_HTTP_MAX_CONNECTIONS": "500"}, problems
    )
    assert (limits.header_timeout, limits.max_connections, problems) == (5, 500, [])
    load_http_limits({"CLEARANCE_HTTP_MAX_HEADER_BYTES": "lots"}, problems)
    assert problems == ["CLEARANCE_HTTP_MAX_HEADER_BYTES must be a whole number from 4096 to 1048576 (got 'lots')."]


@pytest.fixture(autouse=True)
def _quiet_uvicorn(caplog):
    caplog.set_level("ERROR", logger="uvicorn.error")
