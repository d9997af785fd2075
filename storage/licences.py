"""SqlLicences: workflows.ports_directives.LicenceRepository over the `licences` table (migration 0012).

A tool's current licence is its newest row (highest id). Saves are guarded by the row's version
(UPDATE … WHERE id AND version), so two changes from the same stale copy make one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sql import rowcount, table_of
from storage.tables import LicenceRow, ToolRow
from workflows.errors import ConcurrencyConflict
from workflows.licences import Licence, Scope, ScopeKind

_LICENCES = table_of(LicenceRow)
_COLUMNS = [c for c in _LICENCES.c if c.name not in ("id", "version")]
_TOOLS = table_of(ToolRow)
_NEWER = _LICENCES.alias("newer")
# The licences a sweep's expiry rows name, with their tool's newest licence (one index seek each,
# correlated: a join on a grouped subquery made SQLite probe every id for every tool) and its name.
_EXPIRING = (
    select(
        _LICENCES,
        select(func.max(_NEWER.c.id))
        .where(_NEWER.c.tool_key == _LICENCES.c.tool_key)
        .correlate(_LICENCES)
        .scalar_subquery()
        .label("newest"),
        _TOOLS.c.name.label("tool_name"),
    )
    .outerjoin(_TOOLS, _TOOLS.c.key == _LICENCES.c.tool_key)
    .where(_LICENCES.c.id.in_(bindparam("ids", expanding=True)))
)
EXPIRING_BATCH = 1000  # ids per statement


def to_values(licence: Licence) -> dict[str, Any]:
    return {
        "tool_key": licence.tool_key,
        "request_ref": licence.request_ref,
        "owner": licence.owner,
        "conditions": list(licence.conditions),
        "scope_kind": licence.scope.kind.value,
        "scope_people": list(licence.scope.people),
        "scope_groups": list(licence.scope.groups),
        "scope_group_names": list(licence.scope.group_names),
        "valid_from": licence.valid_from,
        "expires_at": licence.expires_at,
        "list_publicly": licence.list_publicly,
        "public_summary": licence.public_summary,
        "renewal_asked_at": licence.renewal_asked_at,
        "renewal_ref": licence.renewal_ref,
        "extended": licence.extended,
        "extension_reason": licence.extension_reason,
        "lapsed_at": licence.lapsed_at,
        "note": licence.note,
        "tier": licence.tier,
        "granted_by": licence.granted_by,
        "owner_unit": licence.owner_unit,
    }


def from_row(row: Any) -> Licence:
    scope = Scope(
        ScopeKind(row.scope_kind),
        people=tuple(row.scope_people or ()),
        groups=tuple(row.scope_groups or ()),
        group_names=tuple(row.scope_group_names or ()),
    )
    return Licence(
        tool_key=row.tool_key,
        request_ref=row.request_ref,
        owner=row.owner,
        conditions=tuple(row.conditions or ()),
        scope=scope,
        valid_from=row.valid_from,
        expires_at=row.expires_at,
        list_publicly=bool(row.list_publicly),
        public_summary=row.public_summary,
        renewal_asked_at=row.renewal_asked_at,
        extended=bool(row.extended),
        tier=row.tier,
        granted_by=row.granted_by,
        note=row.note,
        renewal_ref=row.renewal_ref,
        extension_reason=row.extension_reason,
        lapsed_at=row.lapsed_at,
        owner_unit=row.owner_unit or "",
        id=row.id,
        version=row.version,
    )


class SqlLicences:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, licence: Licence) -> Licence:
        statement = insert(_LICENCES).values(**to_values(licence), version=0).returning(_LICENCES.c.id)
        new_id = (await self.session.execute(statement)).scalar_one()
        return dataclasses.replace(licence, id=new_id, version=0)

    async def get(self, licence_id: int) -> Licence | None:
        return await self._one(select(_LICENCES).where(_LICENCES.c.id == licence_id))

    async def current_for_tool(self, tool_key: str) -> Licence | None:
        query = select(_LICENCES).where(_LICENCES.c.tool_key == tool_key).order_by(_LICENCES.c.id.desc()).limit(1)
        return await self._one(query)

    async def for_request(self, request_ref: str) -> Licence | None:
        query = select(_LICENCES).where(_LICENCES.c.request_ref == request_ref).order_by(_LICENCES.c.id.desc())
        return await self._one(query.limit(1))

    async def with_renewal(self, request_ref: str) -> Licence | None:
        return await self._one(select(_LICENCES).where(_LICENCES.c.renewal_ref == request_ref).limit(1))

    async def save(self, licence: Licence) -> None:
        statement = (
            update(_LICENCES)
            .where(_LICENCES.c.id == licence.id, _LICENCES.c.version == licence.version)
            .values(**to_values(licence), version=licence.version + 1)
        )
        if rowcount(await self.session.execute(statement)) != 1:
            raise ConcurrencyConflict(licence.ref)

    async def every(self) -> list[Licence]:
        """Every licence, oldest first (clearance export)."""
        rows = (await self.session.execute(select(_LICENCES).order_by(_LICENCES.c.id))).all()
        return [from_row(r) for r in rows]

    async def current(self) -> dict[str, Licence]:
        """Each tool's current licence, by tool key (the public page, the inventory)."""
        return {licence.tool_key: licence for licence in await self.every()}

    async def expiring(self, ids: Collection[int]) -> dict[int, tuple[Licence, bool, str]]:
        """workflows.followups.licence_expiry.ExpiringLoader: each licence by id, whether it is its
        tool's current one, and the tool's name (its key when the registry has none), in one read."""
        found: dict[int, tuple[Licence, bool, str]] = {}
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), EXPIRING_BATCH):
            rows = await self.session.execute(_EXPIRING, {"ids": wanted[start : start + EXPIRING_BATCH]})
            for row in rows:
                found[row.id] = (from_row(row), row.newest == row.id, row.tool_name or row.tool_key)
        return found

    async def _one(self, query: Any) -> Licence | None:
        row = (await self.session.execute(query)).first()
        return from_row(row) if row is not None else None
