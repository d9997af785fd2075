"""workflows.usage.UsageReader: who is linked to a tool, in indexed statements.

1. The distinct (tool name, vendor) pairs of all requests, from ix_tool_requests_tool_vendor (an
   index-only read: there are as many as there are names people typed, not as many as requests).
2. One UNION ALL, newest first: the requests filed under the names that are the tool (each gives
   "requested" and, when the requester declared it, "declared prior use"; read from
   ix_tool_requests_usage alone), the self-reports among them (ix_tool_requests_self_reports),
   and the acknowledgements of the tool's directives (ix_directives_tool_key, then
   ix_acknowledgements_usage alone). A message takes only its newest rows (`recent`); its counts
   come from one statement of per-arm aggregates (storage/usage_summary.py).
3. Attestations ride on their acknowledgements (a LEFT JOIN); an attestation of deletion after a
   rejected self-report is an arm of its own.
4. Licences (storage/usage_licences.py): the people each names, its user groups' members (as Slack
   listed them for this answer, a parameter) and its owner when it does not name them; the
   licences themselves are read first (few), for the links' words.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sql import table_of
from storage.tables import AcknowledgementRow, AttestationRow, DirectiveRow, RequestRow
from storage.usage_licences import GROUP_ARM, NAMED_ARM, OWNER_ARM, licences_of, members_param
from storage.usage_summary import summary_statement
from workflows.attestations import AttestationAnswer, SelfReport
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import directive_reference
from workflows.licences import Licence
from workflows.requests import PriorUse, RequestStatus, reference
from workflows.usage import LinkKind, UsageLink, UsageScope, UsageSummary
from workflows.usage_licences import licence_detail

_REQUESTS, _DIRECTIVES, _ACKS = table_of(RequestRow), table_of(DirectiveRow), table_of(AcknowledgementRow)
_ATTESTATIONS = table_of(AttestationRow)
_NONE = cast(null(), String)

_NAMES = select(_REQUESTS.c.tool_name, _REQUESTS.c.vendor).distinct()

_NAMES_IN = _REQUESTS.c.tool_name.in_(bindparam("names", expanding=True))
_REQUEST_ARM = select(
    literal("r").label("arm"),
    _REQUESTS.c.requester_id.label("person"),
    type_coerce(_REQUESTS.c.created_at, String).label("at"),  # parsed below: 10× faster than the column type
    _REQUESTS.c.id.label("ref"),
    _REQUESTS.c.status.label("code"),
    _REQUESTS.c.prior_use.label("extra"),
    _REQUESTS.c.tool_name.label("tool"),
    # What a self-report or an attestation adds (NULL otherwise): the report, or the answer, its
    # case numbers and what is held (migration 0013).
    _NONE.label("c1"),
    _NONE.label("c2"),
    _NONE.label("c3"),
).where(_NAMES_IN)  # every column in ix_tool_requests_usage: the rows themselves are not read (0016)
# A self-report is a rare request (ix_tool_requests_self_reports): its own arm, so the request
# arm needs no column outside its index.
_SELF_REPORT_ARM = select(
    literal("s"),
    _REQUESTS.c.requester_id,
    type_coerce(_REQUESTS.c.created_at, String),
    _REQUESTS.c.id,
    _NONE,
    _NONE,
    _REQUESTS.c.tool_name,
    type_coerce(_REQUESTS.c.self_report, String),
    _NONE,
    _NONE,
).where(_NAMES_IN, _REQUESTS.c.self_report.is_not(None))
_KEYS_IN = _DIRECTIVES.c.tool_key.in_(bindparam("keys", expanding=True))


def _ack_arm(acks: Any) -> Select[Any]:
    """Acknowledgements of the tool's directives, from `acks` (the table, or the newest few of
    its rows): one of a cease-use or suspension is an attestation's, whose answer rides along."""
    answer = and_(_ATTESTATIONS.c.directive_id == acks.c.directive_id, _ATTESTATIONS.c.user_id == acks.c.user_id)
    return (
        select(
            literal("a"),
            acks.c.user_id,
            type_coerce(acks.c.at, String),
            _DIRECTIVES.c.id,
            _DIRECTIVES.c.kind,
            _DIRECTIVES.c.status,
            _DIRECTIVES.c.tool_name,
            _ATTESTATIONS.c.answer,
            type_coerce(_ATTESTATIONS.c.case_numbers, String),
            _ATTESTATIONS.c.held,
        )
        .select_from(_DIRECTIVES.join(acks, acks.c.directive_id == _DIRECTIVES.c.id).outerjoin(_ATTESTATIONS, answer))
        .where(_KEYS_IN)
    )


_ACK_ARM = _ack_arm(_ACKS)
_NEWEST: Any = bindparam("recent", type_=Integer)
# The newest acknowledgements first, from ix_acknowledgements_usage alone, and only then their
# attestations: joined before the limit, every acknowledgement cost a probe (30 ms in 100,000).
_NEWEST_ACKS = (
    select(_ACKS.c.directive_id, _ACKS.c.user_id, _ACKS.c.at)
    .select_from(_DIRECTIVES.join(_ACKS, _ACKS.c.directive_id == _DIRECTIVES.c.id))
    .where(_KEYS_IN)
    .order_by(_ACKS.c.at.desc(), _ACKS.c.user_id.desc())
    .limit(_NEWEST)
    .subquery("newest_acks")
)
# Attestations of deletion after a self-reported use was rejected: filed by the request's name.
_REQUEST_ATTESTATION_ARM = (
    select(
        literal("t"),
        _ATTESTATIONS.c.user_id,
        type_coerce(_ATTESTATIONS.c.at, String),
        _REQUESTS.c.id,
        _ATTESTATIONS.c.answer,
        _NONE,
        _REQUESTS.c.tool_name,
        _ATTESTATIONS.c.answer,
        type_coerce(_ATTESTATIONS.c.case_numbers, String),
        _ATTESTATIONS.c.held,
    )
    .select_from(_REQUESTS.join(_ATTESTATIONS, _ATTESTATIONS.c.request_id == _REQUESTS.c.id))
    # Said outright, so PostgreSQL's planner sees how few there are (else it hashed every request).
    .where(_NAMES_IN, _ATTESTATIONS.c.request_id.is_not(None))
)
ARMS = {
    "r": _REQUEST_ARM,
    "s": _SELF_REPORT_ARM,
    "a": _ACK_ARM,
    "t": _REQUEST_ATTESTATION_ARM,
    "l": NAMED_ARM,
    "g": GROUP_ARM,
    "o": OWNER_ARM,
}
# Newest first; a request's own links (its "r" row, then its "s" row) in that order.
_ORDER: tuple[Any, ...] = (literal_column("at").desc(), literal_column("person").desc(), literal_column("arm"))
_LINKS = union_all(*ARMS.values()).order_by(*_ORDER)


def _newest(arm: Select[Any]) -> Select[Any]:
    """An arm's `recent` newest rows (at, then person: its second and third columns)."""
    rows = arm.subquery()
    return select(select(rows).order_by(rows.c[2].desc(), rows.c[1].desc()).limit(_NEWEST).subquery())


# A message's newest links: each arm's newest first (an index gives most in order), then the newest of those.
_RECENT = (
    union_all(*(_newest(arm) for kind, arm in ARMS.items() if kind != "a"), select(_ack_arm(_NEWEST_ACKS).subquery()))
    .order_by(*_ORDER)
    .limit(_NEWEST)
)
_PERSONS = {
    "r": select(_REQUESTS.c.requester_id).where(_NAMES_IN),
    "a": select(_ACKS.c.user_id)
    .select_from(_DIRECTIVES.join(_ACKS, _ACKS.c.directive_id == _DIRECTIVES.c.id))
    .where(_KEYS_IN),
}
_ANSWERED = (
    select(func.count())
    .select_from(
        _DIRECTIVES.join(_ATTESTATIONS, _ATTESTATIONS.c.directive_id == _DIRECTIVES.c.id).join(
            _ACKS,
            and_(_ACKS.c.directive_id == _ATTESTATIONS.c.directive_id, _ACKS.c.user_id == _ATTESTATIONS.c.user_id),
        )
    )
    .where(_KEYS_IN)
)
_SUMMARY = summary_statement(ARMS, _PERSONS, _ANSWERED)

_OPEN = {RequestStatus.PENDING.value, RequestStatus.INFO_REQUESTED.value}
_DECLARED = {p.value: p.label for p in PriorUse if p is not PriorUse.NONE}
_KIND_LABELS = {k.value: k.label for k in DirectiveKind}


class SqlUsage:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def request_names(self) -> list[tuple[str, str]]:
        return [(name, vendor) for name, vendor in (await self._session.execute(_NAMES)).all()]

    async def licences(self, tool_keys) -> list[Licence]:
        return await licences_of(self._session, tool_keys)

    async def links(self, scope: UsageScope) -> list[UsageLink]:
        if not scope.request_names and not scope.tool_keys:
            return []
        return _links((await self._session.execute(_LINKS, _params(scope))).all(), scope.licences)

    async def summary(self, scope: UsageScope, recent: int) -> UsageSummary:
        if not scope.request_names and not scope.tool_keys:
            return UsageSummary(0, Counter(), [])
        params = _params(scope)
        people, requested, declared, reported, acks, answered, attested, authorised, owners = (
            await self._session.execute(_SUMMARY, params)
        ).one()
        rows = (await self._session.execute(_RECENT, {**params, "recent": recent})).all()
        counts = Counter(
            {
                LinkKind.REQUESTED: int(requested),
                LinkKind.DECLARED_PRIOR_USE: int(declared),
                LinkKind.AUTHORISED: int(authorised),
                LinkKind.LICENCE_OWNER: int(owners),
                LinkKind.ACKNOWLEDGED: int(acks) - int(answered),
                LinkKind.ATTESTED: int(answered) + int(attested),
                LinkKind.REPORTED_USE: int(reported),
            }
        )
        return UsageSummary(int(people), +counts, _links(rows, scope.licences))


def _params(scope: UsageScope) -> dict[str, Any]:
    return {
        "names": sorted(scope.request_names) or [""],
        "keys": sorted(scope.tool_keys) or [""],
        "members": members_param(scope.group_members),
    }


def _links(rows: Sequence[Any], licences: Sequence[Licence]) -> list[UsageLink]:
    links: list[UsageLink] = []
    add = links.append
    by_id = {licence.id: licence for licence in licences}
    for arm, person, raw, ref, code, extra, tool, c1, c2, c3 in rows:
        at = _when(raw)
        if arm in _LICENCE_ARMS:
            add(_licence_link(arm, person, at, tool, by_id.get(ref), ref, code))
        elif arm == "r":
            source = reference(ref)
            add(UsageLink(person, LinkKind.REQUESTED, at, tool, source, "open" if code in _OPEN else code))
            if extra in _DECLARED:
                add(UsageLink(person, LinkKind.DECLARED_PRIOR_USE, at, tool, source, _DECLARED[extra]))
        elif arm == "s":
            report = SelfReport.from_dict(json.loads(c1))
            add(UsageLink(person, LinkKind.REPORTED_USE, at, tool, reference(ref), report.summary))
        elif arm == "t":
            add(UsageLink(person, LinkKind.ATTESTED, at, tool, reference(ref), _answered(c1, c2, c3)))
        elif c1:
            label = f"{_KIND_LABELS.get(code, code)}: {_answered(c1, c2, c3)}"
            add(UsageLink(person, LinkKind.ATTESTED, at, tool, directive_reference(ref), label))
        else:
            label = _KIND_LABELS.get(code, code)
            add(UsageLink(person, LinkKind.ACKNOWLEDGED, at, tool, directive_reference(ref), label))
    return links  # newest first, as ordered by the statement


_LICENCE_ARMS = {"l", "g", "o"}


def _licence_link(arm: str, person: str, at: datetime, tool: str, licence: Licence | None, ref: int, group: str | None):
    """A licence's link: "l" a person it names, "g" a member of its user group `group`, "o" its owner."""
    source = licence.ref if licence is not None else f"LIC-{ref:04d}"
    detail = licence_detail(licence, group if arm == "g" else None) if licence is not None else ""
    return UsageLink(person, LinkKind.LICENCE_OWNER if arm == "o" else LinkKind.AUTHORISED, at, tool, source, detail)


def _answered(answer: str, cases: str | list | None, held: str | None) -> str:
    """An attestation's answer in words, with its case numbers and what is held."""
    text = AttestationAnswer(answer).label
    numbers = json.loads(cases) if isinstance(cases, str) else (cases or [])
    if numbers or held:
        text += f" (cases {', '.join(numbers)}: {held or ''})"
    return text


def _when(raw: str | datetime) -> datetime:
    """SQLite gives its stored text (naive UTC); PostgreSQL's driver a datetime with its zone."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC)
    return datetime.fromisoformat(raw).replace(tzinfo=UTC)
