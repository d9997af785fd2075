"""Running `clearance serve` as a real process, the way an operator does (tests and benchmarks)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(*, api_url: str, secret: str, database_url: str | None = None, config: Path | None = None) -> dict:
    """The process environment, with nothing inherited that could point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "CLEARANCE_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=secret, SLACK_API_URL=api_url, PYTHONPATH=str(ROOT))
    if database_url:
        env["DATABASE_URL"] = database_url
    if config:
        env["CLEARANCE_CONFIG"] = str(config)
    return env


class Serve:
    """One `clearance serve` subprocess, its port and its log file."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name, self.port, self.log = name, free_port(), workdir / f"serve-{name}.log"
        self.env, self.cwd = env, workdir
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("w") as out:  # the child keeps its own copy of the descriptor
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)),
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def healthy(self, attempts: int = 400) -> None:
        """Wait for GET /healthz to answer 200; fail with the process's log if it never does."""
        async with httpx.AsyncClient() as client:
            for _ in range(attempts):
                if self.process.returncode is not None:
                    raise AssertionError(f"serve {self.name} exited {self.process.returncode}:\n{await self.output()}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"serve {self.name} never became healthy:\n{await self.output()}")

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else None
        self.process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        return self.process.returncode

    async def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, whatever it was doing left half-done."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def output(self) -> str:
        return await asyncio.to_thread(self.log.read_text)
