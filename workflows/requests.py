"""A tool request and the rules of its journey through the review stages.

The status machine is a table: (status, action) -> status. `apply` is the only way a
request changes status, so every move is checked against the table and recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from workflows.attestations import SelfReport
from workflows.cleaning import clean_line, clean_name, clean_text
from workflows.errors import DomainError, InvalidInput
from workflows.risk import Answers, Tier
from workflows.risk_assessment import Assessment


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for the current stage's reviewers
    INFO_REQUESTED = "info_requested"  # waiting for the requester to answer a question
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self in (RequestStatus.PENDING, RequestStatus.INFO_REQUESTED)


class Action(StrEnum):
    APPROVE = "approve"  # approve a stage that is not the last
    APPROVE_LAST = "approve_last"  # approve the last stage: the request is approved
    REJECT = "reject"
    ASK_INFO = "ask_info"
    ANSWER = "answer"
    WITHDRAW = "withdraw"


S, A = RequestStatus, Action
TRANSITIONS: dict[tuple[RequestStatus, Action], RequestStatus] = {
    (S.PENDING, A.APPROVE): S.PENDING,
    (S.PENDING, A.APPROVE_LAST): S.APPROVED,
    (S.PENDING, A.REJECT): S.REJECTED,
    (S.PENDING, A.ASK_INFO): S.INFO_REQUESTED,
    (S.PENDING, A.WITHDRAW): S.WITHDRAWN,
    # A reviewer may decide without waiting for the answer, or ask a second question.
    (S.INFO_REQUESTED, A.APPROVE): S.PENDING,
    (S.INFO_REQUESTED, A.APPROVE_LAST): S.APPROVED,
    (S.INFO_REQUESTED, A.REJECT): S.REJECTED,
    (S.INFO_REQUESTED, A.ASK_INFO): S.INFO_REQUESTED,
    (S.INFO_REQUESTED, A.ANSWER): S.PENDING,
    (S.INFO_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
}
del S, A


def next_status(status: RequestStatus, action: Action) -> RequestStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(status, action.value) from None


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class PriorUse(StrEnum):
    NONE = "none"
    SIGNED_UP = "signed_up"  # has an account, has not used it for police work
    USED = "used"  # has already used it for police work

    @property
    def label(self) -> str:
        return {
            PriorUse.NONE: "No, not signed up or used",
            PriorUse.SIGNED_UP: "Signed up, not used for police work",
            PriorUse.USED: "Already used for police work",
        }[self]


DATA_KINDS: dict[str, str] = {
    "photos": "Photos or video of people",
    "biometrics": "Biometrics (faces, fingerprints, voice)",
    "location": "Location data",
    "personal": "Personal information (names, contacts, records)",
    "case_evidence": "Case evidence or investigative files",
    "none": "None of these",
}

INVISIBLE_NAME = "This name has only invisible or control characters; type the name as it is written."

# Stored whole; these limits only stop absurd input (Slack's own modal limits are lower).
LIMITS = {"tool_name": 150, "vendor": 300, "purpose": 3000, "case_number": 100, "notes": 3000}


@dataclass(frozen=True)
class Decision:
    stage_key: str
    outcome: Outcome
    by: str
    at: datetime
    note: str = ""


@dataclass
class InfoExchange:
    stage_key: str
    asked_by: str
    asked_at: datetime
    question: str
    answer: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class AnswerVersion:
    """The intake answers as they stood from `at`: version 1 at submission, one more per change."""

    number: int
    answers: Answers  # question id -> value, or a tuple of values (see workflows.risk)
    by: str
    at: datetime
    note: str = ""  # why they changed, e.g. "answering IT security's question"


# Who decides when the rules decide (a refusal, an approval with no stages): not a stage.
RULES = "rules"


@dataclass(frozen=True)
class RequestDraft:
    """What the officer typed in the form, before it becomes a request."""

    tool_name: str
    vendor: str
    purpose: str
    case_number: str = ""
    data_kinds: tuple[str, ...] = ()
    prior_use: PriorUse | None = None
    notes: str = ""

    def cleaned(self) -> RequestDraft:
        """Clean what was typed (workflows.cleaning: no NUL, control or invisible characters is
        ever stored) and raise InvalidInput naming each bad field."""
        draft = RequestDraft(
            tool_name=clean_name(self.tool_name),
            vendor=clean_text(self.vendor),
            purpose=clean_text(self.purpose),
            case_number=clean_line(self.case_number),
            data_kinds=tuple(dict.fromkeys(clean_line(k) for k in self.data_kinds)),
            prior_use=self.prior_use,
            notes=clean_text(self.notes),
        )
        errors: dict[str, str] = {}
        if not draft.tool_name and (self.tool_name or "").strip():
            errors["tool_name"] = INVISIBLE_NAME
        elif len(draft.tool_name) < 2:
            errors["tool_name"] = "Give the tool's name (at least 2 characters)."
        if not draft.vendor:
            errors["vendor"] = "Give the vendor or the tool's website."
        if len(draft.purpose) < 10:
            errors["purpose"] = "Say what it will be used for (at least 10 characters)."
        if not draft.data_kinds:
            errors["data_kinds"] = "Choose what data it touches, or “None of these”."
        elif unknown := [k for k in draft.data_kinds if k not in DATA_KINDS]:
            errors["data_kinds"] = f"Unknown choice: {', '.join(unknown)}."
        elif "none" in draft.data_kinds and len(draft.data_kinds) > 1:
            errors["data_kinds"] = "“None of these” cannot be combined with other kinds of data."
        if draft.prior_use is None:
            errors["prior_use"] = "Say whether you have already signed up for or used it."
        for name, limit in LIMITS.items():
            if len(getattr(draft, name)) > limit and name not in errors:
                errors[name] = f"Keep this under {limit} characters."
        if errors:
            raise InvalidInput(errors)
        return draft


def reference(request_id: int) -> str:
    return f"REQ-{request_id:04d}"


def parse_reference(text: str) -> int | None:
    """'REQ-0042', 'req-42' or '42' -> 42."""
    match = re.fullmatch(r"\s*(?:REQ-?)?0*(\d{1,9})\s*", text or "", flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


@dataclass
class ToolRequest:
    requester_id: str
    tool_name: str
    vendor: str
    purpose: str
    case_number: str
    data_kinds: tuple[str, ...]
    prior_use: PriorUse
    notes: str
    created_at: datetime
    stage_key: str | None  # the stage deciding now; None once closed
    stage_entered_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    decisions: list[Decision] = field(default_factory=list)
    exchanges: list[InfoExchange] = field(default_factory=list)
    # Reminder bookkeeping (see workflows.reminders): when the stage's reviewers are next due.
    next_reminder_at: datetime | None = None
    reminders_sent: int = 0
    escalated_at: datetime | None = None
    # Risk at intake (workflows.risk). Requests made without answers have none of these.
    answer_versions: list[AnswerVersion] = field(default_factory=list)
    assessment: Assessment | None = None  # what the rules said about the latest answers
    tier: Tier | None = None  # the tier in force: the rules' or, if a person changed it, theirs
    # The stage keys this request goes through, fixed when it was submitted (or its tier changed),
    # so a change of config never moves it. None (requests stored before routes): the policy's order.
    route: tuple[str, ...] | None = None
    extends: str | None = None  # the ref of an earlier approval of the same tool, if any
    # /report-use: the officer used the tool before approval and reported it (None otherwise).
    self_report: SelfReport | None = None
    id: int | None = None
    version: int = 0  # optimistic lock: storage refuses a save from a stale copy

    @property
    def stored_id(self) -> int:
        """The id of a request read from or added to storage (a new one has none yet)."""
        if self.id is None:
            raise ValueError("this request is not stored yet")
        return self.id

    @property
    def ref(self) -> str:
        return reference(self.id) if self.id is not None else "REQ-new"

    @property
    def answers(self) -> Answers:
        """The latest intake answers ({} if the request was made without them)."""
        return dict(self.answer_versions[-1].answers) if self.answer_versions else {}

    @property
    def used_before_approval(self) -> bool:
        return self.self_report is not None

    def decision_for(self, stage_key: str) -> Decision | None:
        return next((d for d in self.decisions if d.stage_key == stage_key), None)

    @property
    def final_decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions and not self.status.is_open else None

    def open_question(self) -> InfoExchange | None:
        """The question the requester still owes an answer to, if the request waits for one."""
        if self.status is not RequestStatus.INFO_REQUESTED:
            return None
        return next((x for x in reversed(self.exchanges) if x.answer is None), None)


# --- refusals about a request's state (here, beside the states they name) --------------------


@dataclass
class IllegalTransition(DomainError):
    status: RequestStatus
    action: str

    def __str__(self) -> str:
        return f"cannot {self.action} a request that is {self.status.value}"


@dataclass
class RequestClosed(DomainError):
    status: RequestStatus
    decision: Decision | None = None


@dataclass
class StageAlreadyDecided(DomainError):
    stage_key: str
    decision: Decision | None
