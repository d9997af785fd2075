"""The composition root: builds every part from Settings, once, and wires them together."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.routing import Route

from bot.config.settings import Settings
from bot.delivery.failures import FailureReporter
from bot.delivery.home_tabs import HomeRefresher
from bot.delivery.sender import SlackSender
from bot.delivery.usage_files import UsageFiles
from bot.directives.audience import DirectiveAudience
from bot.directives.counts import CountRefresher
from bot.directives.delivery import DeliveryTracker
from bot.directives.status import DirectiveStatusReader
from bot.followups.scheduler import ReminderScheduler
from bot.http.kept_connections import KeptConnections
from bot.http.metrics import Metrics
from bot.http.server import asgi_app
from bot.listeners import (
    attestations,
    directives,
    groups,
    home,
    report_use,
    requests,
    reviews,
    risk,
    tool_status,
    usage,
)
from bot.listeners.attestations import AttestationDeps
from bot.listeners.common import Replies
from bot.listeners.directive_deps import DirectiveDeps
from bot.listeners.home import HomeDeps
from bot.listeners.requests import RequestDeps
from bot.listeners.reviews import ReviewDeps
from bot.listeners.tool_status import StatusDeps
from bot.listeners.usage import UsageDeps
from bot.messages.refusal_notices import GroupRefusalNotices
from bot.people.directory import SlackDirectory
from bot.people.membership import SLACK_CALL_TIMEOUT, ChannelMembers, reading_client
from bot.people.names import PeopleNames
from bot.people.roles import Roles
from bot.people.slack_check import ConfigCheck
from bot.people.slack_identity import SlackIdentity
from bot.wiring.app import Group, Listeners, build_app
from bot.wiring.background import Background
from bot.wiring.changes import Changes
from pages.http import TransparencyPages
from storage.db import open_database
from storage.group_commit import GroupCommit
from storage.outbox import OutboxStore
from storage.public_record import SqlPublicRecord
from storage.uow import SqlUnitOfWork
from storage.write_health import WriteHealth
from workflows.events import Event
from workflows.reminder_relevance import about_what, moot

log = logging.getLogger("clearance")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clearance:
    """The composition root: builds each part from Settings and gives it only what it needs.

    No part receives this object: listeners get their group's dependencies (bot/wiring/app.py Group),
    background parts their own. It is kept by the CLI and tests to start, stop and look inside.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.policy = policy = settings.policy
        self.clock = clock
        self.database = open_database(settings.database_url)
        self.engine = self.database.engine
        self.sessions, self.read_sessions = self.database.sessions, self.database.read_sessions
        self.write_health = WriteHealth().watch(self.engine, self.sessions)  # what /healthz counts too
        # retry_handlers=[]: the outbox does the retrying, durably; the client must not hide failures.
        self.client = AsyncWebClient(
            token=settings.bot_token, base_url=settings.api_url, timeout=SLACK_CALL_TIMEOUT, retry_handlers=[]
        )
        self.connections = KeptConnections()  # the clients' sessions, opened at start
        self.identity = SlackIdentity(self.client)  # auth.test: the installed team; is the token accepted
        self.directory = SlackDirectory(self.client)
        self.members = ChannelMembers(reading_client(settings.bot_token, settings.api_url))
        self.tasks = Background()
        self.metrics = Metrics()  # GET /metrics (bot/http/metrics.py), this instance's own registry
        self.config_check = ConfigCheck(self.client, policy)  # are the config's ids in Slack (at start)

        # Every change goes through one group commit: concurrent clicks share a transaction and a
        # commit (storage/group_commit.py). SQLite has one writer whatever we do; PostgreSQL
        # commits two batches side by side, so one batch's round trips overlap the other's work.
        # Four made each batch span more of the other batches' work: under a crowd the same
        # throughput, but p99 220-270 ms where two gave 160-210 (scripts/bench_load.py).
        self.writes: GroupCommit[SqlUnitOfWork] = GroupCommit(
            self.sessions,
            lambda session: SqlUnitOfWork.over(session, self.clock, self.identity.team_id),
            writers=1 if self.engine.dialect.name == "sqlite" else 2,
        )
        self.outbox = OutboxStore(self.sessions, self.read_sessions)
        self.sender = SlackSender(
            self.outbox,
            self.client,
            lease=settings.outbox_lease,
            moot=self._moot_reminders,
            token_refused=self.identity.refused_at_work,
        )
        self.changes = Changes(self.writes, policy, sent=self.sender.wake, committed=self._committed)
        enqueue = self.changes.enqueue
        self.sender.on_failure = FailureReporter(policy, enqueue)

        # Directives in Slack (bot/directives/messages.py says which part does what).
        self.directive_status = DirectiveStatusReader(self.reading, self.members)
        self.deliveries = DeliveryTracker(
            self.changes.handle, self.reading, self.client, clock, arrived=self._post_arrived
        )
        self.sender.on_result = self.deliveries.on_delivery  # per-channel outcome of each post
        self.counts = CountRefresher(
            self.changes.handle, self.reading, self.members, clock, settle_stale=self.deliveries.settle_stale_posts
        )
        self.home = HomeRefresher(
            policy,
            clock,
            self.directory,
            self.members,
            change=self.changes.handle,
            reading=self.reading,
            enqueue=enqueue,
            directive_status=self.directive_status,
        )
        self.reminders = ReminderScheduler(  # the reminder sweep, every [reminders] check_every
            policy,
            clock,
            self.directory,
            self.client,
            change=self.changes.handle,
            reading=self.reading,
            directive_status=self.directive_status,
            refresh_home=self.home.mark,
        )
        self.group_refusals = GroupRefusalNotices(policy, self.directory, enqueue=enqueue, background=self.tasks.run)

        # The listeners, each group with what it needs.
        self.replies = Replies(policy, self.client, enqueue=enqueue, background=self.tasks)
        roles = Roles(policy, self.directory)
        change = self.changes.handle
        audience = DirectiveAudience(self.reading, self.members)
        # Every listener module once, with what its listeners need, in the order they are registered.
        request_deps = RequestDeps(policy, clock, change, self.reading, self.client, self.replies)
        review_deps = ReviewDeps(policy, clock, roles, change, self.reading, self.client, self.replies)
        directive_deps = DirectiveDeps(
            policy,
            clock,
            roles,
            change,
            enqueue,
            self.reading,
            self.client,
            self.members,
            self.directive_status,
            self.counts,
            self.replies,
            audience,
        )
        files = UsageFiles(self.client, PeopleNames(self.members.client))
        self.listeners = Listeners(
            groups=(
                Group(requests.register, request_deps),
                Group(reviews.register, review_deps),  # the licence form too (bot/listeners/licences.py)
                Group(risk.register, review_deps),  # the tier buttons and form
                Group(home.register, HomeDeps(self.home, self.replies)),
                Group(directives.register, directive_deps),
                Group(tool_status.register, StatusDeps(policy, self.reading, self.replies, roles, clock)),
                Group(
                    usage.register, UsageDeps(clock, roles, self.reading, files, self.replies, self.directory)
                ),  # /tool-usage
                Group(
                    attestations.register,  # a cease-use answered with facts
                    AttestationDeps(
                        policy, clock, change, self.reading, self.client, audience, self.directory, self.replies
                    ),
                ),
                Group(report_use.register, request_deps),
                Group(groups.register, self.directory),  # a user group's members forgotten when Slack says so
            ),
            fallback=request_deps,
        )
        # The public transparency page (pages/http.py), read-only through its own read port.
        self.transparency = TransparencyPages(SqlPublicRecord(self.read_sessions, clock), policy, clock=clock)
        # /metrics: counters and histograms only on the hot path.
        self.sender.on_call = lambda method, result: self.metrics.slack_calls.labels(method, result).inc()
        self.writes.on_batch = self.metrics.batch_size.observe
        self.reminders.on_sweep = self.metrics.sweep_seconds.observe
        self.ready = False
        self.app = self._build_app(socket_mode=False)

    def _committed(self, events: list[Event]) -> None:
        """What follows a committed change, outside its transaction: Home tabs first (the person who
        acted looks there), refusal notices to command staff groups, directive counts."""
        for follow_up in (self.home.after_change, self.group_refusals.after_commit, self.counts.after_commit):
            try:
                follow_up(events)
            except Exception:  # the change is committed: a follow-up must not make it look failed
                log.exception("after-commit follow-up %r failed", follow_up)

    def _post_arrived(self) -> None:
        """A directive's post went out or failed: its count and command staff's Home tabs follow."""
        self.counts.wake()
        self.home.mark_counts(self.policy.roles.command_staff)

    def uow(self) -> SqlUnitOfWork:
        """A unit of work of its own, outside the group commit: tests' set-up only (no part is given it)."""
        return SqlUnitOfWork(self.sessions, self.clock, self.identity.team_id)

    def reading(self) -> SqlUnitOfWork:
        """A unit of work for reads only (never committed; on SQLite it takes no write lock)."""
        return SqlUnitOfWork(self.read_sessions, self.clock, self.identity.team_id)

    async def _moot_reminders(self, queues: list[str]) -> set[str]:
        """A read only for a batch with reminders about one thing in it; other messages need none."""
        reminders = [queue for queue in queues if about_what(queue) is not None]
        if not reminders:
            return set()
        async with self.reading() as uow:
            return await moot(uow, reminders)

    async def _first_delivery(self, key: str) -> bool:
        return bool(await self.writes.run(lambda uow: uow.first_delivery(key)))

    async def _handled_before(self, key: str) -> bool:
        async with self.reading() as uow:
            return await uow.handled_before(key)

    def _build_app(self, *, socket_mode: bool) -> AsyncApp:
        return build_app(
            self.settings,
            self.identity,
            self.listeners,
            first_delivery=self._first_delivery,
            handled_before=self._handled_before,
            socket_mode=socket_mode,
        )

    def asgi(self, *, monotonic: Callable[[], float] = time.monotonic) -> Starlette:
        """The HTTP app: Slack's payloads at /slack/events, /healthz (bot/http/server.py)."""
        return asgi_app(
            self.app,
            self.identity,
            signing_secret=self.settings.signing_secret,
            database_url=self.settings.database_url,
            ready=lambda: self.ready,
            write_problem=self.write_health.problem,
            monotonic=monotonic,
            pages=self.transparency.routes(),
            config_problems=lambda: self.config_check.problems,
            metrics=self.metrics,
            metrics_route=Route(
                "/metrics",
                self.metrics.endpoint(
                    self.settings.metrics_token, self.outbox.counts, self.outbox.oldest_waiting, self.clock
                ),
                methods=["GET"],
            ),
        )

    def use_socket_mode(self) -> AsyncApp:
        self.app = self._build_app(socket_mode=True)
        return self.app

    async def start(self) -> None:
        self.connections.give(self.client, self.members.client)
        await self.identity.start()  # before ready: payloads are checked against the installed team
        await self.replies.start()
        self.sender.start()
        self.reminders.start()
        self.counts.start()
        self.ready = True
        if self.config_check.at_start:
            self._checking = asyncio.ensure_future(self.config_check.run())  # in the background: never delays start

    async def stop(self) -> None:
        self.ready = False
        if checking := getattr(self, "_checking", None):
            checking.cancel()
        await self.tasks.done()  # work after acks (answers to clicks) finishes first
        await self.identity.stop()
        await self.reminders.stop()
        await self.counts.stop()
        await self.home.stop()
        await self.sender.stop()
        await self.writes.stop()
        await self.replies.stop()
        await self.connections.close()
        await self.database.dispose()


def socket_mode_handler(clearance: Clearance):
    """Socket Mode: the same listeners, reached over a WebSocket that the bot opens to Slack."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    app = clearance.use_socket_mode()
    # apps.connections.open goes to SLACK_API_URL too, with the app-level token.
    web_client = AsyncWebClient(token=clearance.settings.app_token, base_url=clearance.settings.api_url)
    return AsyncSocketModeHandler(app, clearance.settings.app_token, web_client=web_client)
