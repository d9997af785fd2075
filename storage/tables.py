"""The schema as SQLModel tables, one class per table: a declarative table of the schema, kept in one
file so that the whole of it reads in one place. Alembic migrations (storage/migrations) create it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import JSONText, UTCDateTime


def _when(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _text(*, default: str = "") -> Any:
    return Field(default=default, sa_column=Column(Text, nullable=False, default=default))


class RequestRow(SQLModel, table=True):
    __tablename__ = "tool_requests"
    __table_args__ = (
        Index("ix_tool_requests_status_stage", "status", "stage_key"),
        Index("ix_tool_requests_tool_vendor", "tool_name", "vendor"),  # /tool-usage (migration 0010)
        # /tool-usage's links from the index alone, and the few self-reports (migration 0016).
        Index("ix_tool_requests_usage", "tool_name", "created_at", "requester_id", "prior_use", "status"),
        Index(
            "ix_tool_requests_self_reports",
            "tool_name",
            sqlite_where=text("self_report IS NOT NULL"),
            postgresql_where=text("self_report IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: str = Field(index=True, max_length=32)
    tool_name: str = _text()
    vendor: str = _text()
    purpose: str = _text()
    case_number: str = _text()
    data_kinds: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    prior_use: str = Field(max_length=32)
    notes: str = _text()
    status: str = Field(max_length=32)
    stage_key: str | None = Field(default=None, max_length=64)
    stage_entered_at: datetime = _when()
    created_at: datetime = _when()
    updated_at: datetime = _when()
    closed_at: datetime | None = _when(nullable=True)
    # The reminder sweep selects on this column alone; it is NULL for everything not due.
    next_reminder_at: datetime | None = _when(nullable=True, index=True)
    reminders_sent: int = 0
    escalated_at: datetime | None = _when(nullable=True)
    version: int = 0
    # Risk at intake (migration 0005); NULL for requests made without the assessment questions.
    tier: str | None = Field(default=None, max_length=16, index=True)
    assessment: dict | None = Field(default=None, sa_column=Column(JSONText, nullable=True))
    route: list[str] | None = Field(default=None, sa_column=Column(JSONText, nullable=True))
    extends: str | None = Field(default=None, max_length=32)
    # /report-use (migration 0013): what the officer reported; NULL for an ordinary request.
    self_report: dict | None = Field(default=None, sa_column=Column(JSONText, nullable=True))


class RequestAnswersRow(SQLModel, table=True):
    """One version of a request's intake answers, kept whole; a change adds a version."""

    __tablename__ = "request_answers"
    __table_args__ = (UniqueConstraint("request_id", "number", name="uq_request_answers_request_number"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="tool_requests.id", index=True)
    number: int
    answers: dict = Field(sa_column=Column(JSONText, nullable=False))
    changed_by: str = Field(max_length=32)
    changed_at: datetime = _when()
    note: str = _text()


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"
    # The database's own guard for "one decision per stage", behind the version check.
    __table_args__ = (UniqueConstraint("request_id", "stage_key", name="uq_decisions_request_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="tool_requests.id", index=True)
    stage_key: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    decided_by: str = Field(max_length=32)
    decided_at: datetime = _when()
    note: str = _text()


class InfoExchangeRow(SQLModel, table=True):
    __tablename__ = "info_exchanges"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_info_exchanges_request_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="tool_requests.id", index=True)
    seq: int
    stage_key: str = Field(max_length=64)
    asked_by: str = Field(max_length=32)
    asked_at: datetime = _when()
    question: str = _text()
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = _when(nullable=True)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("seq", name="uq_audit_log_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    # Text, not VARCHAR(64): "tool:<key>" subjects are as long as the tool's name (migration 0002).
    subject: str = Field(sa_column=Column(Text, nullable=False, index=True))
    action: str = Field(max_length=64)
    actor: str = Field(max_length=32)
    at: datetime = _when(index=True)
    from_state: str = Field(default="", max_length=128)
    to_state: str = Field(default="", max_length=128)
    reason: str = _text()
    # The Slack workspace (team id, from auth.test) the change was made in; None if not yet known.
    team_id: str | None = Field(default=None, max_length=32)
    # The hash chain (migration 0009, storage/chain.py): the entry's number, its canonical bytes
    # (RFC 8785 JSON, naming the previous entry's hash) and their SHA-256. Never updated or
    # deleted: the database's triggers refuse it.
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    canonical: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The chain's head in one row (id 1): the newest entry's number and hash, kept there by a
    trigger on audit_log's INSERT and locked by each batch that numbers entries (migration 0017,
    storage/chain.py)."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_one_row"),)

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)


class AuditAnchorRow(SQLModel, table=True):
    """The chain's head as witnessed outside the database (kind "anchor": posted to the audit
    channel), or where the chain starts after older entries were archived (kind "start")."""

    __tablename__ = "audit_anchors"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)
    at: datetime = _when()
    posted_to: str = _text()  # the Slack channel it was posted to, or the archive's folder


class OutboxRow(SQLModel, table=True):
    """A Slack Web API call owed to someone, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_priority", "status", "priority", "id"),
        Index("ix_outbox_queue", "queue", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    queue: str = Field(max_length=128)  # calls in one queue are sent strictly in order
    method: str = Field(max_length=64)
    payload: dict = Field(sa_column=Column(JSONText, nullable=False))
    store_as: str | None = Field(default=None, max_length=128)  # remember the posted message's ts
    target: str | None = Field(default=None, max_length=128)  # the stored message to update
    status: str = Field(default="pending", max_length=16)
    priority: int = 0  # 0 urgent, 1 bulk (storage.outbox.URGENT/BULK): urgent rows go first
    attempts: int = 0
    next_attempt_at: datetime = _when()
    claimed_until: datetime | None = _when(nullable=True)
    claimed_at: datetime | None = _when(nullable=True)  # when the latest claim began
    # The earliest attempt whose outcome is unknown (a claim that expired unsettled: the sender
    # died; or a time-out after the request went out). Set: look in Slack before posting again.
    doubt_since: datetime | None = _when(nullable=True)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _when()
    sent_at: datetime | None = _when(nullable=True)


class SlackMessageRow(SQLModel, table=True):
    """Where a message we posted lives, so later updates can find it after a restart."""

    __tablename__ = "slack_messages"

    key: str = Field(primary_key=True, max_length=128)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    posted_at: datetime = _when()


class HandledEventRow(SQLModel, table=True):
    """Events API deliveries already handled: Slack re-sends with the same event_id."""

    __tablename__ = "handled_events"

    event_id: str = Field(primary_key=True, max_length=64)
    handled_at: datetime = _when()


# --- directives and the tool registry (migration 0002) ------------------------------------------


class ToolRow(SQLModel, table=True):
    """One record per tool; its status of record is three layers (see workflows.registry)."""

    __tablename__ = "tools"
    __table_args__ = (UniqueConstraint("key", name="uq_tools_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(Text, nullable=False))  # a slug of the name: as long as the name
    name: str = _text()
    # Each layer is a StatusMark as JSON ({"status", "source", "by", "since", "conditions"}) or NULL.
    decision: dict | None = Field(default=None, sa_column=Column(JSONText, nullable=True))
    directive: dict | None = Field(default=None, sa_column=Column(JSONText, nullable=True))
    override: dict | None = Field(default=None, sa_column=Column(JSONText, nullable=True))
    # The status shown (derived from the layers), kept for listing and for reading the table directly.
    status: str = Field(default="unknown", max_length=32, index=True)
    status_since: datetime | None = _when(nullable=True)
    created_at: datetime = _when()
    updated_at: datetime | None = _when(nullable=True)
    version: int = 0


class ToolAliasRow(SQLModel, table=True):
    """A normalised name a tool is known by; a name belongs to one tool only."""

    __tablename__ = "tool_aliases"

    alias: str = Field(sa_column=Column(Text, primary_key=True))
    tool_id: int = Field(foreign_key="tools.id", index=True)


class ToolLookalikeRow(SQLModel, table=True):
    """A look-alike form of one of a tool's names (workflows.tool_names.tool_lookalikes): a name typed
    in a form is filed under its tool by index, not by reading every tool."""

    __tablename__ = "tool_lookalikes"

    form: str = Field(sa_column=Column(Text, primary_key=True))
    tool_id: int = Field(foreign_key="tools.id", primary_key=True, index=True)


class DerivedVersionRow(SQLModel, table=True):
    """What a table of derived data was computed with (storage/lookalike_index.py): it is computed
    again when that changes."""

    __tablename__ = "derived_versions"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    version: str = Field(sa_column=Column(Text, nullable=False))


class DirectiveRow(SQLModel, table=True):
    __tablename__ = "directives"
    __table_args__ = (
        Index("ix_directives_status_tool", "status", "tool_key"),
        Index("ix_directives_tool_key", "tool_key"),  # /tool-usage (migration 0010)
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    tool_key: str = Field(sa_column=Column(Text, nullable=False))
    tool_name: str = _text()
    text: str = _text()
    issued_by: str = Field(max_length=32)
    issued_at: datetime = _when()
    channels: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    ack_required: bool = False
    ack_due: datetime | None = _when(nullable=True)
    status: str = Field(default="active", max_length=16)
    revoked_by: str | None = Field(default=None, max_length=32)
    revoked_at: datetime | None = _when(nullable=True)
    superseded_by: int | None = None
    supersedes: int | None = None
    # The reminder sweep selects on this column alone; NULL when nothing is due.
    next_reminder_at: datetime | None = _when(nullable=True, index=True)
    reminders_sent: int = 0
    version: int = 0


class AcknowledgementRow(SQLModel, table=True):
    __tablename__ = "acknowledgements"
    # One per person per directive, whatever the clicks: the database's own guard.
    __table_args__ = (
        UniqueConstraint("directive_id", "user_id", name="uq_acknowledgements_directive_user"),
        Index("ix_acknowledgements_usage", "directive_id", "at", "user_id"),  # /tool-usage (migration 0016)
    )

    id: int | None = Field(default=None, primary_key=True)
    directive_id: int = Field(foreign_key="directives.id")
    user_id: str = Field(max_length=32)
    at: datetime = _when()


class DirectivePostRow(SQLModel, table=True):
    """A directive's message in one channel: whether it went out, and the count it shows."""

    __tablename__ = "directive_posts"
    __table_args__ = (UniqueConstraint("directive_id", "channel", name="uq_directive_posts_directive_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    directive_id: int = Field(foreign_key="directives.id")
    channel: str = Field(max_length=32)
    outcome: str = Field(default="pending", max_length=16)  # pending, posted, failed
    error: str = Field(default="", max_length=500)  # Slack's error code when it failed
    ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    # The running count on the message ("23 of 41") and when it was last changed (throttling).
    count_shown: str = Field(default="", max_length=200)
    count_shown_at: datetime | None = _when(nullable=True)


class AttestationRow(SQLModel, table=True):
    """A person's factual answer to a cease-use or suspension (directive_id), or to a rejected
    self-reported use (request_id) (migration 0013): one per person for each."""

    __tablename__ = "attestations"
    __table_args__ = (
        UniqueConstraint("directive_id", "user_id", name="uq_attestations_directive_user"),
        UniqueConstraint("request_id", "user_id", name="uq_attestations_request_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    directive_id: int | None = Field(default=None, foreign_key="directives.id")
    request_id: int | None = Field(default=None, foreign_key="tool_requests.id")
    user_id: str = Field(max_length=32)
    answer: str = Field(max_length=32)
    case_numbers: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    held: str = _text()
    at: datetime = _when()


# --- the Home tab (migration 0003) -----------------------------------------------------------------


class HomeTabRow(SQLModel, table=True):
    """People who have opened the app's Home tab: only theirs are republished when something changes
    (the others are built fresh when they first open it)."""

    __tablename__ = "home_tabs"

    user_id: str = Field(primary_key=True, max_length=32)
    opened_at: datetime = _when()


class FollowUpRow(SQLModel, table=True):
    """A timed follow-up's bookkeeping, for kinds with no column of their own (workflows/followups/):
    one row per (kind, subject); subject 0 for a recurring job with no subject row (migration 0011)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("kind", "subject", name="uq_follow_ups_kind_subject"),
        Index("ix_follow_ups_due", "due_at"),  # what is due, every kind: only due rows are <= now
        Index("ix_follow_ups_kind_due", "kind", "due_at", "subject"),  # one kind's due rows, in order (0014)
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    subject: int = 0
    # NULL: nothing due until rescheduled.
    due_at: datetime | None = _when(nullable=True)
    count: int = 0
    state: str = _text()


# --- licences (migration 0012) -------------------------------------------------------------------


class LicenceRow(SQLModel, table=True):
    """A licence (workflows.licences.Licence): who may use a tool, under which conditions, until when.
    A tool's current licence is its newest row; older ones are its history (renewed, superseded)."""

    __tablename__ = "licences"

    id: int | None = Field(default=None, primary_key=True)
    tool_key: str = Field(sa_column=Column(Text, nullable=False, index=True))
    request_ref: str = Field(max_length=32, index=True)
    owner: str = Field(max_length=32)
    conditions: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    scope_kind: str = Field(max_length=16)
    scope_people: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    scope_groups: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    scope_group_names: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    valid_from: datetime = _when()
    # The expiry follow-up selects on this column; NULL: no expiry.
    expires_at: datetime | None = _when(nullable=True, index=True)
    list_publicly: bool = False
    public_summary: str = _text()
    renewal_asked_at: datetime | None = _when(nullable=True)
    renewal_ref: str | None = Field(default=None, max_length=32, index=True)
    extended: bool = False
    extension_reason: str = _text()
    lapsed_at: datetime | None = _when(nullable=True)
    note: str = _text()
    tier: str | None = Field(default=None, max_length=16)
    granted_by: str = Field(max_length=32)
    owner_unit: str = _text()  # migration 0015; "" for licences granted before it
    version: int = 0
