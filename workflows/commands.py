"""Every change is a command: a frozen dataclass naming what someone (or something) asked for.

A listener, a background loop and the CLI each build one and hand it to the one entry point
(bot/wiring/changes.py `Changes.handle`), which calls `run` here inside the change's transaction:

    events = await run(uow, policy, command)  # the service, then every domain handler's events

`SERVICES` is the table from a command to the domain service that carries it out. Adding a change
is a command here and a row in the table; the service itself lives with its aggregate.

This module is a declarative table (the commands, frozen dataclasses of data only, and the
`SERVICES` rows; `run` is four lines): it grows by one command and one row per change, and is
the one place to read them all, so it is exempt from the 400-line limit (tests/test_layering.py).

`once`: a delivery key (a submitted view's id) recorded in the same transaction, so a
re-delivery of the same submission changes nothing and yields no events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflows.attestations import SelfReport
from workflows.attesting import attest_directive, attest_request, submit_self_report
from workflows.audit_anchors import anchor_chain
from workflows.directive_model import DirectiveDraft, PostOutcome
from workflows.directive_posts import record_post_outcome, show_count
from workflows.directives import acknowledge, issue_directive, retry_failed_posts, revoke_directive, supersede_directive
from workflows.events import Event
from workflows.followups import KINDS
from workflows.followups.kind import Known
from workflows.followups.run import run_follow_ups, seed_follow_ups
from workflows.handlers import handle
from workflows.home_tabs import record_home_opened
from workflows.licence_renewal import renew
from workflows.licence_service import approve_with_licence, extend_licence, lapse_licence
from workflows.licence_terms import LicenceTerms
from workflows.licences import Change
from workflows.policy import Policy
from workflows.ports_directives import ChangeUnitOfWork
from workflows.requests import Outcome, RequestDraft
from workflows.review import ask_for_info, record_decision, withdraw_request
from workflows.risk import Tier
from workflows.risk_review import answer_with_changes, lower_tier, raise_tier, submit_with_answers
from workflows.submission import submit_request


@dataclass(frozen=True)
class Command:
    once: str = field(default="", kw_only=True)  # see the module docstring


# --- the officer's side --------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitRequest(Command):
    """The one-page form (no risk questions): registered for every stage."""

    draft: RequestDraft
    requester: str
    at: datetime


@dataclass(frozen=True)
class SubmitWithAnswers(Command):
    draft: RequestDraft
    requester: str
    answers: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class AnswerQuestion(Command):
    """The requester answers a reviewer's question, changing intake answers with it if they were wrong."""

    request_id: int
    requester: str
    answer: str
    changes: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class WithdrawRequest(Command):
    request_id: int
    requester: str
    at: datetime
    reason: str = ""


# --- the reviewer's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordDecision(Command):
    request_id: int
    stage_key: str
    reviewer: str
    outcome: Outcome
    note: str
    reviewers: frozenset[str]  # the stage's reviewers as Slack says now
    at: datetime
    # The card's one-click Approve: where approving would close the request, nothing is decided and
    # LicenceAsked is returned (the final approval is the licence form's).
    asks_licence: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class AskForInfo(Command):
    request_id: int
    stage_key: str
    reviewer: str
    question: str
    reviewers: frozenset[str]
    at: datetime


@dataclass(frozen=True)
class RaiseTier(Command):
    request_id: int
    stage_key: str
    by: str
    tier: Tier
    reason: str
    reviewers: frozenset[str]
    is_command_staff: bool
    at: datetime


@dataclass(frozen=True)
class LowerTier(Command):
    request_id: int
    by: str
    tier: Tier
    reason: str
    is_command_staff: bool
    at: datetime


@dataclass(frozen=True)
class ApproveWithLicence(Command):
    """The last stage's Approve: the approval and the licence the form describes, one decision."""

    request_id: int
    stage_key: str
    reviewer: str
    terms: LicenceTerms
    reviewers: frozenset[str]
    at: datetime


# --- licences ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewLicence(Command):
    tool_key: str
    by: str
    changes: tuple[Change, ...]
    what_changed: str
    is_command_staff: bool
    at: datetime


@dataclass(frozen=True)
class ExtendLicence(Command):
    tool_key: str
    by: str
    is_command_staff: bool
    until: date | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class LapseLicence(Command):
    """At expiry (called by the timed follow-ups): `audience` is every authorised user, resolved by
    the caller (named people, the members of its user groups)."""

    licence_id: int
    audience: frozenset[str]
    at: datetime


# --- directives ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueDirective(Command):
    """`tool_id` (or `tool_key`, from forms opened before ids): a known tool picked in the form (its
    name is read in the transaction); otherwise the draft's tool name is used as typed."""

    draft: DirectiveDraft
    by: str
    is_command_staff: bool
    at: datetime
    tool_key: str = ""
    tool_id: int | None = None


@dataclass(frozen=True)
class SupersedeDirective(Command):
    """A replacement's draft names no tool: the domain keeps the old one's."""

    old_id: int
    draft: DirectiveDraft
    by: str
    is_command_staff: bool
    at: datetime


@dataclass(frozen=True)
class Acknowledge(Command):
    directive_id: int
    user: str
    in_audience: bool  # a member of one of its channels, as Slack says now
    at: datetime


@dataclass(frozen=True)
class Attest(Command):
    """Someone a cease-use or suspension was sent to answers it (workflows/attesting.py), or the
    officer whose self-reported use was rejected answers about it (`request_id`). `notify`: where a
    "still holding" answer is told, as Slack resolves [attestations] notify now."""

    user: str
    answer: str | None
    case_numbers: str
    held: str
    at: datetime
    directive_id: int | None = None
    request_id: int | None = None
    in_audience: bool = False
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportUse(Command):
    """/report-use: a tool used before approval, with the risk answers as for a request."""

    report: SelfReport
    answers: Mapping[str, Any]
    notes: str = ""


@dataclass(frozen=True)
class RevokeDirective(Command):
    directive_id: int
    by: str
    is_command_staff: bool
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class RetryFailedPosts(Command):
    directive_id: int
    by: str
    is_command_staff: bool
    at: datetime


@dataclass(frozen=True)
class RecordPostOutcome(Command):
    """The outbox sender learned what became of a directive's post in one channel."""

    directive_id: int
    channel: str
    outcome: PostOutcome
    error: str
    ts: str | None
    at: datetime


@dataclass(frozen=True)
class ShowCount(Command):
    """The count refresher shows a new running count on one post (`shown_at`: the one it replaces)."""

    directive_id: int
    post_id: int
    channel: str
    shown_at: datetime | None
    text: str
    at: datetime


# --- timed follow-ups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFollowUps(Command):
    """One sweep of every registered follow-up kind (workflows/followups/run.py); `known`: what
    Slack said just before."""

    at: datetime
    known: Known
    limit: int = 1000


@dataclass(frozen=True)
class SeedFollowUps(Command):
    """Once at start-up: every recurring follow-up kind (no subject row) gets its row if it has none."""

    at: datetime


# --- the Home tab ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenHome(Command):
    """Someone opened the app's Home tab (workflows/home_tabs.py): keep it current from now on."""

    user: str
    at: datetime


# --- the audit trail ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorChain(Command):
    """Record the audit chain's head in audit_anchors and post it to [audit] channel
    (workflows/audit_anchors.py). `by`: ON_SCHEDULE or BY_OPERATOR."""

    by: str
    at: datetime


# --- the table -----------------------------------------------------------------------------------

Service = Callable[[ChangeUnitOfWork, Policy, Any], Awaitable[list[Event]]]


async def _issue(uow: ChangeUnitOfWork, policy: Policy, c: IssueDirective) -> list[Event]:
    draft = c.draft
    if c.tool_key or c.tool_id is not None:
        tool = await uow.tools.get(c.tool_id) if c.tool_id is not None else await uow.tools.get_by_key(c.tool_key)
        draft = dataclasses.replace(draft, tool=tool.name if tool is not None else "")
    return await issue_directive(uow, draft, c.by, c.is_command_staff, c.at, reminders=policy.reminders)


async def _attest(uow: ChangeUnitOfWork, policy: Policy, c: Attest) -> list[Event]:
    if c.request_id is not None:
        return await attest_request(uow, c.request_id, c.user, c.answer, c.case_numbers, c.held, c.at, notify=c.notify)
    assert c.directive_id is not None, "an attestation answers a directive or a request"
    return await attest_directive(
        uow, c.directive_id, c.user, c.answer, c.case_numbers, c.held, c.at, in_audience=c.in_audience, notify=c.notify
    )


SERVICES: dict[type[Command], Service] = {
    SubmitRequest: lambda uow, policy, c: submit_request(uow, policy, c.draft, c.requester, c.at),
    SubmitWithAnswers: lambda uow, policy, c: submit_with_answers(uow, policy, c.draft, c.requester, c.answers, c.at),
    AnswerQuestion: lambda uow, policy, c: answer_with_changes(
        uow, policy, c.request_id, c.requester, c.answer, c.changes, c.at
    ),
    WithdrawRequest: lambda uow, policy, c: withdraw_request(uow, c.request_id, c.requester, c.reason, c.at),
    RecordDecision: lambda uow, policy, c: record_decision(
        uow, policy, c.request_id, c.stage_key, c.reviewer, c.outcome, c.note, c.reviewers, c.at, c.asks_licence
    ),
    AskForInfo: lambda uow, policy, c: ask_for_info(
        uow, policy, c.request_id, c.stage_key, c.reviewer, c.question, c.reviewers, c.at
    ),
    RaiseTier: lambda uow, policy, c: raise_tier(
        uow,
        policy,
        c.request_id,
        c.stage_key,
        c.by,
        c.tier,
        c.reason,
        c.reviewers,
        c.at,
        is_command_staff=c.is_command_staff,
    ),
    LowerTier: lambda uow, policy, c: lower_tier(
        uow, policy, c.request_id, c.by, c.tier, c.reason, c.is_command_staff, c.at
    ),
    ApproveWithLicence: lambda uow, policy, c: approve_with_licence(
        uow, policy, c.request_id, c.stage_key, c.reviewer, c.terms, c.reviewers, c.at
    ),
    RenewLicence: lambda uow, policy, c: renew(
        uow, policy, c.tool_key, c.by, c.changes, c.what_changed, c.is_command_staff, c.at
    ),
    ExtendLicence: lambda uow, policy, c: extend_licence(
        uow, policy, c.tool_key, c.by, c.is_command_staff, c.until, c.reason, c.at
    ),
    LapseLicence: lambda uow, policy, c: lapse_licence(uow, policy, c.licence_id, c.audience, c.at),
    IssueDirective: _issue,
    SupersedeDirective: lambda uow, policy, c: supersede_directive(
        uow, c.old_id, c.draft, c.by, c.is_command_staff, c.at, reminders=policy.reminders
    ),
    Acknowledge: lambda uow, policy, c: acknowledge(uow, c.directive_id, c.user, c.at, in_audience=c.in_audience),
    Attest: _attest,
    ReportUse: lambda uow, policy, c: submit_self_report(uow, policy, c.report, c.answers, c.notes),
    RevokeDirective: lambda uow, policy, c: revoke_directive(
        uow, c.directive_id, c.by, c.is_command_staff, c.at, c.reason
    ),
    RetryFailedPosts: lambda uow, policy, c: retry_failed_posts(uow, c.directive_id, c.by, c.is_command_staff, c.at),
    RecordPostOutcome: lambda uow, policy, c: record_post_outcome(
        uow, c.directive_id, c.channel, c.outcome, c.error, c.ts, c.at
    ),
    RunFollowUps: lambda uow, policy, c: run_follow_ups(uow, policy, c.at, c.known, c.limit, KINDS),
    SeedFollowUps: lambda uow, policy, c: seed_follow_ups(uow, policy, c.at, KINDS),
    ShowCount: lambda uow, policy, c: show_count(uow, c.directive_id, c.post_id, c.channel, c.shown_at, c.text, c.at),
    AnchorChain: lambda uow, policy, c: anchor_chain(uow, policy.audit, c.by, c.at),
    OpenHome: lambda uow, policy, c: record_home_opened(uow, c.user, c.at),
}


async def run(uow: ChangeUnitOfWork, policy: Policy, command: Command) -> list[Event]:
    """The command's service, then every domain handler of every event (workflows/handlers.py):
    all the events of the change, in order. The caller owns the transaction."""
    if command.once and not await uow.first_delivery(command.once):
        return []
    return await handle(uow, policy, await SERVICES[type(command)](uow, policy, command))
