"""The composition root: builds every part from Settings, once, and wires them together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.risk import refusal_notice
from bot.blocks.tool_status import cease_flag
from bot.directive_counts import CountRefresher
from bot.directive_delivery import DeliveryTracker
from bot.directive_status import DirectiveStatusReader
from bot.directives import directive_messages
from bot.directory import DirectoryUnavailable, SlackDirectory
from bot.home import HomeRefresher
from bot.membership import ChannelMembers, reading_client
from bot.outbound import RequestMessages, post, request_queue
from bot.scheduler import ReminderScheduler
from bot.sender import SlackSender
from bot.settings import Settings
from bot.slack_identity import SlackIdentity
from storage.db import create_engine, read_session_factory, session_factory
from storage.group_commit import GroupCommit
from storage.outbox import Delivery, OutboundMessage, OutboxStore
from storage.uow import SqlUnitOfWork
from workflows.directives import override_for
from workflows.errors import ConcurrencyConflict
from workflows.events import RequestRefused
from workflows.handlers import handle
from workflows.policy import is_group
from workflows.registry import mixed_script_warning

log = logging.getLogger("clearance")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clearance:
    """The composition root: builds each part from Settings and gives it what it needs.

    Background parts (sender, Home tabs, reminders, directive delivery and counts) receive their own
    dependencies. Listeners still receive this object (`c.change`, `c.policy`, `c.reading`, …):
    giving each listener only the service it calls is the next step of issue 8.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.policy = settings.policy
        self.clock = clock
        self.engine = create_engine(settings.database_url)
        self.sessions = session_factory(self.engine)
        self.read_sessions = read_session_factory(self.engine)
        # Every change goes through one group commit: concurrent clicks share a transaction and a
        # commit (storage/group_commit.py). SQLite has one writer whatever we do; PostgreSQL
        # commits batches side by side.
        self.writes: GroupCommit[SqlUnitOfWork] = GroupCommit(
            self.sessions,
            lambda session: SqlUnitOfWork.over(session, self.clock, self.identity.team_id),
            writers=1 if self.engine.dialect.name == "sqlite" else 4,
        )
        # retry_handlers=[]: the outbox does the retrying, durably; the client must not hide failures.
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url, timeout=10, retry_handlers=[])
        self.identity = SlackIdentity(self.client)  # auth.test: the installed team; is the token accepted
        self.directory = SlackDirectory(self.client)
        self.outbox = OutboxStore(self.sessions, self.read_sessions)
        self.sender = SlackSender(
            self.outbox, self.client, lease=settings.outbox_lease, on_failure=self._report_failure
        )
        self.messages = RequestMessages(self.policy)
        self.event_hooks: list = []  # async (uow, event) -> None, run inside the change's transaction
        self.after_commit: list = []  # (events) -> None, called once a change's transaction has committed

        self.after_commit.append(self._tell_command_staff_groups)

        # Directives and the tool registry: channel members (for counts), posting, outcomes, counts.
        self.members = ChannelMembers(reading_client(settings.bot_token, settings.api_url))
        # Directives in Slack, four parts, each given what it needs (bot/directives.py says which is which).
        self.event_hooks.append(directive_messages)
        self.directive_status = DirectiveStatusReader(self.reading, self.members)
        self.deliveries = DeliveryTracker(
            self.uow, self.reading, self.client, self.clock, sent=self.sender.wake, arrived=self._post_arrived
        )
        self.counts = CountRefresher(
            self.uow,
            self.reading,
            self.members,
            self.clock,
            sent=self.sender.wake,
            settle_stale=self.deliveries.settle_stale_posts,
        )
        self.after_commit.append(self.counts.after_commit)
        self.home = HomeRefresher(
            self.policy,
            self.clock,
            self.directory,
            self.members,
            uow=self.uow,
            reading=self.reading,
            enqueue=self.enqueue,
            sent=self.sender.wake,
            directive_status=self.directive_status,
        )
        self.after_commit.insert(0, self.home.after_change)
        self.reminders = ReminderScheduler(  # the reminder sweep, every [reminders] check_every
            self.policy,
            self.clock,
            self.directory,
            self.client,
            uow=self.uow,
            reading=self.reading,
            directive_status=self.directive_status,
            card_flags=self.card_flags,
            sent=self.sender.wake,
            refresh_home=self.home.mark,
        )
        self.sender.on_result = self.deliveries.on_delivery  # per-channel outcome of each post
        self.webhooks: aiohttp.ClientSession | None = None  # response_url answers, connections kept open
        self.ready = False
        self._tasks: set[asyncio.Task] = set()
        self.app = self._build_app(socket_mode=False)

    def _post_arrived(self) -> None:
        """A directive's post went out or failed: its count and command staff's Home tabs follow."""
        self.counts.wake()
        self.home.mark(self.policy.roles.command_staff)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.clock, self.identity.team_id)

    def reading(self) -> SqlUnitOfWork:
        """A unit of work for reads only (never committed; on SQLite it takes no write lock)."""
        return SqlUnitOfWork(self.read_sessions, self.clock, self.identity.team_id)

    def _build_app(self, *, socket_mode: bool) -> AsyncApp:
        from bot.app import build_app

        return build_app(self, socket_mode=socket_mode)

    def use_socket_mode(self) -> AsyncApp:
        self.app = self._build_app(socket_mode=True)
        return self.app

    async def change(self, action) -> list:
        """Run a domain change and the messages it implies in one transaction, then send.

        `action(uow)` returns domain events. On a concurrent change (two clicks at once) the whole
        thing is retried from a fresh read, where the domain then sees what the other click did.
        """

        async def unit(uow: SqlUnitOfWork) -> list:
            # The domain runs the change and every rule that follows from it (workflows.handlers);
            # then each event becomes the Slack messages it implies, in the same transaction.
            events = await handle(uow, self.policy, await action(uow))
            for event in events:
                for hook in self.event_hooks:
                    await hook(uow, event)
                request = getattr(event, "request", None)
                if request is None:
                    continue  # directive and registry events: their hooks write their messages
                flags = await self.card_flags(uow, request)
                await uow.outbox.add_all(self.messages.for_event(event, flags))
            return events

        for attempt in range(3):
            try:
                events = await self.writes.run(unit)
                self.sender.wake()
                self._committed(events)
                return events
            except ConcurrencyConflict:
                if attempt == 2:
                    raise
        return []

    async def card_flags(self, uow, request) -> list[str]:
        """Warnings for a request's review cards: a cease-use or suspension in force for the tool, and a
        name that mixes scripts (a look-alike of another name)."""
        if request is None:
            return []
        tool = await override_for(uow, request)
        flags = [cease_flag(tool, request.tool_name)] if tool is not None else []
        mixed = mixed_script_warning(request.tool_name)
        return flags + ([mixed] if mixed else [])

    async def enqueue(self, messages: list[OutboundMessage]) -> None:
        """Store messages in their own transaction (for notices with no state change) and send."""
        if not messages:
            return

        async def unit(uow: SqlUnitOfWork) -> None:
            await uow.outbox.add_all(messages)

        await self.writes.run(unit)
        self.sender.wake()

    def _committed(self, events: list) -> None:
        for hook in self.after_commit:
            try:
                hook(events)
            except Exception:  # the change is committed: a follow-up must not make it look failed
                log.exception("after-commit hook %r failed", hook)

    def _tell_command_staff_groups(self, events: list) -> None:
        """A refusal's notice to command staff named as user groups (S…): their members are known
        only by asking Slack, which is never done inside a transaction or before an ack. Named users
        were sent theirs with the change itself (RequestMessages.refusal_messages)."""
        groups = [p for p in self.policy.roles.command_staff if is_group(p)]
        refused = [e for e in events if isinstance(e, RequestRefused)]
        if groups and refused:
            self.background(self._notify_groups(groups, refused))

    async def _notify_groups(self, groups: list[str], refused: list) -> None:
        named = {p for p in self.policy.roles.command_staff if not is_group(p)}
        try:
            members = await self.directory.expand(groups)
        except DirectoryUnavailable:
            log.error("command staff groups could not be expanded; %d refusal notice(s) not sent", len(refused))
            return
        messages = []
        for event in refused:
            text, blocks = refusal_notice(event.request, event.assessment, for_command_staff=True)
            messages += [post(request_queue(event.request), user, text, blocks) for user in sorted(members - named)]
        await self.enqueue(messages)

    def background(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run work that continues after Slack was answered; kept until done, awaited on stop."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def background_done(self, timeout: float = 10) -> None:
        """Wait for the work started after acks (for shutdown and tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def start(self) -> None:
        await self.identity.start()  # before ready: payloads are checked against the installed team
        self.webhooks = aiohttp.ClientSession()
        self.sender.start()
        self.reminders.start()
        self.counts.start()
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        await self.background_done()  # work after acks (answers to clicks) finishes first
        await self.identity.stop()
        await self.reminders.stop()
        await self.counts.stop()
        await self.home.stop()
        await self.sender.stop()
        await self.writes.stop()
        if self.webhooks is not None:
            await self.webhooks.close()
        await self.engine.dispose()

    async def _report_failure(self, delivery: Delivery, error: str) -> None:
        """Tell the admins (by DM) that a message could not be delivered, once per failure."""
        if delivery.queue.startswith(("admin:", "directive:")) or delivery.method == "chat.postEphemeral":
            # Never report the failure of a report; a directive's issuer is told per channel
            # already (bot/directives.py); a lost private notice is logged only.
            return
        admins = [a for a in self.policy.roles.admins if not a.startswith("S")]
        channel = delivery.payload.get("channel", "")
        text = (
            f":warning: Clearance could not deliver a message ({delivery.method}"
            f"{' to ' + channel if channel else ''}): `{error}`. "
            "Check that the bot is in that channel and the config's ids are right; "
            "`clearance outbox` lists undelivered messages."
        )
        await self.enqueue([post(f"admin:{a}", a, text, []) for a in admins])


def socket_mode_handler(c: Clearance):
    """Socket Mode: the same listeners, reached over a WebSocket that the bot opens to Slack."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    app = c.use_socket_mode()
    # apps.connections.open goes to SLACK_API_URL too, with the app-level token.
    web_client = AsyncWebClient(token=c.settings.app_token, base_url=c.settings.api_url)
    return AsyncSocketModeHandler(app, c.settings.app_token, web_client=web_client)
