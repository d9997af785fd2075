"""SqlPublicRecord: the record as the public pages and reports read it (workflows.public_record).

One read transaction (a consistent moment). Rows are mapped straight into the public shapes, so
requester ids, case numbers, purposes, notes, reviewers' notes and who acknowledged never leave
this module: they are not selected, or dropped before anything is returned. Of licences, the
owner, named people, note and (unless listed publicly) conditions stay here; of attestations, who
answered, their case numbers and what they hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.directives import SqlDirectives
from storage.licences import SqlLicences
from storage.requests import SqlRequests
from storage.sql import table_of
from storage.tables import AcknowledgementRow, AttestationRow, AuditRow
from storage.tools import SqlTools
from workflows.attestations import AttestationAnswer
from workflows.directive_model import Directive
from workflows.licences import Licence, ScopeKind
from workflows.public_record import (
    Change,
    DirectiveFacts,
    LicenceFacts,
    Mark,
    RecordSnapshot,
    RequestFacts,
    RuleRef,
    SelfReported,
    StageDecision,
    ToolFacts,
)
from workflows.registry import StatusMark, Tool, ToolStatus
from workflows.requests import ToolRequest
from workflows.risk import Tier
from workflows.tool_names import lookalikes, normalise_name, tool_key

_AUDIT, _ACKS, _ATTESTED = table_of(AuditRow), table_of(AcknowledgementRow), table_of(AttestationRow)
# One row per person per directive: counted through acknowledgements' times, never shown one by one.
_PER_PERSON = ("directive:acknowledged",)


class SqlPublicRecord:
    def __init__(self, read_sessions: async_sessionmaker, clock: Callable[[], datetime]) -> None:
        self._sessions = read_sessions
        self._clock = clock

    async def snapshot(self, *, with_changes: bool = True) -> RecordSnapshot:
        session: AsyncSession = self._sessions()
        try:
            await session.begin()
            tools = await SqlTools(session).all()
            requests = await SqlRequests(session).every()
            directives = await SqlDirectives(session).every()
            acks = await _acknowledgement_times(session)
            attested = await _attestations(session)
            licences = await SqlLicences(session).every()
            changes = await _changes(session) if with_changes else ()
        finally:
            await session.rollback()
            await session.close()
        filed = _filer(tools)
        current = {licence.tool_key: licence for licence in licences}  # oldest first: the newest wins
        renewals = {r.ref for r in requests if r.extends}
        return RecordSnapshot(
            tools=tuple(_tool(t, current.get(t.key)) for t in tools),
            requests=tuple(_request(r, filed(r.tool_name)) for r in requests),
            directives=tuple(
                _directive(d, acks.get(d.stored_id, ()), attested.get(d.stored_id, ())) for d in directives
            ),
            changes=tuple(changes),
            read_at=self._clock(),
            licences=tuple(_licence(licence, licence.request_ref in renewals) for licence in licences),
        )


async def _acknowledgement_times(session: AsyncSession) -> dict[int, tuple[datetime, ...]]:
    times: dict[int, list[datetime]] = defaultdict(list)
    rows = await session.execute(select(_ACKS.c.directive_id, _ACKS.c.at).order_by(_ACKS.c.at, _ACKS.c.id))
    for directive_id, at in rows:
        times[directive_id].append(at)
    return {k: tuple(v) for k, v in times.items()}


async def _attestations(session: AsyncSession) -> dict[int, tuple[tuple[datetime, AttestationAnswer], ...]]:
    answers: dict[int, list[tuple[datetime, AttestationAnswer]]] = defaultdict(list)
    query = (
        select(_ATTESTED.c.directive_id, _ATTESTED.c.at, _ATTESTED.c.answer)
        .where(_ATTESTED.c.directive_id.is_not(None))
        .order_by(_ATTESTED.c.at, _ATTESTED.c.id)
    )
    for directive_id, at, answer in await session.execute(query):
        answers[directive_id].append((at, AttestationAnswer(answer)))
    return {k: tuple(v) for k, v in answers.items()}


async def _changes(session: AsyncSession) -> list[Change]:
    # Not actor, not reason: who did it and the words they gave are not the public's to read.
    query = (
        select(_AUDIT.c.subject, _AUDIT.c.action, _AUDIT.c.at, _AUDIT.c.from_state, _AUDIT.c.to_state)
        .where(_AUDIT.c.action.not_in(_PER_PERSON))
        .order_by(_AUDIT.c.id)
    )
    return [
        Change(r.subject, r.action, r.at, r.from_state or "", r.to_state or "") for r in await session.execute(query)
    ]


def _filer(tools: Iterable[Tool]) -> Callable[[str], str | None]:
    """Which tool a request's name is filed under, as workflows.tool_services.find_tool decides it (key,
    then alias, then the lowest-id look-alike), without a query per request."""
    by_key: dict[str, str] = {}
    by_alias: dict[str, str] = {}
    by_form: dict[str, str] = {}
    for tool in sorted(tools, key=lambda t: t.id or 0):
        by_key[tool.key] = tool.key
        for alias in tool.aliases:
            by_alias.setdefault(alias, tool.key)
        for form in tool.lookalikes():
            by_form.setdefault(form, tool.key)

    def filed(name: str) -> str | None:
        key = by_key.get(tool_key(name)) or by_alias.get(normalise_name(name))
        return key or next((by_form[f] for f in sorted(lookalikes(name)) if f in by_form), None)

    return filed


def _mark(mark: StatusMark | None) -> Mark | None:
    return Mark(mark.status, mark.source, mark.since) if mark else None


def authorised(licence: Licence) -> str:
    """Who may use it, as groups: a licence naming people says so, never who they are."""
    scope = licence.scope
    match scope.kind:
        case ScopeKind.EVERYONE:
            return "All members"
        case ScopeKind.GROUPS:
            return "; ".join(f"Members of @{name}" for name in scope.group_names or scope.groups)
        case ScopeKind.PEOPLE:
            return "Named officers only"
        case _:
            return "The requesting officer only"


def _tool(tool: Tool, licence: Licence | None) -> ToolFacts:
    listed = licence.list_publicly if licence else None
    return ToolFacts(
        key=tool.key,
        name=tool.name,
        status=tool.status,
        status_since=tool.status_since,
        decision=_mark(tool.decision),
        directive=_mark(tool.directive),
        override=_mark(tool.override),
        has_conditions=bool(tool.conditions) and tool.status is ToolStatus.APPROVED_WITH_CONDITIONS,
        listed_publicly=listed,
        public_summary=(licence.public_summary or None) if licence and listed else None,
        public_conditions=("; ".join(licence.conditions) or "None") if licence and listed else None,
        review_due=licence.expires_at if licence else None,
        authorised_users=authorised(licence) if licence else None,
        owner_unit=(licence.owner_unit or None) if licence else None,
    )


def _licence(licence: Licence, renews: bool) -> LicenceFacts:
    return LicenceFacts(
        ref=licence.ref,
        tool_key=licence.tool_key,
        request_ref=licence.request_ref,
        valid_from=licence.valid_from,
        expires_at=licence.expires_at,
        lapsed_at=licence.lapsed_at,
        extended=licence.extended,
        renews=renews,
    )


def _request(request: ToolRequest, tool_key: str | None) -> RequestFacts:
    assessment = request.assessment
    refused = assessment.prohibitions if assessment and request.tier is Tier.PROHIBITED else ()
    return RequestFacts(
        ref=request.ref,
        tool_key=tool_key,
        tool_name=request.tool_name,
        status=request.status,
        tier=request.tier,
        created_at=request.created_at,
        closed_at=request.closed_at,
        decisions=tuple(StageDecision(d.stage_key, d.outcome, d.at) for d in request.decisions),
        answers=request.answers,
        prohibitions=tuple(RuleRef(r.id, r.reason) for r in refused),
        vendor=request.vendor,
        extends=request.extends,
        self_report=_self_reported(request),
    )


def _self_reported(request: ToolRequest) -> SelfReported | None:
    report = request.self_report
    return SelfReported(report.at, report.since, report.emergency, report.kept_data) if report else None


def _directive(
    directive: Directive,
    acks: tuple[datetime, ...],
    attested: tuple[tuple[datetime, AttestationAnswer], ...],
) -> DirectiveFacts:
    return DirectiveFacts(
        ref=directive.ref,
        kind=directive.kind,
        tool_key=directive.tool_key,
        status=directive.status,
        issued_at=directive.issued_at,
        ended_at=directive.revoked_at,
        ack_required=directive.ack_required,
        ack_due=directive.ack_due,
        acknowledged_at=acks,
        attested=attested,
    )
