"""The container image (issue 22): its Dockerfile's promises, and its steps replayed and started
without a container engine (tests/deploy/dockerfile_replay.py), since none can run on CI's machine."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import httpx

from tests.deploy.dockerfile_replay import instructions, replay
from tests.fakes.fake_slack import FakeSlack
from tests.serving import ROOT, free_port
from tests.slack.harness import CONFIG, SECRET

DOCKERFILE = ROOT / "Dockerfile"
TEST_TOOLS = ("pytest", "mypy", "ruff", "playwright", "rfc8785", "httpx")


def wheelhouse() -> Path:
    """A folder holding the lock's own files and the wheel's build backend, downloaded once per lock.

    The replay installs from it alone (no index), which spares fifty look-ups of the package index
    each run; what it proves is unchanged, since pip checks every file against the lock's hashes
    (--require-hashes) wherever it comes from. Set CLEARANCE_TEST_WHEELHOUSE to keep it elsewhere.
    """
    lock = (ROOT / "requirements.lock").read_bytes()
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    digest = hashlib.sha256(lock + repr(backend).encode()).hexdigest()[:16]
    home = Path(os.environ.get("CLEARANCE_TEST_WHEELHOUSE") or tempfile.gettempdir())
    folder = home / f"clearance-wheelhouse-{digest}"
    if folder.is_dir():
        return folder
    home.mkdir(parents=True, exist_ok=True)
    filling = Path(tempfile.mkdtemp(prefix="filling-", dir=home))
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(filling)]
    subprocess.run([*pip, "--require-hashes", "-r", str(ROOT / "requirements.lock")], check=True)
    subprocess.run([*pip, *backend], check=True)
    try:
        filling.rename(folder)  # whole or not at all, whoever fills it first
    except OSError:
        shutil.rmtree(filling)
    return folder


def final_stage() -> list:
    steps = instructions(DOCKERFILE.read_text())
    last_from = max(i for i, step in enumerate(steps) if step.keyword == "FROM")
    return steps[last_from:]


def test_the_image_is_a_slim_python_running_as_a_user_that_is_not_root():
    steps = instructions(DOCKERFILE.read_text())
    assert [s.text for s in steps if s.keyword == "ARG"] == ["PYTHON_IMAGE=python:3.11-slim"]
    assert all(s.text.split()[0] == "${PYTHON_IMAGE}" for s in steps if s.keyword == "FROM")
    users = [s.text for s in final_stage() if s.keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    # CMD is the last word and runs as that user: nothing after USER switches back.
    assert [s.keyword for s in final_stage()].index("USER") < [s.keyword for s in final_stage()].index("CMD")


def test_it_installs_the_runtime_lock_only_with_hashes_and_no_test_tools():
    text = DOCKERFILE.read_text()
    runs = [s.text for s in final_stage() if s.keyword == "RUN"]
    installs = [part.strip() for run in runs for part in run.split("&&") if "pip install" in part]
    assert any("--require-hashes -r /opt/clearance-lock/requirements.lock" in line for line in installs), installs
    # Everything else pip installs is Clearance's own wheel, without resolving dependencies again.
    assert all("--require-hashes" in line or "--no-deps" in line for line in installs), installs
    assert "requirements-dev.lock" not in text and "[test]" not in text and "-e ." not in text
    assert not any(tool in line for line in installs for tool in TEST_TOOLS)


def test_it_checks_its_health_keeps_its_database_on_a_volume_and_serves_on_the_container_network():
    steps = final_stage()
    [health] = [s.text for s in steps if s.keyword == "HEALTHCHECK"]
    assert "/healthz" in health and "CMD" in health
    env = " ".join(s.text for s in steps if s.keyword == "ENV")
    assert "DATABASE_URL=sqlite:////var/lib/clearance/clearance.db" in env
    assert [s.text for s in steps if s.keyword == "VOLUME"] == ["/var/lib/clearance"]
    [cmd] = [s.text for s in steps if s.keyword == "CMD"]
    assert cmd == '["clearance", "serve", "--host", "0.0.0.0", "--port", "3000"]'


def test_the_build_context_leaves_out_secrets_databases_and_local_tools():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", "*.db", "*.db-*", ".venv", ".git", "clearance.toml", "*.backup"} <= ignored


def test_compose_runs_it_on_postgresql_and_publishes_it_on_loopback_only():
    compose = (ROOT / "compose.yaml").read_text()  # no YAML parser among the dependencies: its lines
    assert "image: postgres:16" in compose and '"pg_isready"' in compose
    assert "DATABASE_URL: postgresql://clearance:${POSTGRES_PASSWORD}@db:5432/clearance" in compose
    assert "condition: service_healthy" in compose
    assert re.findall(r"(?m)^\s+- \"(.*:3000)\"$", compose) == ["127.0.0.1:3000:3000"]


async def test_the_dockerfiles_steps_replayed_start_clearance_serve_and_its_healthcheck_passes(tmp_path):
    local = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(await asyncio.to_thread(wheelhouse))}
    image = await asyncio.to_thread(replay, DOCKERFILE, ROOT, tmp_path / "image", local)
    assert all(image.env.get(name) != value for name, value in local.items())  # the build's, not the image's
    assert image.skipped[-1] == "chown clearance:clearance /var/lib/clearance" and len(image.skipped) == 3
    pip = await asyncio.create_subprocess_exec(
        str(image.path("/opt/clearance/bin/python")), "-m", "pip", "list", "--format=freeze", stdout=subprocess.PIPE
    )
    listed = (await pip.communicate())[0].decode().lower()
    assert "clearance==" in listed and not [tool for tool in TEST_TOOLS if f"\n{tool}==" in f"\n{listed}"]
    image.path("/etc/clearance/clearance.toml").write_text(CONFIG)
    port = str(free_port())
    # The container's 0.0.0.0 and port 3000 are this machine's loopback and a free port here.
    on_this_machine = lambda words: [  # noqa: E731
        w.replace("0.0.0.0", "127.0.0.1").replace("3000", port) for w in image.mapped(words)
    ]
    async with FakeSlack() as slack:
        env = {k: v for k, v in image.env.items() if not k.startswith(("SLACK_", "CLEARANCE_LOG", "PYTHONPATH"))}
        env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url)
        log = (tmp_path / "serve.log").open("w")
        process = await asyncio.create_subprocess_exec(
            *on_this_machine(image.cmd), cwd=image.path(image.workdir), env=env, stdout=log, stderr=log
        )
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(600):
                    assert process.returncode is None, (tmp_path / "serve.log").read_text()
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
            check = await asyncio.create_subprocess_exec(*on_this_machine(image.healthcheck), env=env)
            assert await check.wait() == 0
        finally:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 15)
            log.close()
    assert image.path("/var/lib/clearance/clearance.db").is_file()  # on the volume
    assert "Clearance is serving on http://127.0.0.1:" in (tmp_path / "serve.log").read_text()
