"""workflows.usage.UsageReader: who is linked to a tool, in two indexed statements.

1. The distinct (tool name, vendor) pairs of all requests, from ix_tool_requests_tool_vendor (an
   index-only read: there are as many as there are names people typed, not as many as requests).
2. One UNION ALL: the requests filed under the names that are the tool (each gives "requested"
   and, when the requester declared it, "declared prior use"), and the acknowledgements of the
   tool's directives (by ix_directives_tool_key, then the acknowledgements' unique index).

Licences, attestations and self-reports, once stored, are more arms of the same UNION.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    distinct,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sql import table_of
from storage.tables import AcknowledgementRow, DirectiveRow, RequestRow
from workflows.directive_kinds import DirectiveKind
from workflows.directives import directive_reference
from workflows.requests import PriorUse, RequestStatus, reference
from workflows.usage import LinkKind, UsageLink, UsageScope, UsageSummary

_REQUESTS, _DIRECTIVES, _ACKS = table_of(RequestRow), table_of(DirectiveRow), table_of(AcknowledgementRow)

_NAMES = select(_REQUESTS.c.tool_name, _REQUESTS.c.vendor).distinct()

_REQUEST_ARM = select(
    literal("r").label("arm"),
    _REQUESTS.c.requester_id.label("person"),
    type_coerce(_REQUESTS.c.created_at, String).label("at"),  # parsed below: 10× faster than the column type
    _REQUESTS.c.id.label("ref"),
    _REQUESTS.c.status.label("code"),
    _REQUESTS.c.prior_use.label("extra"),
    _REQUESTS.c.tool_name.label("tool"),
).where(_REQUESTS.c.tool_name.in_(bindparam("names", expanding=True)))
_ACK_ARM = (
    select(
        literal("a"),
        _ACKS.c.user_id,
        type_coerce(_ACKS.c.at, String),
        _DIRECTIVES.c.id,
        _DIRECTIVES.c.kind,
        _DIRECTIVES.c.status,
        _DIRECTIVES.c.tool_name,
    )
    .select_from(_DIRECTIVES.join(_ACKS, _ACKS.c.directive_id == _DIRECTIVES.c.id))
    .where(_DIRECTIVES.c.tool_key.in_(bindparam("keys", expanding=True)))
)
_UNION = union_all(_REQUEST_ARM, _ACK_ARM)
_LINKS = _UNION.order_by(literal_column("at").desc(), literal_column("person").desc())

_OPEN = {RequestStatus.PENDING.value, RequestStatus.INFO_REQUESTED.value}
_DECLARED = {p.value: p.label for p in PriorUse if p is not PriorUse.NONE}
_KIND_LABELS = {k.value: k.label for k in DirectiveKind}


def _summary():
    """What a message says without fetching every link: people, and links of each kind."""
    u = _UNION.subquery()

    def how_many(condition) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(
        func.count(distinct(u.c.person)),
        how_many(u.c.arm == "r"),
        how_many(and_(u.c.arm == "r", u.c.extra.in_(sorted(_DECLARED)))),
        how_many(u.c.arm == "a"),
    )


_SUMMARY = _summary()


class SqlUsage:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def request_names(self) -> list[tuple[str, str]]:
        return [(name, vendor) for name, vendor in (await self._session.execute(_NAMES)).all()]

    async def links(self, scope: UsageScope) -> list[UsageLink]:
        if not scope.request_names and not scope.tool_keys:
            return []
        return _links((await self._session.execute(_LINKS, _params(scope))).all())

    async def summary(self, scope: UsageScope, recent: int) -> UsageSummary:
        if not scope.request_names and not scope.tool_keys:
            return UsageSummary(0, Counter(), [])
        params = _params(scope)
        people, requested, declared, acknowledged = (await self._session.execute(_SUMMARY, params)).one()
        rows = (await self._session.execute(_LINKS.limit(recent), params)).all()
        counts = Counter(
            {
                LinkKind.REQUESTED: int(requested),
                LinkKind.DECLARED_PRIOR_USE: int(declared),
                LinkKind.ACKNOWLEDGED: int(acknowledged),
            }
        )
        return UsageSummary(int(people), +counts, _links(rows))


def _params(scope: UsageScope) -> dict[str, list[str]]:
    return {"names": sorted(scope.request_names) or [""], "keys": sorted(scope.tool_keys) or [""]}


def _links(rows: Sequence[Any]) -> list[UsageLink]:
    links: list[UsageLink] = []
    add = links.append
    for arm, person, raw, ref, code, extra, tool in rows:
        at = _when(raw)
        if arm == "r":
            source = reference(ref)
            add(UsageLink(person, LinkKind.REQUESTED, at, tool, source, "open" if code in _OPEN else code))
            if extra in _DECLARED:
                add(UsageLink(person, LinkKind.DECLARED_PRIOR_USE, at, tool, source, _DECLARED[extra]))
        else:
            label = _KIND_LABELS.get(code, code)
            add(UsageLink(person, LinkKind.ACKNOWLEDGED, at, tool, directive_reference(ref), label))
    return links  # newest first, as ordered by the statement


def _when(raw: str | datetime) -> datetime:
    """SQLite gives its stored text (naive UTC); PostgreSQL's driver a datetime with its zone."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC)
    return datetime.fromisoformat(raw).replace(tzinfo=UTC)
