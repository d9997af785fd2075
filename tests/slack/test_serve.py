"""`clearance serve` itself, as an operator runs it: a real process, real HTTP, real signatures."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

from tests.fakes.signing import SlackHttp, slash_command
from tests.slack.harness import CONFIG, SECRET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_clearance(args, env, cwd) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


def base_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    (tmp_path / "clearance.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "CLEARANCE_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url)
    env["PYTHONPATH"] = str(Path(__file__).parent.parent.parent)
    return env


async def test_serve_starts_on_a_fresh_sqlite_database_and_takes_signed_requests(slack, tmp_path):
    port = free_port()
    proc = await run_clearance(
        ["serve", "--port", str(port), "--host", "127.0.0.1"], base_env(tmp_path, slack.api_url), tmp_path
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("clearance serve did not become healthy")
        assert (tmp_path / "clearance.db").exists()  # created and migrated on first start
        async with SlackHttp(SECRET, base_url=f"http://127.0.0.1:{port}") as http:
            response = await http.command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
            assert response.status_code == 200
            body, content_type = slash_command("/request-tool", "x", "U0OFFICER", trigger_id="1.2.4")
            assert (await http.send(body, content_type, secret="wrong")).status_code == 401
        await slack.wait_for("views.open")
    finally:
        proc.terminate()
        output = (await proc.communicate())[0].decode()
    assert proc.returncode in (0, -15), output  # uvicorn re-raises SIGTERM after a clean shutdown
    assert "Finished server process" in output
    assert SECRET not in output and "xoxb-test" not in output  # no secrets in logs


async def test_serve_refuses_to_start_without_settings_and_says_what_to_fix(tmp_path):
    env = base_env(tmp_path, "http://127.0.0.1:9/api/")
    del env["SLACK_BOT_TOKEN"]
    proc = await run_clearance(["serve"], env, tmp_path)
    output = (await proc.communicate())[0].decode()
    assert proc.returncode == 2
    assert "SLACK_BOT_TOKEN is missing" in output and "OAuth & Permissions" in output
    assert "Traceback" not in output


async def test_serve_refuses_a_token_slack_rejects(slack, tmp_path):
    slack.fail_next("auth.test", status=200, error="invalid_auth")
    proc = await run_clearance(["serve", "--port", str(free_port())], base_env(tmp_path, slack.api_url), tmp_path)
    output = (await asyncio.wait_for(proc.communicate(), 30))[0].decode()
    assert proc.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in output
