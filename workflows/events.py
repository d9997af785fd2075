"""Domain events: what happened, returned by the services for the bot to tell people about.

The domain never talks to Slack; the bot turns each event into messages (see bot/messages/outbound.py).
Events carry a snapshot of the request as it stands after the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.licences import Licence
from workflows.requests import AnswerVersion, Decision, InfoExchange, ToolRequest
from workflows.risk import Tier
from workflows.risk_assessment import Assessment


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
    licence: Licence | None = None  # the licence the final approver granted with it (the licence form)


@dataclass(frozen=True)
class LicenceAsked(Event):
    """A one-click Approve at the request's last stage decided nothing: every final approval is a
    licence (issue 18), so the bot opens the licence form. Found inside the change's transaction,
    so the click needs no read of its own before it (RecordDecision.asks_licence)."""

    request_id: int
    stage_key: str


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


# --- risk at intake (workflows.risk) ---------------------------------------------------------


@dataclass(frozen=True)
class RequestRefused(Event):
    """The rules prohibit the tool: the request was closed as rejected before any reviewer saw it.

    `decision` is the rules' (stage_key and by are requests.RULES); its note names the rules.
    """

    request: ToolRequest
    decision: Decision
    assessment: Assessment
    waited_at: str | None = None  # the stage it waited at, when refused in review (its card says so)

    @property
    def tool_in_use(self) -> bool:
        """The officer said it is used already (trial or paid): command staff may order it stopped."""
        return self.request.answers.get("in_use") in ("trial", "yes")


@dataclass(frozen=True)
class RequestApprovedByRules(Event):
    """The request's tier has no review stages: approved at once by the rules (by = requests.RULES)."""

    request: ToolRequest
    decision: Decision
    assessment: Assessment


@dataclass(frozen=True)
class TierChanged(Event):
    """A person (or the officer's changed answers) moved the request to another tier and its route.

    The request continues at `to_stage_key`, the first stage of the new route not yet approved.
    When none is left, `approved` is the decision that closed the request as approved.
    """

    request: ToolRequest
    before: Tier | None
    after: Tier
    by: str
    reason: str
    from_stage_key: str | None
    to_stage_key: str | None
    approved: Decision | None = None


@dataclass(frozen=True)
class AnswersChanged(Event):
    """The officer changed intake answers: a new version, and what the rules now say about it."""

    request: ToolRequest
    version: AnswerVersion
    changed: tuple[str, ...]  # question ids whose answer changed
    assessment: Assessment
    # The stage whose card, posted before this change, now shows the new answers; None when the
    # request left that stage (a TierChanged or RequestRefused follows and says where it is).
    card_stage_key: str | None = None
