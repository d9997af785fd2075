"""`clearance demo`: the real bot, its Slack stand-in and the page, in one process on 127.0.0.1.

The bot is what `clearance serve` runs (bot/runtime.Clearance and its ASGI app, served by uvicorn
on a port of its own) with the demo's config, a SQLite database in a folder of its own, a fresh
signing secret and SLACK_API_URL pointing at the stand-in. Nothing is read from the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
import webbrowser
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import uvicorn

from demo.clock import MovableClock
from demo.relay import Relay
from demo.slack import SlackStandIn
from demo.web import DemoPage
from demo.workspace import CONFIG

log = logging.getLogger("clearance.demo")
FIRST_PORT = 3000
PORTS_TRIED = 100
SEED_HOURS_AGO = 26  # the seeded morning began yesterday, so a reminder is already due


def folder() -> Path:
    """Where the demo keeps its database and its Slack's state between runs (one per user)."""
    return Path(tempfile.gettempdir()) / f"clearance-demo-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def pick_port(wanted: int | None) -> int:
    """`wanted`, or the first free port from 3000 on; OSError if none can be had."""
    candidates = [wanted] if wanted is not None else list(range(FIRST_PORT, FIRST_PORT + PORTS_TRIED))
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(errno.EADDRINUSE, f"port {wanted} is in use" if wanted is not None else "no free port from 3000")


class _QuietServer(uvicorn.Server):
    """The bot's own server: the page's server handles Ctrl+C for both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run(args: argparse.Namespace) -> int:
    from storage.db import migrate

    here = folder()
    if args.reset or args.seed:
        shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True, exist_ok=True)
    try:
        port = pick_port(args.port)
    except OSError as exc:
        print(f"clearance demo cannot listen on 127.0.0.1: {exc.strerror}. Try --port with another number.")
        return 2
    database_url = f"sqlite:///{here / 'demo.db'}"
    config = here / "clearance.toml"
    config.write_text(CONFIG, encoding="utf-8")
    migrate(database_url)
    try:
        return asyncio.run(_run(here, port, database_url, config, seed=args.seed, open_browser=args.open))
    except KeyboardInterrupt:
        return 0


async def _run(here: Path, port: int, database_url: str, config: Path, *, seed: bool, open_browser: bool) -> int:
    demo = Demo(here, port, database_url, config, seed=seed)
    try:
        if not await demo.start():
            print("clearance demo could not start its servers; see the log above.", file=sys.stderr)
            return 2
        print(f"{demo.address}/", flush=True)
        log.info("Clearance demo: open %s/ in a browser (Ctrl+C stops it)", demo.address)
        if open_browser:
            webbrowser.open(f"{demo.address}/")
        await demo.served()
    finally:
        await demo.stop()
    return 0


class Demo:
    """The bot, the stand-in and the page, started and stopped together (the CLI and the tests)."""

    def __init__(self, here: Path, port: int, database_url: str, config: Path, *, seed: bool = False) -> None:
        from bot.config.settings import load_settings
        from bot.wiring.runtime import Clearance

        self.seed = seed
        self.address = f"http://127.0.0.1:{port}"
        self.slack = slack = SlackStandIn(self.address, saved=here / "slack.json")
        offset = timedelta(seconds=float(slack.state["clock_offset"]))
        self.clock = clock = MovableClock(offset - timedelta(hours=SEED_HOURS_AGO) if seed else offset)
        slack.now = clock
        secret = secrets.token_hex(20)  # a new one each run: nothing but this process can sign
        settings = load_settings(
            env={
                "SLACK_BOT_TOKEN": "xoxb-demo-" + secrets.token_hex(8),
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": database_url,
                "CLEARANCE_CONFIG": str(config),
            }
        )
        self.clearance = clearance = Clearance(settings, clock=clock)
        clearance.sender.poll_seconds = 0.05  # the page shows a click's result at once, not a second later
        bot_port = _free_port()
        self.bot_server = _QuietServer(
            uvicorn.Config(
                clearance.asgi(), host="127.0.0.1", port=bot_port, lifespan="off", access_log=False, log_config=None
            )
        )
        self.relay = Relay(slack, f"http://127.0.0.1:{bot_port}", secret)
        self.page = DemoPage(slack, self.relay, clock, self.sweep)
        self.page_server = uvicorn.Server(
            uvicorn.Config(
                self.page.app(), host="127.0.0.1", port=port, lifespan="off", access_log=False, log_config=None
            )
        )
        self._tasks: list[asyncio.Task] = []

    async def sweep(self) -> None:
        """The reminder sweep at the clock's now, then its messages sent."""
        await self.clearance.reminders.run_once()
        self.clearance.sender.wake()

    async def start(self) -> bool:
        page_task = asyncio.create_task(self.page_server.serve())
        bot_task = asyncio.create_task(self.bot_server.serve())
        self._tasks = [page_task, bot_task]
        while not (self.page_server.started and self.bot_server.started):
            if page_task.done() or bot_task.done():
                return False
            await asyncio.sleep(0.02)
        await self.clearance.start()
        if self.seed:
            from demo.seed import seed_morning

            await seed_morning(self, SEED_HOURS_AGO)
        return True

    async def served(self) -> None:
        await self._tasks[0]

    async def stop(self) -> None:
        self.page_server.should_exit = True
        self.bot_server.should_exit = True
        await self.relay.aclose()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await task
        await self.clearance.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
