"""What a timed follow-up kind declares: when it falls due, whether it still matters, what it produces.

A follow-up is "something of kind K about subject S falls due at T". Every kind (review reminders
with their escalation, directive reminders, a licence's expiry reminders and lapse, the audit
chain's anchor) is one `FollowUpKind`, registered in `workflows/followups/__init__.py: KINDS`; the
one sweep (`workflows/followups/sweep.py`) serves them all the same way:

* **due**: the kind's `due` reads what is due at `now` (served by an index on the due time), as
  `FollowUp` rows: the kind's name, the subject's id (0 for a recurring job with no subject row,
  such as the audit anchor), the due time, how many times it has fired, a small state of its own;
* **plan**: `plan(item, policy, now)` says what to do: None when not due after all, else a
  `Claim` (the conditional update: the stored due time it must still find, the next due time and
  count) with `send`, the notice it produces when it wins (a frozen dataclass; the bot turns a
  sweep's notices of one kind into messages at once, so one DM per person per sweep is possible),
  or `send` None for a deferral. The next due time is counted from *now*, not from the missed one:
  after downtime an item fires once, never once per missed interval (the sweep skips a plan that
  would be due again at once);
* **quiet**: when True, the sweep defers a notice due inside quiet hours to their end (one notice
  then, not a backlog). A lapse that must happen at the exact instant says False;
* **claim**: whoever's conditional update wins sends; everyone else's matches no row (exactly once
  across replicas). The sweep makes all its claims in one call when the store can;
* **produce**: once its claim is won, in the same transaction, `produce` returns the kind's
  notices (`FollowUpNotice` events; bot/followups/messages.py has its message builder) and the
  events of any domain change it makes (it may call a domain service with the unit of work);
* **still matters**: a message's queue names what it is about (`reminder_relevance.about`), and
  `gone` says, just before sending, which of its waiting messages have lost their point (dropped);
* **dry run**: `describe(claim)` is one line of `clearance remind --dry-run`, and `tally(send)`
  the labels it counts under (its totals line), neither naming a person beyond ids.

A kind whose bookkeeping has no column of its own stores it in the `follow_ups` table
(`FollowUpRows`: `store.follow_ups`), so adding one touches no storage code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from workflows.events import Event
from workflows.policy import Policy


@dataclass(frozen=True)
class FollowUp:
    """One item's bookkeeping, as the store returns it."""

    kind: str
    subject: int  # the subject's id; 0 for a recurring job with no subject row
    due_at: datetime | None
    count: int = 0  # how many times it has fired
    state: str = ""  # the kind's own (e.g. which offset before an expiry is next)
    loaded: Any = None  # the subject, when the store read it with the bookkeeping (a request)


@dataclass(frozen=True)
class Claim:
    """The conditional update to make, and what to produce if it wins (None: only a deferral).

    `kind` is the kind's name; `item_id` the subject (0: none). `new_escalated_at` and `state` are
    kept by the kinds that need them (review reminders, generic rows) and ignored by the others.
    """

    kind: str
    item_id: int
    expected_next_at: datetime | None  # the stored value the update must still find
    new_next_at: datetime | None  # None: nothing more is due (unless rescheduled)
    new_reminders_sent: int
    new_escalated_at: datetime | None
    send: Any
    state: str = ""


@dataclass(frozen=True)
class Known:
    """What Slack told the bot just before the sweep's transaction (no network call inside it)."""

    members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # principal -> users
    audience: Mapping[tuple[str, int], frozenset[str]] = field(default_factory=dict)  # (kind, subject) -> users
    links: Mapping[str, str] = field(default_factory=dict)  # a stored message's key -> its permalink
    skip_stages: frozenset[str] = frozenset()  # reviewers unknown just now: left due
    skip_directives: frozenset[int] = frozenset()  # audience unknown just now: left due

    def users(self, principals: Iterable[str]) -> list[str]:
        found: set[str] = set()
        for principal in principals:
            found |= self.members.get(principal, frozenset())
        return sorted(found)


@dataclass(frozen=True)
class FollowUpNotice(Event):
    """What a won follow-up produces (`FollowUpKind.produce`): the bot's builder for its kind turns
    a sweep's notices into messages (bot/followups/messages.py). `refresh`: the people whose Home
    tab it changes."""

    kind: ClassVar[str] = ""
    refresh: tuple[str, ...] = field(default=(), kw_only=True)

    @property
    def send(self) -> Any:
        """The won claim's `send` it came from (what `FollowUpKind.tally` counts)."""
        return getattr(self, "reminder", self)


@dataclass(frozen=True)
class Queued:
    """A follow-up's message waiting in the outbox (workflows/reminder_relevance.py): its queue, the
    person, the subject and the kind's detail (`about(kind, subject, detail)`)."""

    queue: str
    user: str
    subject: int
    detail: str = ""


class FollowUpRows(Protocol):
    """Bookkeeping in the `follow_ups` table, for kinds with no column of their own."""

    async def due(self, kind: str, now: datetime, limit: int) -> list[FollowUp]:
        """Rows of `kind` with due_at <= now, earliest first; rows another sweep holds are skipped."""

    async def claim(self, claim: Claim) -> bool:
        """Set due_at, count and state only where due_at still equals claim.expected_next_at."""

    async def schedule(self, kind: str, subject: int, due_at: datetime | None, state: str = "") -> None:
        """Create or move the row (count back to 0); due_at None: nothing is due until rescheduled.
        A recurring job schedules its first turn itself when the sweep finds no row (`seed`)."""


@runtime_checkable
class FollowUpKind(Protocol):
    """One kind of timed follow-up; see the module docstring."""

    name: ClassVar[str]  # stored with its rows and claims; never renamed
    quiet: ClassVar[bool]  # deferred by quiet hours
    labels: ClassVar[tuple[str, ...]]  # what `tally` counts, in the dry run's totals line (singular)

    async def due(self, store: Any, policy: Policy, now: datetime, limit: int) -> list[FollowUp]:
        """What is due at `now`; a generic kind returns `await store.follow_ups.due(self.name, now, limit)`."""

    def plan(self, item: FollowUp, policy: Policy, now: datetime) -> Claim | None: ...

    async def produce(
        self, uow: Any, store: Any, item: FollowUp, send: Any, known: Known, policy: Policy, now: datetime
    ) -> list[Event]:
        """In the sweep's transaction, once its claim is won: the notices (FollowUpNotice) and any
        domain change's events (a domain service called with `uow`, or nothing at all). It may claim
        again (e.g. look again later when nobody is owed a reminder just now)."""

    async def claim(self, store: Any, claim: Claim) -> bool:
        """One claim on its own (when the store cannot take them all at once)."""

    async def gone(self, uow: Any, waiting: Sequence[Queued]) -> set[str]:
        """Still matters? The queues of those of its messages, waiting to be sent, whose subject has
        moved on (checked just before sending; they are dropped). A kind whose messages always
        matter returns an empty set."""

    def describe(self, claim: Claim) -> str:
        """One dry-run line for a claim that sends (deferrals are described by the sweep)."""

    def reference(self, item_id: int) -> str:
        """What people call the subject (REQ-0042, DIR-0007, a licence's name, "audit chain")."""

    def tally(self, send: Any) -> Sequence[str]:
        """The labels (of `labels`) a notice counts under, for the dry run's totals."""
