"""`clearance audit verify [--anchor EXPORT_DIR] [--slack]` (is the audit trail whole? one line
either way) and `clearance audit anchor` (witness its head now); docs/audit.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config.settings import DEFAULT_API_URL, config_path_from, environment, load_database_url
from storage import preflight


def register(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="check the audit trail's hash chain; anchor its head")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser("verify", help="check every entry; exit 1 naming the first that breaks")
    verify.add_argument(
        "--anchor", type=Path, default=None, metavar="EXPORT_DIR", help="also check against that export's chain head"
    )
    verify.add_argument(
        "--slack", action="store_true", help="also check against every anchor posted to [audit] channel in Slack"
    )
    actions.add_parser("anchor", help="record the chain's head now, and post it to [audit] channel")


def run(args: argparse.Namespace) -> int:
    if args.audit_command == "anchor":
        return _anchor()
    return _verify(args)


def _slack(env: dict[str, str]) -> tuple[str, str]:
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    return token, api_url if api_url.endswith("/") else api_url + "/"


def _verify(args: argparse.Namespace) -> int:
    from storage.chain_verify import verify

    env = environment()
    database_url = load_database_url(env)
    preflight.migrated(database_url)
    anchors = []
    if args.anchor is not None:
        from storage.export_check import export_anchor

        found = export_anchor(args.anchor)
        if isinstance(found, str):
            print(found, file=sys.stderr)
            return 2
        anchors.append(found)
    if args.slack:
        from bot.config.policy_file import load_policy

        channel = load_policy(config_path_from(env)).audit.channel
        token, api_url = _slack(env)
        if channel is None:
            print(
                f"--slack: {config_path_from(env)} has no [audit] channel, so no anchor was ever posted to Slack. "
                'Set [audit] channel = "C…" (and run `clearance audit anchor`), or leave out --slack.',
                file=sys.stderr,
            )
            return 2
        if not token.startswith("xoxb-"):
            print("--slack reads the audit channel with SLACK_BOT_TOKEN (xoxb-…), which is not set.", file=sys.stderr)
            return 2
        from bot.operator.audit_slack import SlackUnreadable

        try:
            anchors += asyncio.run(_read_slack(token, api_url, channel))
        except SlackUnreadable as exc:
            print(exc, file=sys.stderr)
            return 2
    verdict = verify(database_url, anchors)
    print(verdict.line)
    return 0 if verdict.ok else 1


async def _read_slack(token: str, api_url: str, channel: str):
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.operator.audit_slack import slack_anchors
    from bot.people.membership import SLACK_CALL_TIMEOUT

    client = AsyncWebClient(token=token, base_url=api_url, timeout=SLACK_CALL_TIMEOUT)
    return await slack_anchors(client, channel)


def _anchor() -> int:
    from bot.config.policy_file import load_policy

    env = environment()
    database_url = load_database_url(env)
    policy = load_policy(config_path_from(env))
    preflight.migrated(database_url)
    for line in asyncio.run(_anchor_now(database_url, policy, *_slack(env))):
        print(line)
    return 0


async def _anchor_now(database_url: str, policy, token: str, api_url: str) -> list[str]:
    """The AnchorChain command through the one write path, then its message sent at once (when
    Slack can be reached; else it waits in the outbox for `clearance serve`)."""
    from bot.wiring.changes import Changes
    from storage.db import open_database
    from storage.group_commit import GroupCommit
    from storage.uow import SqlUnitOfWork
    from workflows.audit_anchors import BY_OPERATOR, ChainAnchored
    from workflows.commands import AnchorChain

    now = lambda: datetime.now(UTC)  # noqa: E731
    database = open_database(database_url)
    try:
        writes: GroupCommit[SqlUnitOfWork] = GroupCommit(
            database.sessions, lambda session: SqlUnitOfWork.over(session, now)
        )
        changes = Changes(writes, policy, sent=lambda: None, committed=lambda events: None)
        try:
            events = await changes.handle(AnchorChain(by=BY_OPERATOR, at=now()))
        finally:
            await writes.stop()
        anchored = [e.anchor for e in events if isinstance(e, ChainAnchored)]
        if not anchored:
            return [await _nothing_new(database, policy.audit.channel or "")]
        anchor = anchored[0]
        said = f"Anchored entry {anchor.seq} (hash {anchor.hash}) at {anchor.at:%Y-%m-%d %H:%M:%S} UTC in audit_anchors"
        if not anchor.posted_to:
            return [f"{said}; no [audit] channel is set, so nothing was posted to Slack."]
        return [f"{said}; {await _post(database, anchor.posted_to, token, api_url)}"]
    finally:
        await database.dispose()


async def _nothing_new(database, channel: str) -> str:
    from storage.uow import SqlUnitOfWork

    async with SqlUnitOfWork(database.read_sessions, lambda: datetime.now(UTC)) as uow:
        head = await uow.audit_anchors.head()
        last = await uow.audit_anchors.latest(channel)
    if head.seq == 0:
        return "Nothing to anchor: the audit trail has no entry yet."
    when = f" at {last.at:%Y-%m-%d %H:%M} UTC" if last is not None else ""
    return f"Nothing new to anchor: the head is still entry {head.seq}, anchored{when}."


async def _post(database, channel: str, token: str, api_url: str) -> str:
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import select
    from sqlmodel import col

    from bot.delivery.sender import SlackSender
    from bot.people.membership import SLACK_CALL_TIMEOUT
    from storage.outbox import OutboxStore
    from storage.tables import OutboxRow

    queued = f"queued for {channel}: `clearance serve` posts it"
    if not token.startswith("xoxb-"):
        return f"{queued} (SLACK_BOT_TOKEN is not set here)."
    client = AsyncWebClient(token=token, base_url=api_url, timeout=SLACK_CALL_TIMEOUT, retry_handlers=[])
    sender = SlackSender(OutboxStore(database.sessions, database.read_sessions), client)
    try:
        await sender.drain_once()  # what else is due goes too: it is owed anyway, claimed as serve claims it
    except Exception as exc:  # the row stays in the outbox; serve carries on from there
        return f"{queued} (sending now failed: {type(exc).__name__})."
    async with database.read_sessions() as session:
        row = await session.scalar(
            select(OutboxRow)
            .where(col(OutboxRow.queue) == f"audit:{channel}")
            .order_by(col(OutboxRow.id).desc())
            .limit(1)
        )
    if row is None or row.status == "sent":
        return f"posted to {channel}."
    if row.status == "failed":
        return f"but Slack refused the post to {channel} ({row.last_error}); invite the bot to it and run this again."
    return f"{queued} (Slack did not take it yet; `clearance outbox` shows what waits)."
