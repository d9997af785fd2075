"""The Home tab: what it shows each person, and keeping it current.

`HomeRefresher` builds a person's Home tab from the database (and their roles, from the config
and Slack's user groups) and publishes it with views.publish through the outbox, so Slack's
429s and outages delay it like any other message. Publishes are coalesced twice: people marked
while a refresh is being built are refreshed once more afterwards (in memory), and a publish
still waiting in the outbox is replaced by the newer one (OutboundMessage(coalesce=True) in the
queue ``home:<user>``), so a burst of changes ends in one publish of the latest state.

It is built when someone opens it (app_home_opened) and, after every committed change, rebuilt
for the people the change concerns (`affected`): the requester, the reviewers of the stages the
request left and entered, whoever sees escalations; for directives, everyone in the channels they
went to and command staff (the counts). Of those, only people who have opened
their Home tab at least once (storage/home.py): for everyone else it is built fresh when they
first open it, so publishing it earlier would be wasted calls. Who has one is kept in memory
(`_has_home`: from `HomeOpened` and this process's openings; a read only for people it has not
seen, and people known to have none are read again after NO_HOME_FOR, in case they opened it
through another replica). A crash between a commit and the refresh leaves a Home tab stale until
the next change or the next time its owner opens it, which rebuilds it from the database.

Off the click's path: a committed change only marks people; the tabs are built in a background task.
A count (command staff see each directive's "23 of 41 acknowledged") waits up to `counts_every`
(`mark_counts`), so a burst of 500 acknowledgements rebuilds each command staff member's tab a
handful of times, not 500.

What it writes: opening the tab is a change (`OpenHome`, through Changes.handle, with the tab's
publication in the same transaction). A refresh changes nothing stored: it reads, and stores only
the Slack-side effect, the views.publish, as an outbox row through `Changes.enqueue` (in the
group commit's shared batch, like every other write), so that Slack's 429s, outages and the
coalescing of a burst are the outbox's to handle; it commits no unit of work of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.blocks.home import HomeData, home_view
from bot.http.payloads import decode_home_pages
from bot.people.directory import DirectoryUnavailable
from bot.people.membership import MembersUnavailable
from workflows.attesting import Attested
from workflows.commands import Command, OpenHome
from workflows.directive_model import Acknowledged, DirectiveIssued, DirectiveRevoked, DirectiveSuperseded
from workflows.events import (
    AnswersChanged,
    Event,
    InfoProvided,
    InfoRequested,
    RequestApproved,
    RequestRefused,
    RequestRejected,
    RequestSubmitted,
    RequestWithdrawn,
    StageApproved,
    TierChanged,
)
from workflows.home_tabs import HomeOpened
from workflows.outbox import BULK, OutboundMessage
from workflows.policy import Policy, is_group

if TYPE_CHECKING:
    from bot.directives.status import DirectiveStatusReader
    from bot.people.directory import SlackDirectory
    from bot.people.membership import ChannelMembers
    from storage.uow import SqlUnitOfWork


class Change(Protocol):
    """The one write path (bot/wiring/changes.py `Changes.handle`)."""

    async def __call__(self, command: Command, *, with_messages: Sequence[OutboundMessage] = ...) -> list[Event]: ...


log = logging.getLogger("clearance.home")

PAGES_REMEMBERED = 5000  # people whose chosen page this process remembers between refreshes
NO_HOME_FOR = timedelta(minutes=1)  # someone without a Home tab is looked up again after this
NO_HOME_REMEMBERED = 50_000  # people known to have none (a cease-use's audience acknowledging)


QUEUE_LOAD = 200  # requests loaded for "Waiting for you" (the repository's own cap)
STUCK_LOAD = 50


def affected(events: Iterable[Event], policy: Policy) -> set[str]:
    """The principals (users or groups) whose Home tab shows something these events changed."""
    principals: set[str] = set()

    def stage(key: str | None) -> None:
        try:
            s = policy.stage(key) if key else None
        except KeyError:
            return
        if s is None:
            return
        principals.update(s.reviewers)
        if s.escalate_after is not None:  # the request may be on the "stuck" list
            principals.update(s.escalate_to or policy.roles.command_staff)

    for event in events:
        match event:
            case Acknowledged(ack=ack, already=False):
                principals.add(ack.user_id)  # it leaves their list (command staff's count: `counts_changed`)
                continue
            case Attested(attestation=a, already=False):  # an attestation is its acknowledgement
                principals.add(a.user_id)
                continue
            case DirectiveIssued(directive=d) | DirectiveRevoked(directive=d):
                principals.update(f"#{channel}" for channel in d.channels)  # everyone it is addressed to
                principals.update(policy.roles.command_staff)
                continue
            case DirectiveSuperseded(old=old, new=new):
                principals.update(f"#{channel}" for channel in (*old.channels, *new.channels))
                principals.update(policy.roles.command_staff)
                continue
        request = getattr(event, "request", None)
        if request is not None:
            principals.add(request.requester_id)
        match event:
            case RequestSubmitted(request=r):
                stage(r.stage_key)
            case StageApproved(decision=decision, next_stage_key=next_key):
                stage(decision.stage_key)
                stage(next_key)
            case RequestApproved(decision=decision) | RequestRejected(decision=decision):
                stage(decision.stage_key)
            case InfoRequested(request=r, exchange=x) | InfoProvided(request=r, exchange=x):
                stage(x.stage_key)
                stage(r.stage_key)  # the stage deciding now, if a tier change moved it
            case RequestWithdrawn(stage_key=key):
                stage(key)
            case TierChanged(from_stage_key=left, to_stage_key=entered):
                # It may leave one stage's queue for another's, or close (a tier it may not have).
                for key in (left, entered):
                    if key is not None:
                        stage(key)
            case RequestRefused(waited_at=key) if key is not None:
                stage(key)  # refused by the rules while a stage waited on it: it leaves that queue
            case AnswersChanged(card_stage_key=key) if key is not None:
                stage(key)  # the answers its reviewers see changed
    return principals


def counts_changed(events: Iterable[Event], policy: Policy) -> set[str]:
    """Whose Home tab shows a count these events changed (command staff: each directive's count)."""
    for event in events:
        if isinstance(event, Acknowledged | Attested) and not event.already:
            return set(policy.roles.command_staff)
    return set()


class HomeRefresher:
    """Keeps each person's Home tab current; built in bot/wiring/runtime.py from what it needs."""

    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], datetime],
        directory: SlackDirectory,
        members: ChannelMembers,
        *,
        change: Change,
        reading: Callable[[], SqlUnitOfWork],
        enqueue: Callable[[list[OutboundMessage]], Awaitable[None]],
        directive_status: DirectiveStatusReader,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._directory = directory
        self._members = members
        self._change = change
        self._reading = reading
        self._enqueue = enqueue  # Changes.enqueue: outbox rows, no change of state
        self._directive_status = directive_status
        self.counts_every = 5.0  # seconds a count-only refresh waits, gathering the next ones
        self._pending: set[str] = set()  # principals to refresh
        self._later: set[str] = set()  # principals whose count changed: refreshed after counts_every
        self._task: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._pages: dict[str, dict[str, int]] = {}
        self._has_home: set[str] = set()  # a fact that never reverts: no expiry
        self._no_home: dict[str, datetime] = {}  # user -> when the database said they had none
        self._stopped = False

    # --- keeping it current --------------------------------------------------------------------

    def after_change(self, events: list[Event]) -> None:
        """Called after a change's transaction committed: refresh whoever it concerns."""
        for event in events:
            if isinstance(event, HomeOpened):
                self._has(event.user)
        self.mark(affected(events, self._policy))
        self.mark_counts(counts_changed(events, self._policy))

    def mark(self, principals: Iterable[str]) -> None:
        """Refresh these people's (and groups' members') Home tabs soon, in the background."""
        self._pending.update(p for p in principals if p)
        if self._pending and not self._stopped and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._work(), name="clearance-home")

    def mark_counts(self, principals: Iterable[str]) -> None:
        """Only a count on their Home tab changed: refresh it within `counts_every`, once for all the
        changes meanwhile."""
        self._later.update(p for p in principals if p)
        if self._later and not self._stopped and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.counts_every, self._counts_due)

    def _counts_due(self) -> None:
        self._timer = None
        later, self._later = self._later, set()
        self.mark(later)

    async def idle(self) -> None:
        """Build and queue every marked Home tab now, counts included, and wait (tests, shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._counts_due()
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.idle()
        self._stopped = True

    async def _work(self) -> None:
        while self._pending and not self._stopped:
            batch, self._pending = self._pending, set()
            try:
                users = await self._with_home(await self._users(batch))
                messages = [await self._message(user) for user in sorted(users)]
                if messages:
                    await self._enqueue(messages)
            except Exception:
                log.exception("could not refresh %d Home tab(s)", len(batch))

    async def _with_home(self, users: set[str]) -> set[str]:
        """Those of `users` who have a Home tab: from memory, reading only the ones not known."""
        now = self._clock()
        unknown = {u for u in users - self._has_home if not self._known_without(u, now)}
        if unknown:
            async with self._reading() as uow:
                found = await uow.home_tabs.having_home(unknown)
            for user in unknown:
                if user in found:
                    self._has(user)
                else:
                    self._no_home.pop(user, None)
                    self._no_home[user] = now  # newest last: the oldest are forgotten first
            while len(self._no_home) > NO_HOME_REMEMBERED:
                self._no_home.pop(next(iter(self._no_home)))
        return users & self._has_home

    def _known_without(self, user: str, now: datetime) -> bool:
        checked = self._no_home.get(user)
        return checked is not None and now - checked < NO_HOME_FOR

    def _has(self, user: str) -> None:
        self._has_home.add(user)
        self._no_home.pop(user, None)

    async def _users(self, principals: set[str]) -> set[str]:
        """Users, user groups' members and ("#C…") channels' members."""
        users = {p for p in principals if not is_group(p) and not p.startswith("#")}
        for group in sorted(p for p in principals if is_group(p)):
            try:
                users |= await self._directory.expand([group])
            except DirectoryUnavailable:
                log.warning("Home tabs of user group %s not refreshed: Slack did not say who is in it", group)
        for channel in sorted(p[1:] for p in principals if p.startswith("#")):
            try:
                users |= await self._members.members(channel)
            except MembersUnavailable:
                log.warning("Home tabs of the members of %s not refreshed: Slack did not list them", channel)
        return users

    # --- one person's Home tab -----------------------------------------------------------------

    async def publish(self, user_id: str, pages: dict[str, int] | None = None, *, opened: bool = False) -> None:
        """Build `user_id`'s Home tab now and queue its publication (app_home_opened, page clicks).

        `opened`: they opened it, so from now on it is republished whenever it changes.
        """
        message = await self._message(user_id, pages)
        if opened:
            await self._change(OpenHome(user_id, self._clock()), with_messages=[message])
            self._has(user_id)  # opened before through another replica: no HomeOpened, still known now
        else:
            await self._enqueue([message])  # a page click: nothing stored changes

    async def _message(self, user_id: str, pages: dict[str, int] | None = None) -> OutboundMessage:
        if pages is None:
            pages = self._pages.get(user_id, {})
        else:
            self._remember(user_id, pages)
        view = home_view(await self.load(user_id), self._policy, pages)
        return OutboundMessage(
            f"home:{user_id}", "views.publish", {"user_id": user_id, "view": view}, coalesce=True, priority=BULK
        )

    def _remember(self, user_id: str, pages: dict[str, int]) -> None:
        self._pages.pop(user_id, None)
        self._pages[user_id] = pages
        while len(self._pages) > PAGES_REMEMBERED:
            self._pages.pop(next(iter(self._pages)))

    async def load(self, user_id: str) -> HomeData:
        data = HomeData(user_id=user_id, now=self._clock())
        policy, directory = self._policy, self._directory
        for stage in policy.stages:
            try:
                if await directory.includes(user_id, stage.reviewers):
                    data.reviewer_of.append(stage)
            except DirectoryUnavailable:
                data.roles_unknown = True
        try:
            data.is_command_staff = await directory.includes(user_id, policy.roles.command_staff)
        except DirectoryUnavailable:
            data.roles_unknown = True
        async with self._reading() as uow:
            data.mine = await uow.requests.for_requester(user_id)
            if data.reviewer_of:
                queue = await uow.requests.at_stages([s.key for s in data.reviewer_of])
                data.queue_capped = len(queue) >= QUEUE_LOAD
                # Nobody may decide their own request, so it is not waiting for them.
                data.queue = [r for r in queue if r.requester_id != user_id]
            if data.is_command_staff:
                data.stuck = await uow.reminders().escalated(STUCK_LOAD)
            active = await uow.directives.list_active()
            asked = [d for d in active if d.ack_required]
            done = await uow.home_tabs.acknowledged_by(user_id, [d.stored_id for d in asked])
        # Outside the transaction: who is in which channel comes from Slack (cached).
        for directive in asked:
            if directive.id not in done and await self._in_any(user_id, directive.channels):
                data.to_acknowledge.append(directive)
        if data.is_command_staff:
            for directive in active:
                state = await self._directive_status.state(directive.stored_id) if directive.ack_required else None
                counts = (state.acknowledged, state.expected) if state else (0, None)
                data.open_directives.append((directive, *counts))
        return data

    async def _in_any(self, user_id: str, channels) -> bool:
        for channel in channels:
            try:
                if user_id in await self._members.members(channel):
                    return True
            except MembersUnavailable:
                continue
        return False


def pages_from_view(view: dict | None) -> dict[str, int]:
    """The page of each section a published Home tab was showing (kept in its private_metadata)."""
    return decode_home_pages((view or {}).get("private_metadata"))
