"""Trap 1 of issue 22: the config's ids are checked with Slack (channels, the bot in them, users,
user groups): `clearance check` on demand, a warning per bad id at start and in /healthz."""

from __future__ import annotations

import asyncio
import logging

from bot.cli import main
from tests.fakes.fake_slack import FakeSlack
from tests.slack.harness import CONFIG, SECRET, start_bot, stop_bot


def environment(monkeypatch, slack: FakeSlack, tmp_path, api_url: str | None = None) -> None:
    path = tmp_path / "clearance.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url or slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "CLEARANCE_CONFIG": str(path),
    }.items():
        monkeypatch.setenv(name, value)


def workspace_with_two_bad_ids(slack: FakeSlack) -> None:
    slack.usergroups = {}  # S0SECGRP is not a user group of this workspace
    slack.channel_errors["C0PRIV"] = "channel_not_found"


async def test_clearance_check_lists_each_bad_id_with_its_config_key_and_exits_1(slack, tmp_path, monkeypatch, capsys):
    workspace_with_two_bad_ids(slack)
    environment(monkeypatch, slack, tmp_path)
    assert await asyncio.to_thread(main, ["check"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[1:] == [
        "  [stages.it_security] reviewers: user group S0SECGRP does not exist",
        "  [stages.privacy] channel: channel C0PRIV does not exist (or is private and the bot is not in it)",
    ]
    assert {c.method for c in slack.calls} >= {"conversations.info", "users.info", "usergroups.list"}


async def test_clearance_check_exits_0_when_every_id_exists_and_2_when_slack_is_unreachable(
    slack, tmp_path, monkeypatch, capsys
):
    slack.missing_users.add("U0NOBODY")  # not in the config: not asked about
    environment(monkeypatch, slack, tmp_path)
    assert await asyncio.to_thread(main, ["check"]) == 0
    assert "every channel, user and user group exists" in capsys.readouterr().out
    environment(monkeypatch, slack, tmp_path, api_url="http://127.0.0.1:1/api/")
    assert await asyncio.to_thread(main, ["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Clearance could not check the config with Slack (ClientConnectorError); nothing was checked."]


async def test_a_deactivated_user_and_a_channel_without_the_bot_are_named(slack, tmp_path, monkeypatch, capsys):
    slack.users["U0PRIV1"] = {"deleted": True}
    slack.channel_errors["C0CMD"] = "not_in_channel"
    slack.missing_users.add("U0CHIEF")
    environment(monkeypatch, slack, tmp_path)
    assert await asyncio.to_thread(main, ["check"]) == 1
    lines = capsys.readouterr().out.splitlines()[1:]
    assert "  [roles] command_staff: user U0CHIEF does not exist" in lines
    assert "  [stages.privacy] reviewers: user U0PRIV1 is deactivated" in lines
    assert (
        "  [stages.command] channel: channel C0CMD: the bot is not in it (invite it with /invite @Clearance)" in lines
    )


async def test_at_start_each_bad_id_is_a_warning_and_is_in_healthz_and_start_does_not_wait(
    slack, database_url, tmp_path, caplog
):
    workspace_with_two_bad_ids(slack)
    slack.delays["usergroups.list"] = 30  # Slack on a slow day: start must not wait for it
    caplog.set_level(logging.INFO)
    bot = await start_bot(slack, database_url, tmp_path, configure=lambda c: setattr(c.config_check, "at_start", True))
    try:
        assert bot.c.ready and bot.c.config_check.problems == []  # started; the check still waiting
        slack.delays.clear()
        bot.c._checking.cancel()
        await bot.c.config_check.run()  # as the background task does, with Slack answering
        warnings = [r.getMessage() for r in caplog.records if r.name == "clearance.config"]
        assert warnings == [
            "[stages.it_security] reviewers: user group S0SECGRP does not exist",
            "[stages.privacy] channel: channel C0PRIV does not exist (or is private and the bot is not in it)",
        ]
        health = await bot.http.client.get("/healthz")
        assert health.json()["config"] == warnings
    finally:
        await stop_bot(bot)
