"""`clearance serve` itself, as an operator runs it: a real process, real HTTP, real signatures."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, throwaway_postgres
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


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps (Linux)")
@pytest.mark.parametrize("backend", BACKENDS)
async def test_serve_migrates_a_fresh_database_without_keeping_the_migration_tools_in_memory(slack, tmp_path, backend):
    """The start-up migration runs in a child process: the serving process never loads psycopg (its
    libpq) nor `cryptography` (exports' signatures), memory it would keep for good (issue 23)."""
    env = base_env(tmp_path, slack.api_url)
    with throwaway_postgres("clearance_serve") if backend == "postgresql" else contextlib.nullcontext() as url:
        if url:
            env["DATABASE_URL"] = url
        server = Serve("fresh", tmp_path, env)
        await server.start()
        try:
            await server.healthy()
            async with SlackHttp(SECRET, base_url=server.url) as http:  # the schema is there: a form opens
                response = await http.command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
                assert response.status_code == 200
            await slack.wait_for("views.open")
            maps = await asyncio.to_thread(Path(f"/proc/{server.process.pid}/maps").read_text)
        finally:
            await server.stop()
    files = {line.split()[-1] for line in maps.splitlines() if "/" in line}
    assert not [path for path in files if "psycopg" in path or "libpq" in path or "/cryptography/" in path]
    assert "Running upgrade  -> 0001" in await server.output()  # the child's log, passed on


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
