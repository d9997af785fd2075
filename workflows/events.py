"""Domain events: what happened, returned by the services for the bot to tell people about.

The domain never talks to Slack; the bot turns each event into messages (see bot/outbound.py).
Events carry a snapshot of the request as it stands after the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.requests import Decision, InfoExchange, ToolRequest


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class RequestSubmitted(Event):
    request: ToolRequest


@dataclass(frozen=True)
class StageApproved(Event):
    """A stage approved and the request moved on to `next_stage_key`."""

    request: ToolRequest
    decision: Decision
    next_stage_key: str


@dataclass(frozen=True)
class RequestApproved(Event):
    request: ToolRequest
    decision: Decision


@dataclass(frozen=True)
class RequestRejected(Event):
    request: ToolRequest
    decision: Decision


@dataclass(frozen=True)
class InfoRequested(Event):
    request: ToolRequest
    exchange: InfoExchange


@dataclass(frozen=True)
class InfoProvided(Event):
    request: ToolRequest
    exchange: InfoExchange


@dataclass(frozen=True)
class RequestWithdrawn(Event):
    request: ToolRequest
    by: str
    stage_key: str | None
