"""What the public pages and the operator's reports may read of the record: a read port and its shapes.

The shapes hold no people: no Slack ids, no names, no case numbers, none of the request's own free
text (its purpose, notes, answers to questions). A template given only these cannot leak them.
One field is free text and marked so: `RequestFacts.vendor` (the "vendor or website" the requester
typed), which only `clearance inventory` uses (boards publish the vendor), never the transparency page.
Reviewers' notes and a directive's text (the conditions of record) are not read at all: they can
name people; a licence's `public_conditions` will be the words meant for the public.

A tool's current licence carries the public choices (the licence form's): `listed_publicly`, its
`public_summary`, and its conditions, which are published (`public_conditions`) only when the
licence is listed publicly (an approval made without the form keeps the stages' notes as its
conditions: those can name people). `authorised_users` says groups, never people. `owner_unit` is
the unit the final approver named (a unit, not a person: public like the groups; free text, so
escaped on the pages and made inert in CSVs). A tool with no licence has None in each, and is not
listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from workflows.attestations import AttestationAnswer
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveStatus
from workflows.registry import ToolStatus
from workflows.requests import Outcome, RequestStatus
from workflows.risk import Answers, Tier


@dataclass(frozen=True)
class Mark:
    """One layer of a tool's status (workflows.registry.StatusMark) without who set it."""

    status: ToolStatus
    source: str  # "REQ-0042" or "DIR-0007"
    since: datetime


@dataclass(frozen=True)
class ToolFacts:
    key: str
    name: str
    status: ToolStatus
    status_since: datetime | None
    decision: Mark | None  # the latest word of the request workflow
    directive: Mark | None  # an Approved for use / Restricted directive in force
    override: Mark | None  # a Cease use / Suspended directive in force
    has_conditions: bool = False  # the approval of record has conditions (their words are not read)
    # What its current licence says (None: it has none).
    listed_publicly: bool | None = None
    public_summary: str | None = None
    public_conditions: str | None = None
    review_due: datetime | None = None  # when the licence expires (the pages say its last day)
    authorised_users: str | None = None
    owner_unit: str | None = None  # FREE TEXT (one line, a unit's name); None: no licence, or none said


@dataclass(frozen=True)
class StageDecision:
    stage_key: str  # or workflows.requests.RULES
    outcome: Outcome
    at: datetime


@dataclass(frozen=True)
class RuleRef:
    id: str
    reason: str  # the rule's wording from the config: public by design


@dataclass(frozen=True)
class RequestFacts:
    ref: str
    tool_key: str | None  # the registry's tool it is filed under (None: a name with nothing to file)
    tool_name: str  # the name as typed for this request
    status: RequestStatus
    tier: Tier | None  # None: made without the intake questions
    created_at: datetime
    closed_at: datetime | None
    decisions: tuple[StageDecision, ...]
    answers: Answers  # the intake answers: categorical choices only (workflows.risk.QUESTIONS)
    prohibitions: tuple[RuleRef, ...] = ()  # the rules that refused it, if the rules did
    vendor: str = ""  # FREE TEXT by the requester ("vendor or website"): operator outputs only
    extends: str | None = None  # a renewal: the ref of the approval it renews
    self_report: SelfReported | None = None  # /report-use: used before approval


@dataclass(frozen=True)
class SelfReported:
    """A self-reported use (workflows.attestations.SelfReport) without who, why, the case or what was kept."""

    reported_at: datetime
    since: date
    emergency: bool
    kept_data: bool


@dataclass(frozen=True)
class LicenceFacts:
    """A licence (workflows.licences.Licence) without its owner, people, note or conditions' words."""

    ref: str  # "LIC-0003"
    tool_key: str
    request_ref: str
    valid_from: datetime
    expires_at: datetime | None
    lapsed_at: datetime | None
    extended: bool
    renews: bool  # granted by a renewal's approval (its request extends an earlier one)


@dataclass(frozen=True)
class DirectiveFacts:
    ref: str
    kind: DirectiveKind
    tool_key: str
    status: DirectiveStatus
    issued_at: datetime
    ended_at: datetime | None  # revoked or superseded
    ack_required: bool
    ack_due: datetime | None
    # When each acknowledgement came, oldest first (who acknowledged is not read).
    acknowledged_at: tuple[datetime, ...] = ()
    audience: int | None = None  # how many were asked to acknowledge, if known
    # Each attestation's time and answer, oldest first (who attested, their cases and what they hold are not read).
    attested: tuple[tuple[datetime, AttestationAnswer], ...] = ()


@dataclass(frozen=True)
class Change:
    """One audit entry as the public may see it: what changed and when; never who or why."""

    subject: str  # "tool:clearview", "REQ-0042", "DIR-0007"
    action: str  # "tool:status", "approved:privacy", "directive:issued", …
    at: datetime
    from_state: str = ""
    to_state: str = ""


@dataclass(frozen=True)
class RecordSnapshot:
    """Everything read in one transaction: one consistent moment of the record."""

    tools: tuple[ToolFacts, ...]
    requests: tuple[RequestFacts, ...]
    directives: tuple[DirectiveFacts, ...]
    changes: tuple[Change, ...] = field(default=())  # oldest first; acknowledgements left out
    licences: tuple[LicenceFacts, ...] = ()  # every licence, oldest first
    read_at: datetime | None = None


class PublicRecordReader(Protocol):
    async def snapshot(self, *, with_changes: bool = True) -> RecordSnapshot:
        """The record as the public pages and reports see it, read in one transaction."""
