"""Ports for directives and the tool registry: what storage and the test fakes implement."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from workflows.attestations import Attestation, AttestationAnswer
from workflows.audit_anchors import AuditAnchors
from workflows.directive_model import Acknowledgement, Directive, DirectivePost, PostOutcome
from workflows.licences import Licence
from workflows.outbox import Outbox
from workflows.ports import UnitOfWork
from workflows.registry import Tool


class ToolRepository(Protocol):
    async def get_by_key(self, key: str) -> Tool | None: ...

    async def get(self, tool_id: int) -> Tool | None: ...

    async def find(self, key: str, alias: str, forms: frozenset[str]) -> Tool | None:
        """The tool with this key; else the one with `alias` (already normalised) among its
        aliases; else the first registered (lowest id) with any of these look-alike forms
        (`Tool.lookalikes()`). Found without reading the whole registry."""

    async def any_overridden(self) -> bool:
        """Whether any tool has a cease-use or suspension in force (False: no card needs a warning)."""

    async def all(self) -> list[Tool]:
        """Every tool, for fuzzy lookup (/tool-status): a read, never on the path of a change."""

    async def with_status(self) -> list[Tool]:
        """The tools that have a status of record (for /tool-status with no name)."""

    async def add(self, tool: Tool) -> Tool:
        """Store a new tool; sets and returns it with its id. Keys and aliases are unique."""

    async def save(self, tool: Tool) -> None:
        """Store changes; raises ConcurrencyConflict if someone saved it since it was loaded."""


class DirectiveRepository(Protocol):
    async def add(self, directive: Directive) -> Directive:
        """Store a new directive; sets and returns it with its id."""

    async def get(self, directive_id: int) -> Directive | None: ...

    async def lock(self, directive_id: int) -> Directive | None:
        """Load it and hold it until the transaction ends (a concurrent change waits or fails)."""

    async def save(self, directive: Directive) -> None:
        """Store changes; raises ConcurrencyConflict if someone saved it since it was loaded."""

    async def active_for_tool(self, tool_key: str) -> list[Directive]:
        """The tool's directives still in force, oldest first."""

    async def list_active(self) -> list[Directive]:
        """All directives still in force, oldest first."""

    async def for_channel(self, channel: str, *, ack_required: bool = True) -> list[Directive]:
        """Directives in force posted to `channel` (that ask for acknowledgement, by default)."""


class AcknowledgementRepository(Protocol):
    async def add(self, ack: Acknowledgement) -> bool:
        """Record it; False if that person had already acknowledged that directive.

        Storage enforces one per (directive, user) with a unique constraint, so two clicks
        racing each other still record one; use INSERT … ON CONFLICT DO NOTHING (or a
        savepoint) so the duplicate does not abort the surrounding transaction.
        """

    async def get(self, directive_id: int, user_id: str) -> Acknowledgement | None: ...

    async def count(self, directive_id: int) -> int: ...

    async def users(self, directive_id: int) -> set[str]: ...

    async def counts(self, directive_ids: list[int]) -> dict[int, int]:
        """Acknowledgements per directive, every id given included (0 when none)."""


class AttestationRepository(Protocol):
    async def add(self, attestation: Attestation) -> bool:
        """Record it; False if that person had already answered that directive (or request): one
        per (directive, user) and per (request, user), by unique constraints, as acknowledgements."""

    async def for_directive(self, directive_id: int, user_id: str) -> Attestation | None: ...

    async def for_request(self, request_id: int, user_id: str) -> Attestation | None: ...

    async def answers(self, directive_id: int) -> dict[str, AttestationAnswer]:
        """Who answered the directive, and what: the running count's input."""


class DirectivePostRepository(Protocol):
    """Where each directive is posted (one row per channel) and what became of each post."""

    async def add(self, directive_id: int, channel: str, now: datetime) -> None: ...

    async def for_directive(self, directive_id: int) -> list[DirectivePost]: ...

    async def set_outcome(
        self,
        directive_id: int,
        channel: str,
        outcome: PostOutcome,
        now: datetime,
        *,
        error: str = "",
        ts: str | None = None,
    ) -> bool:
        """Record a post's outcome; False if it was already that."""

    async def claim_count(self, post_id: int, shown_at: datetime | None, count: str, now: datetime) -> bool:
        """Record that `count` is about to be shown; False if another process changed it since `shown_at`."""


class LicenceRepository(Protocol):
    """Licences (storage/licences.py): a tool's current licence is its newest one."""

    async def add(self, licence: Licence) -> Licence:
        """Store a new licence; sets and returns it with its id."""

    async def get(self, licence_id: int) -> Licence | None: ...

    async def current_for_tool(self, tool_key: str) -> Licence | None: ...

    async def for_request(self, request_ref: str) -> Licence | None: ...

    async def with_renewal(self, request_ref: str) -> Licence | None:
        """The licence whose open renewal is the request `request_ref`."""

    async def save(self, licence: Licence) -> None:
        """Store changes; raises ConcurrencyConflict if someone saved it since it was loaded."""


class HomeTabs(Protocol):
    """Who has opened the app's Home tab (workflows/home_tabs.py)."""

    async def opened(self, user_id: str, now: datetime) -> bool:
        """Record that `user_id` has a Home tab; True the first time."""


class DirectiveUnitOfWork(UnitOfWork, Protocol):
    @property
    def tools(self) -> ToolRepository: ...

    @property
    def directives(self) -> DirectiveRepository: ...

    @property
    def acks(self) -> AcknowledgementRepository: ...

    @property
    def directive_posts(self) -> DirectivePostRepository: ...

    @property
    def licences(self) -> LicenceRepository: ...

    @property
    def attestations(self) -> AttestationRepository: ...


class ChangeUnitOfWork(DirectiveUnitOfWork, Protocol):
    """The unit of work a change runs in (bot/wiring/changes.py): every repository, and the outbox."""

    @property
    def outbox(self) -> Outbox: ...

    @property
    def audit_anchors(self) -> AuditAnchors: ...

    @property
    def home_tabs(self) -> HomeTabs: ...

    async def first_delivery(self, event_id: str) -> bool:
        """Record a delivery key (a view submission, an Events API event); False if already seen."""


# A unit of work for reads only (never committed): what listeners and read models are given.
ReadingUnit = Callable[[], AbstractAsyncContextManager[DirectiveUnitOfWork]]
