"""The tool registry's services: a request recorded against the tool it names (registered if new,
flagged under a cease-use or suspension), its outcome as the tool's status of record, finding a
tool by name, and what /tool-status answers. The directive services (workflows/directives.py)
store the tools they change through `find_or_new_tool` and `store_tool`.

Services take an open DirectiveUnitOfWork, record audit entries and return events; the caller commits.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from workflows import registry
from workflows.audit import AuditEntry
from workflows.cleaning import clean_name
from workflows.directive_model import RequestFlagged, StatusAnswer, ToolStatusChanged
from workflows.errors import InvalidInput
from workflows.events import Event
from workflows.policy import Policy
from workflows.registry import Tool
from workflows.request_effects import RequestOutcome, apply_request_decision
from workflows.requests import ToolRequest
from workflows.tool_names import lookalikes, normalise_name, tool_key

if TYPE_CHECKING:
    from workflows.ports_directives import DirectiveUnitOfWork


async def record_tool_request(
    uow: DirectiveUnitOfWork, tool_name: str, request_ref: str, by: str, now: datetime
) -> list[Event]:
    """A request was submitted for `tool_name`: register the tool and flag a cease-use or suspension."""
    tool, is_new = await find_or_new_tool(uow, _tool_name(tool_name))
    after = registry.with_alias(tool, tool_name)
    after = apply_request_decision(after, request_ref, RequestOutcome.OPENED, by, now)
    after, events = await store_tool(uow, tool, after, is_new, by, now, request_ref)
    if after.override is not None:
        events.append(RequestFlagged(request_ref, after))
    return events


async def record_request_outcome(
    uow: DirectiveUnitOfWork,
    tool_name: str,
    request_ref: str,
    outcome: RequestOutcome,
    by: str,
    now: datetime,
    conditions: str = "",
) -> list[Event]:
    """A request for `tool_name` was approved, rejected or withdrawn: update the status of record."""
    tool, is_new = await find_or_new_tool(uow, _tool_name(tool_name))
    after = registry.with_alias(tool, tool_name)
    after = apply_request_decision(after, request_ref, outcome, by, now, conditions)
    _, events = await store_tool(uow, tool, after, is_new, by, now, request_ref)
    return events


async def find_tool(uow: DirectiveUnitOfWork, name: str) -> Tool | None:
    """The registry's record for a name, if it has one (exact, alias, or equal but for spaces; no fuzzy guess)."""
    # Look-alikes: "Clear View" for "Clearview", "Stingrаy" (Cyrillic а) for "Stingray"; the forms
    # are what registry.same_tool compares.
    return await uow.tools.find(tool_key(name), normalise_name(name), lookalikes(name))


OPEN_REQUESTS_SHOWN = 20  # /tool-status lists at most ten; more would only be counted


async def open_requests_for(uow: DirectiveUnitOfWork, stage_keys: list[str], tool: Tool) -> list[ToolRequest]:
    """Open requests (waiting at any of these stages) about `tool`, under any of its names: all of
    them are looked at, however many others are open, and the oldest loaded whole."""
    names = await uow.requests.open_tool_names(stage_keys)
    about = [request_id for request_id, name in names if registry.same_tool(name, tool)]
    loaded = [await uow.requests.get(request_id) for request_id in about[:OPEN_REQUESTS_SHOWN]]
    return [request for request in loaded if request is not None]


async def override_for(uow: DirectiveUnitOfWork, request: ToolRequest) -> Tool | None:
    """The tool, if a cease-use or suspension is in force for what `request` asks for: reviewers are warned."""
    if not await uow.tools.any_overridden():  # the usual case, known once per batch: no look-up
        return None
    tool = await find_tool(uow, request.tool_name)
    return tool if tool is not None and tool.override is not None else None


CLEAR_MARGIN = 5.0  # how far ahead the best fuzzy match must be to be taken as the tool meant


async def tool_status(uow: DirectiveUnitOfWork, query: str, limit: int = 5) -> StatusAnswer:
    hits = registry.match_tools(query, await uow.tools.all(), limit)
    # Filed under that very name (as /request-tool would file it): the answer of record.
    chosen = await find_tool(uow, query) if normalise_name(query) else None
    exact = chosen is not None
    if chosen is None and hits:  # else only the closest name on record, if one stands out
        (top, best), runner_up = hits[0], hits[1][1] if len(hits) > 1 else 0.0
        if (best == 100.0 and runner_up < 100.0) or best - runner_up >= CLEAR_MARGIN:
            chosen = top
    directives = await uow.directives.active_for_tool(chosen.key) if chosen else []
    others = tuple(tool for tool, _ in hits if chosen is None or tool.key != chosen.key)
    return StatusAnswer(query, chosen, others, tuple(directives), exact)


async def tool_status_with_requests(
    uow: DirectiveUnitOfWork, policy: Policy, query: str
) -> tuple[StatusAnswer, list[ToolRequest]]:
    """What /tool-status says: the status answer, and the requests about the tool meant still open
    at any stage of the policy (none when it is unsure which tool was meant)."""
    answer = await tool_status(uow, query)
    requests = await open_requests_for(uow, list(policy.stage_keys), answer.tool) if answer.tool else []
    return answer, requests


# --- helpers -------------------------------------------------------------------------------


def _tool_name(name: str) -> str:
    name = clean_name(name)
    if not normalise_name(name):
        raise InvalidInput({"tool_name": "Give the tool's name."})
    return name


async def find_or_new_tool(uow: DirectiveUnitOfWork, name: str) -> tuple[Tool, bool]:
    """The tool `name` is filed under, or a new one (not yet stored) and True."""
    tool = await find_tool(uow, name)
    return (tool, False) if tool is not None else (registry.new_tool(name), True)


async def store_tool(
    uow: DirectiveUnitOfWork, before: Tool, after: Tool, is_new: bool, actor: str, now: datetime, cause: str
) -> tuple[Tool, list[Event]]:
    """Add or save the tool if it changed, audit it, and say whether its shown status changed."""
    subject = f"tool:{after.key}"
    if is_new:
        after = await uow.tools.add(after)
        await record_audit(uow, subject, "tool:registered", actor, now, "", after.state(), cause)
    elif after != before:
        await uow.tools.save(after)
        if after.aliases != before.aliases:
            added = ", ".join(sorted(after.aliases - before.aliases))
            await record_audit(uow, subject, "tool:alias_added", actor, now, reason=added)
        layers = ("decision", "directive", "override")
        if any(getattr(after, x) != getattr(before, x) for x in layers):
            await record_audit(uow, subject, "tool:status", actor, now, before.state(), after.state(), cause)
    snapshot = dataclasses.replace(after)
    was = None if is_new else before.current
    if after.current == was:
        return snapshot, []
    return snapshot, [ToolStatusChanged(snapshot, was, cause)]


async def record_audit(
    uow: DirectiveUnitOfWork,
    subject: str,
    action: str,
    actor: str,
    now: datetime,
    before: str = "",
    after: str = "",
    reason: str = "",
) -> None:
    await uow.audit.record(AuditEntry(subject, action, actor, now, before, after, reason))
