"""The one in-memory unit of work of the domain tests (workflows/ports.py, ports_directives.py,
audit_anchors.py): its repositories copy on the way in and out and check versions, like a database."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from workflows.attestations import Attestation, AttestationAnswer
from workflows.audit import AuditEntry
from workflows.audit_anchors import Anchored, ChainHead
from workflows.directive_model import Acknowledgement, Directive, DirectivePost, PostOutcome
from workflows.errors import ConcurrencyConflict
from workflows.licences import Licence
from workflows.registry import Tool
from workflows.requests import ToolRequest


class FakeRequests:
    def __init__(self) -> None:
        self.rows: dict[int, ToolRequest] = {}

    async def add(self, request: ToolRequest) -> ToolRequest:
        request.id = len(self.rows) + 1
        self.rows[request.id] = copy.deepcopy(request)
        return request

    async def get(self, request_id: int) -> ToolRequest | None:
        return copy.deepcopy(self.rows.get(request_id))

    async def save(self, request: ToolRequest) -> None:
        if self.rows[request.id].version != request.version:
            raise ConcurrencyConflict(request.ref)
        request.version += 1
        self.rows[request.id] = copy.deepcopy(request)

    async def for_requester(self, user_id: str, *, open_only: bool = False) -> list[ToolRequest]:
        return [copy.deepcopy(r) for r in self.rows.values() if r.requester_id == user_id]

    async def at_stages(self, stage_keys: list[str]) -> list[ToolRequest]:
        return [copy.deepcopy(r) for r in self.rows.values() if r.stage_key in stage_keys and r.status.is_open]

    async def open_tool_names(self, stage_keys: list[str]) -> list[tuple[int, str]]:
        return [(r.id, r.tool_name) for r in await self.at_stages(stage_keys)]


class _Versioned:
    """Rows by id, with the optimistic version check storage does."""

    def __init__(self) -> None:
        self.rows: dict[int, object] = {}

    def _add(self, item):
        item.id = len(self.rows) + 1
        self.rows[item.id] = copy.deepcopy(item)
        return item

    def _save(self, item) -> None:
        if self.rows[item.id].version != item.version:
            raise ConcurrencyConflict()
        item.version += 1
        self.rows[item.id] = copy.deepcopy(item)


class FakeTools(_Versioned):
    async def get_by_key(self, key: str) -> Tool | None:
        return next((copy.deepcopy(t) for t in self.rows.values() if t.key == key), None)

    async def get(self, tool_id: int) -> Tool | None:
        return next((copy.deepcopy(t) for t in self.rows.values() if t.id == tool_id), None)

    async def find(self, key: str, alias: str, forms: frozenset[str]) -> Tool | None:
        tools = sorted(self.rows.values(), key=lambda t: t.id)
        found = next((t for t in tools if t.key == key), None) or next((t for t in tools if alias in t.aliases), None)
        found = found or next((t for t in tools if not forms.isdisjoint(t.lookalikes())), None)
        return copy.deepcopy(found) if found else None

    async def any_overridden(self) -> bool:
        return any(t.override is not None for t in self.rows.values())

    async def all(self) -> list[Tool]:
        return [copy.deepcopy(t) for t in self.rows.values()]

    async def add(self, tool: Tool) -> Tool:
        assert all(t.key != tool.key for t in self.rows.values()), "keys are unique"
        return self._add(tool)

    async def save(self, tool: Tool) -> None:
        self._save(tool)


class FakeDirectives(_Versioned):
    async def add(self, directive: Directive) -> Directive:
        return self._add(directive)

    async def get(self, directive_id: int) -> Directive | None:
        return copy.deepcopy(self.rows.get(directive_id))

    async def lock(self, directive_id: int) -> Directive | None:
        return await self.get(directive_id)  # one test at a time: nothing to wait for

    async def save(self, directive: Directive) -> None:
        self._save(directive)

    async def active_for_tool(self, tool_key: str) -> list[Directive]:
        return [d for d in await self.list_active() if d.tool_key == tool_key]

    async def list_active(self) -> list[Directive]:
        return [copy.deepcopy(d) for d in self.rows.values() if d.is_active]

    async def for_channel(self, channel: str, *, ack_required: bool = True) -> list[Directive]:
        active = await self.list_active()
        return [d for d in active if channel in d.channels and (d.ack_required or not ack_required)]


class FakeDirectivePosts:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], DirectivePost] = {}

    async def add(self, directive_id: int, channel: str, now: datetime) -> None:
        key = (directive_id, channel)
        if key not in self.rows:
            self.rows[key] = DirectivePost(
                len(self.rows) + 1, directive_id, channel, PostOutcome.PENDING, "", None, now, "", None
            )

    async def for_directive(self, directive_id: int) -> list[DirectivePost]:
        return sorted((p for p in self.rows.values() if p.directive_id == directive_id), key=lambda p: p.id)

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
        old = self.rows[(directive_id, channel)]
        if old.outcome == outcome:
            return False
        self.rows[(directive_id, channel)] = dataclasses.replace(
            old, outcome=outcome, error=error, ts=ts, updated_at=now
        )
        return True


class FakeAcks:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], Acknowledgement] = {}

    async def add(self, ack: Acknowledgement) -> bool:
        key = (ack.directive_id, ack.user_id)
        if key in self.rows:  # the unique constraint
            return False
        self.rows[key] = ack
        return True

    async def get(self, directive_id: int, user_id: str) -> Acknowledgement | None:
        return self.rows.get((directive_id, user_id))

    async def count(self, directive_id: int) -> int:
        return len(await self.users(directive_id))

    async def users(self, directive_id: int) -> set[str]:
        return {user for (d, user) in self.rows if d == directive_id}


class FakeAttestations:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int | None, str], Attestation] = {}

    async def add(self, a: Attestation) -> bool:
        key = ("d", a.directive_id, a.user_id) if a.directive_id is not None else ("r", a.request_id, a.user_id)
        if key in self.rows:  # the unique constraints
            return False
        self.rows[key] = a
        return True

    async def for_directive(self, directive_id: int, user_id: str) -> Attestation | None:
        return self.rows.get(("d", directive_id, user_id))

    async def for_request(self, request_id: int, user_id: str) -> Attestation | None:
        return self.rows.get(("r", request_id, user_id))

    async def answers(self, directive_id: int) -> dict[str, AttestationAnswer]:
        return {a.user_id: a.answer for (kind, d, _), a in self.rows.items() if kind == "d" and d == directive_id}


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def for_subject(self, subject: str) -> list[AuditEntry]:
        return [e for e in self.entries if e.subject == subject]


class FakeLicences:
    """workflows.ports_directives.LicenceRepository in memory (a tool's current licence: its newest)."""

    def __init__(self) -> None:
        self.rows: dict[int, Licence] = {}

    async def add(self, licence: Licence) -> Licence:
        stored = dataclasses.replace(licence, id=len(self.rows) + 1, version=0)
        self.rows[stored.id] = stored
        return stored

    async def get(self, licence_id: int) -> Licence | None:
        return self.rows.get(licence_id)

    async def current_for_tool(self, tool_key: str) -> Licence | None:
        return next((lic for lic in reversed(self.rows.values()) if lic.tool_key == tool_key), None)

    async def for_request(self, request_ref: str) -> Licence | None:
        return next((lic for lic in reversed(self.rows.values()) if lic.request_ref == request_ref), None)

    async def with_renewal(self, request_ref: str) -> Licence | None:
        return next((lic for lic in self.rows.values() if lic.renewal_ref == request_ref), None)

    async def save(self, licence: Licence) -> None:
        assert licence.id is not None
        if self.rows[licence.id].version != licence.version:
            raise ConcurrencyConflict(licence.ref)
        self.rows[licence.id] = dataclasses.replace(licence, version=licence.version + 1)


class FakeAnchors:
    """workflows.audit_anchors.AuditAnchors in memory: the chain's head is what the test sets."""

    def __init__(self, head: ChainHead | None = None) -> None:
        self.now = head or ChainHead(0, "0" * 64)
        self.recorded: list[Anchored] = []

    async def head(self) -> ChainHead:
        return self.now

    async def latest(self, posted_to: str) -> Anchored | None:
        return next((a for a in reversed(self.recorded) if a.posted_to == posted_to), None)

    async def record(self, anchor: Anchored) -> None:
        self.recorded.append(anchor)


@dataclass
class FakeUnitOfWork:
    """The one in-memory unit of work of the domain tests: every repository of
    workflows.ports_directives.DirectiveUnitOfWork, the audit anchors, and a count of commits.
    Nothing is rolled back: a domain test reads what the services left, as a committed change."""

    requests: FakeRequests = field(default_factory=FakeRequests)
    tools: FakeTools = field(default_factory=FakeTools)
    directives: FakeDirectives = field(default_factory=FakeDirectives)
    acks: FakeAcks = field(default_factory=FakeAcks)
    directive_posts: FakeDirectivePosts = field(default_factory=FakeDirectivePosts)
    attestations: FakeAttestations = field(default_factory=FakeAttestations)
    audit: FakeAudit = field(default_factory=FakeAudit)
    licences: FakeLicences = field(default_factory=FakeLicences)
    audit_anchors: FakeAnchors = field(default_factory=FakeAnchors)
    commits: int = 0

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        pass
