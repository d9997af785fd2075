"""Anchors of the audit chain in Slack: `clearance audit anchor` records the head and posts it to
[audit] channel through the write path and the outbox; `clearance audit verify --slack` reads the
channel's history page by page and catches a tail cut off after the anchor, even when the database's
own anchors were deleted with it."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.messages.anchors import anchor_line, parse_anchor
from storage.chain import append as append_entries
from storage.db import urls
from tests.slack.harness import CONFIG
from tests.storage.test_chain import entries, tamper

AUDIT = "C0AUDIT"
WITH_AUDIT = CONFIG + f'\n[audit]\nchannel = "{AUDIT}"\nanchor_every = "24h"\n'


@pytest.fixture
def sync(database_url):
    engine = create_engine(urls(database_url)[1])
    yield engine
    engine.dispose()


@pytest.fixture
def operator(slack, database_url, tmp_path, monkeypatch):
    """The operator's shell: the bot's .env and a config with an audit channel."""
    config = tmp_path / "clearance.toml"
    config.write_text(WITH_AUDIT, encoding="utf-8")
    for name, value in {
        "DATABASE_URL": database_url,
        "CLEARANCE_CONFIG": str(config),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.api_url,
    }.items():
        monkeypatch.setenv(name, value)
    return config


async def clearance(capsys, *argv: str) -> tuple[int, str]:
    """Run the CLI as the operator would (in a thread: the fake Slack answers on this loop)."""
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    return code, (out.out + out.err).strip()


def anchors_in(sync) -> list[tuple[int, str, str]]:
    with sync.connect() as conn:
        rows = conn.execute(text("SELECT seq, hash, at, posted_to FROM audit_anchors WHERE kind = 'anchor'")).all()
    return [(r[0], r[1], r[3]) for r in rows]


def head_hash(sync, seq: int) -> str:
    with sync.connect() as conn:
        return conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq}).scalar_one()


async def test_an_anchor_is_recorded_and_posted_to_the_audit_channel_once(operator, slack, sync, capsys):
    with sync.begin() as conn:
        append_entries(conn, entries(44))
    code, said = await clearance(capsys, "audit", "anchor")
    assert code == 0, said
    assert said.startswith(f"Anchored entry 44 (hash {head_hash(sync, 44)}) at ") and said.endswith(
        f"posted to {AUDIT}."
    )
    assert anchors_in(sync) == [(44, head_hash(sync, 44), AUDIT)]
    [posted] = slack.messages_in(AUDIT)
    seq, digest, at = parse_anchor(posted["text"])
    assert (seq, digest) == (44, head_hash(sync, 44))
    assert posted["text"].startswith(anchor_line(44, digest, at))
    assert "by an operator" in posted["text"] and "clearance audit verify --slack" in posted["text"]

    code, said = await clearance(capsys, "audit", "anchor")  # nothing written since: nothing to add
    assert code == 0 and said.startswith("Nothing new to anchor: the head is still entry 44, anchored at ")
    assert len(slack.messages_in(AUDIT)) == 1 and len(anchors_in(sync)) == 1


async def test_without_an_audit_channel_the_anchor_is_the_databases_alone(operator, slack, sync, capsys):
    operator.write_text(CONFIG, encoding="utf-8")
    with sync.begin() as conn:
        append_entries(conn, entries(3))
    code, said = await clearance(capsys, "audit", "anchor")
    assert code == 0 and said.endswith("no [audit] channel is set, so nothing was posted to Slack."), said
    assert anchors_in(sync) == [(3, head_hash(sync, 3), "")]
    assert slack.calls_to("chat.postMessage") == []
    code, said = await clearance(capsys, "audit", "verify", "--slack")
    assert code == 2 and "has no [audit] channel" in said and len(said.splitlines()) == 1


async def test_verify_slack_catches_a_tail_cut_off_after_the_channels_anchor(operator, slack, sync, capsys):
    with sync.begin() as conn:
        append_entries(conn, entries(44))
    assert (await clearance(capsys, "audit", "anchor"))[0] == 0
    [(_, _, anchored_at)] = _anchor_times(sync)
    with sync.begin() as conn:
        append_entries(conn, entries(6, first=45))
    # The channel is busy: 450 other messages, some of people copying an anchor's line (never trusted).
    forged = anchor_line(99, "ab" * 32, anchored_at)
    for i in range(450):
        who = "U0SOMEONE" if i % 3 else "U0MALLORY"
        slack.messages[(AUDIT, f"{1_600_000_000 + i}.000100")] = {
            "text": forged if who == "U0MALLORY" else f"chatter {i}",
            "user": who,
        }
    code, said = await clearance(capsys, "audit", "verify", "--slack")
    assert (code, said.split(";")[0]) == (0, f"intact: 50 entries, 1–50, head {head_hash(sync, 50)}")

    # Someone with the database's rights cuts the tail and deletes the database's anchors with it.
    tamper(sync, "DELETE FROM audit_log WHERE seq > 41")
    with sync.begin() as conn:
        conn.execute(text("DELETE FROM audit_anchors"))
    code, said = await clearance(capsys, "audit", "verify")
    assert code == 0 and said.startswith("intact: 41 entries")  # the database alone cannot tell
    slack.calls.clear()
    code, said = await clearance(capsys, "audit", "verify", "--slack")
    assert (code, said) == (1, f"cut off after entry 41; the anchor of {anchored_at:%Y-%m-%d %H:%M} UTC says 44")
    assert len(slack.calls_to("conversations.history")) >= 3  # read page by page (cursor)


def _anchor_times(sync) -> list[tuple[int, str, datetime]]:
    with sync.connect() as conn:
        rows = conn.execute(text("SELECT seq, hash, at FROM audit_anchors WHERE kind = 'anchor'")).all()
    return [(r[0], r[1], r[2] if isinstance(r[2], datetime) else datetime.fromisoformat(r[2])) for r in rows]


async def test_an_anchor_edited_in_slack_is_reported_not_trusted(operator, slack, sync, capsys):
    with sync.begin() as conn:
        append_entries(conn, entries(5))
    assert (await clearance(capsys, "audit", "anchor"))[0] == 0
    [(channel, ts)] = [key for key in slack.messages if key[0] == AUDIT]
    slack.messages[(channel, ts)]["edited"] = {"user": "U0BOT", "ts": "1700000000.000200"}
    code, said = await clearance(capsys, "audit", "verify", "--slack")
    assert code == 2 and len(said.splitlines()) == 1
    assert said.endswith(
        "was edited in Slack after Clearance posted it: it cannot be trusted (Clearance never edits an anchor);"
        " see the channel's history"
    )


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            "not_in_channel",
            "Slack refused to read C0AUDIT's history (not_in_channel): invite the bot to C0AUDIT (/invite @Clearance)",
        ),
        ("no token", "--slack reads the audit channel with SLACK_BOT_TOKEN (xoxb-…), which is not set."),
    ],
)
async def test_verify_slack_that_cannot_read_the_channel_says_why_in_one_line(
    operator, slack, sync, capsys, monkeypatch, problem, expected
):
    with sync.begin() as conn:
        append_entries(conn, entries(2))
    if problem == "no token":
        monkeypatch.delenv("SLACK_BOT_TOKEN")
    else:
        slack.channel_errors[AUDIT] = problem
    assert await clearance(capsys, "audit", "verify", "--slack") == (2, expected)
