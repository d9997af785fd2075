"""A directive and what happens to it, as data: the model, its draft, its refusals and its events.

The services that change directives are workflows/directives.py; how a directive's kind moves a
tool's status of record is workflows/directive_effects.py. Kept apart so that the ports
(workflows/ports_directives.py) can name these types without importing the services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from workflows.cleaning import clean_line, clean_name, clean_text
from workflows.directive_kinds import DirectiveKind
from workflows.errors import DomainError, InvalidInput
from workflows.events import Event
from workflows.registry import StatusMark, Tool
from workflows.requests import INVISIBLE_NAME, LIMITS
from workflows.tool_names import normalise_name

TEXT_LIMIT = 3000
CHANNEL_LIMIT = 20
TOOL_NAME_LIMIT = LIMITS["tool_name"]  # the same limit as a tool named in a request


class DirectiveStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class PostOutcome(StrEnum):
    """What became of a directive's message in one channel."""

    PENDING = "pending"  # queued; not yet known to have arrived
    POSTED = "posted"
    FAILED = "failed"  # Slack refused it (the error says why); command staff may retry


@dataclass(frozen=True)
class DirectivePost:
    """A directive's message in one channel, as stored: where it stands, and the count it shows."""

    id: int
    directive_id: int
    channel: str
    outcome: PostOutcome
    error: str
    ts: str | None
    updated_at: datetime
    count_shown: str
    count_shown_at: datetime | None


def directive_reference(directive_id: int) -> str:
    return f"DIR-{directive_id:04d}"


def parse_directive_reference(text: str) -> int | None:
    """'DIR-0007', 'dir-7', 'DIR0007' or '7' -> 7."""
    match = re.fullmatch(r"\s*(?:DIR-?)?0*(\d{1,9})\s*", text or "", flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


@dataclass
class Directive:
    kind: DirectiveKind
    tool_key: str  # the registry's key for the tool
    tool_name: str  # the name as command staff wrote it
    text: str
    issued_by: str
    issued_at: datetime
    channels: tuple[str, ...]
    ack_required: bool = False
    ack_due: datetime | None = None
    status: DirectiveStatus = DirectiveStatus.ACTIVE
    revoked_by: str | None = None  # who ended it, by revoking or superseding it
    revoked_at: datetime | None = None
    superseded_by: int | None = None
    supersedes: int | None = None
    # Reminder bookkeeping (see workflows.reminders): set only when acknowledgement is required.
    next_reminder_at: datetime | None = None
    reminders_sent: int = 0
    id: int | None = None
    version: int = 0  # optimistic lock: storage refuses a save from a stale copy

    @property
    def ref(self) -> str:
        return directive_reference(self.id) if self.id is not None else "DIR-new"

    @property
    def stored_id(self) -> int:
        """The id of a directive read from or added to storage (a new one has none yet)."""
        if self.id is None:
            raise ValueError("this directive is not stored yet")
        return self.id

    @property
    def is_active(self) -> bool:
        return self.status is DirectiveStatus.ACTIVE


@dataclass(frozen=True)
class Acknowledgement:
    directive_id: int
    user_id: str
    at: datetime


@dataclass(frozen=True)
class DirectiveDraft:
    """What command staff filled in, before it becomes a directive."""

    kind: DirectiveKind | str | None
    tool: str
    text: str
    channels: tuple[str, ...] = ()
    ack_required: bool = False
    ack_due: datetime | None = None

    def cleaned(self, now: datetime) -> DirectiveDraft:
        """Strip surrounding white space and raise InvalidInput naming each bad field."""
        errors: dict[str, str] = {}
        try:
            kind: DirectiveKind | None = DirectiveKind(self.kind or "")  # no kind is not a kind either: ValueError
        except ValueError:
            kind = None
            errors["kind"] = "Choose what kind of directive this is."
        tool = clean_name(self.tool)
        text = clean_text(self.text)
        channels = tuple(dict.fromkeys(c for c in map(clean_line, self.channels) if c))
        if not tool and (self.tool or "").strip():
            errors["tool"] = INVISIBLE_NAME
        elif not normalise_name(tool):
            errors["tool"] = "Name the tool this directive is about."
        elif len(tool) > TOOL_NAME_LIMIT:
            errors["tool"] = f"Keep this under {TOOL_NAME_LIMIT} characters."
        if not text:
            errors["text"] = "Write the directive; officers will read it as written."
        elif len(text) > TEXT_LIMIT:
            errors["text"] = f"Keep this under {TEXT_LIMIT} characters."
        if not channels:
            errors["channels"] = "Choose at least one channel to send it to."
        elif len(channels) > CHANNEL_LIMIT:
            errors["channels"] = f"Choose at most {CHANNEL_LIMIT} channels."
        if self.ack_due is not None:
            if not self.ack_required:
                errors["ack_due"] = "A due time applies only when acknowledgement is required."
            elif self.ack_due.tzinfo is None:
                errors["ack_due"] = "Give the due time with its time zone."
            elif self.ack_due <= now:
                errors["ack_due"] = "The due time must be in the future."
        if errors:
            raise InvalidInput(errors)
        return DirectiveDraft(kind, tool, text, channels, self.ack_required, self.ack_due)

    @property
    def checked_kind(self) -> DirectiveKind:
        """The kind of a cleaned draft: cleaned() refuses a draft without a valid one."""
        assert self.kind is not None, "clean the draft first"
        return DirectiveKind(self.kind)


@dataclass
class NotInAudience(DomainError):
    """A directive is for the members of the channels it was sent to, and for command staff:
    nobody else reads it or acknowledges it (`ref`, given by `about`)."""


def require_audience(directive: Directive, in_audience: bool) -> None:
    """The one statement of "only its audience": whether the person is in one of the directive's
    channels is Slack's to say, and the adapter asks it (bot/listeners/directives.py)."""
    if not in_audience:
        raise NotInAudience().about(directive.ref)


@dataclass
class DirectiveNotActive(DomainError):
    """The directive (`ref`, given by `about`) was revoked or superseded; it can no longer be
    acknowledged or ended."""

    status: DirectiveStatus
    superseded_by: str | None = None  # the ref of the directive that replaced it
    action: str = "change"  # what was refused: "acknowledge", or "change" (revoke, supersede)

    def __str__(self) -> str:
        tail = f" by {self.superseded_by}" if self.superseded_by else ""
        return f"{self.ref} has been {self.status.value}{tail}"


@dataclass
class AttestationRequired(DomainError):
    """A cease-use or suspension (`ref`, given by `about`) is acknowledged by answering its
    questions (workflows/attesting.py), not by one click: the adapter opens the form."""


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectiveIssued(Event):
    directive: Directive
    tool: Tool  # as it stands after the directive; tool.override says if a cease still applies


@dataclass(frozen=True)
class DirectiveRevoked(Event):
    directive: Directive
    by: str
    reason: str


@dataclass(frozen=True)
class PostsRetried(Event):
    """Command staff asked to post the directive again in the channels where it had failed."""

    directive: Directive
    channels: tuple[str, ...]
    by: str


@dataclass(frozen=True)
class DirectiveSuperseded(Event):
    """`new` replaces `old`; the bot posts `new` to its channels (there is no DirectiveIssued too)."""

    old: Directive
    new: Directive
    tool: Tool


@dataclass(frozen=True)
class Acknowledged(Event):
    directive: Directive
    ack: Acknowledgement  # when `already`, the original acknowledgement
    already: bool

    @property
    def late(self) -> bool:
        due = self.directive.ack_due
        return due is not None and self.ack.at > due


@dataclass(frozen=True)
class ToolStatusChanged(Event):
    """The status shown for a tool (or what it rests on) changed."""

    tool: Tool
    before: StatusMark | None  # None: it was Unknown
    cause: str  # "DIR-0007" or "REQ-0042"


@dataclass(frozen=True)
class RequestFlagged(Event):
    """A request was made for a tool under a cease-use or suspension: allowed, but reviewers should know."""

    request_ref: str
    tool: Tool  # tool.override is the directive in force


@dataclass(frozen=True)
class StatusAnswer:
    """What /tool-status says: the tool meant (None if unsure) and others it might have been.

    `exact`: the name asked is one the tool is filed under (its key, an alias, a look-alike of
    them), so its status is the answer of record for that name. Otherwise `tool` is only the
    closest name on record (a typo, part of a name): the name asked has no status of its own, and
    "GPT-4o" must not read as "GPT-4: Approved"."""

    query: str
    tool: Tool | None
    suggestions: tuple[Tool, ...] = ()
    directives: tuple[Directive, ...] = ()  # the tool's directives in force, oldest first
    exact: bool = False
