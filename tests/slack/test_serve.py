"""`clearance serve` itself, as an operator runs it: a real process, real HTTP, real signatures."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.fakes.signing import SlackHttp, slash_command
from tests.serving import Serve, free_port, serve_env
from tests.slack.harness import CONFIG, SECRET


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
    return serve_env(api_url=api_url, secret=SECRET)


async def test_serve_starts_on_a_fresh_sqlite_database_and_takes_signed_requests(slack, tmp_path):
    server = Serve("http", tmp_path, base_env(tmp_path, slack.api_url))
    await server.start()
    try:
        await server.healthy()
        assert (tmp_path / "clearance.db").exists()  # created and migrated on first start
        async with SlackHttp(SECRET, base_url=server.url) as http:
            response = await http.command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
            assert response.status_code == 200
            body, content_type = slash_command("/request-tool", "x", "U0OFFICER", trigger_id="1.2.4")
            assert (await http.send(body, content_type, secret="wrong")).status_code == 401
        await slack.wait_for("views.open")
    finally:
        returncode = await server.stop()
    output = await server.output()
    assert returncode in (0, -15), output  # uvicorn re-raises SIGTERM after a clean shutdown
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
