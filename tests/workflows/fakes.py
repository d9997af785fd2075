"""In-memory fakes of the request ports: they copy on the way in and out, like a database."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from tests.workflows.fakes_directives import FakeAudit
from workflows.errors import ConcurrencyConflict
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


@dataclass
class FakeUnitOfWork:
    requests: FakeRequests = field(default_factory=FakeRequests)
    audit: FakeAudit = field(default_factory=FakeAudit)

    async def commit(self) -> None:
        pass

    async def rollback(self) -> None:
        pass
