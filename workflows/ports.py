"""The domain's view of the outside world: small protocols that storage and tests implement."""

from __future__ import annotations

from typing import Protocol

from workflows.audit import AuditEntry
from workflows.requests import ToolRequest


class RequestRepository(Protocol):
    async def add(self, request: ToolRequest) -> ToolRequest:
        """Store a new request; sets and returns it with its id."""

    async def get(self, request_id: int) -> ToolRequest | None: ...

    async def save(self, request: ToolRequest) -> None:
        """Store changes; raises ConcurrencyConflict if someone saved it since it was loaded."""

    async def for_requester(self, user_id: str, *, open_only: bool = False) -> list[ToolRequest]: ...

    async def at_stages(self, stage_keys: list[str]) -> list[ToolRequest]:
        """Open requests waiting at any of these stages, oldest first (at most a screenful)."""

    async def open_tool_names(self, stage_keys: list[str]) -> list[tuple[int, str]]:
        """(id, tool name) of every open request waiting at any of these stages, oldest first: a
        light read of them all, to pick out those about one tool."""


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...

    async def for_subject(self, subject: str) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it is committed together or not at all.

    The repositories are read-only properties so that an implementation may hold subtypes of them
    (a settable protocol attribute would have to have exactly the declared type).
    """

    @property
    def requests(self) -> RequestRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
