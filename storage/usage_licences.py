"""The licence arms of storage/usage.py's UNION: who a tool's licences link to it.

A licence's named people are a JSON list in a text column (storage.types.JSONText), expanded to
one row each by the database's own function: SQLite's `json_each`, PostgreSQL's
`json_array_elements_text` over the text cast to json (`json_items`). Its user groups' members
are not stored: the caller asks Slack at the moment of asking and passes them as one JSON object
(group id -> member ids, the `members` parameter), expanded the same way (`json_members`), so the
one statement still counts, de-duplicates and orders every link. Its owner is a link when it does
not name them (workflows/usage_licences.py says why). A licence for everyone adds no row.

Each row carries the licence's id; the words (scope, validity) come from the licences the caller
read (`SqlUsage.licences`): one small indexed read, not a column per row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import orjson
from sqlalchemy import String, bindparam, cast, exists, func, literal, null, select, true, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from storage.licences import from_row
from storage.sql import table_of
from storage.tables import LicenceRow, ToolRow
from workflows.licences import Licence, ScopeKind

_LICENCES, _TOOLS = table_of(LicenceRow), table_of(ToolRow)
_NONE = cast(null(), String)


class json_items(FunctionElement):  # noqa: N801 (an SQL function's name)
    """The elements of a JSON array kept as text, one row each, as text in column `value`."""

    inherit_cache = True


@compiles(json_items, "sqlite")
def _items_sqlite(element: json_items, compiler: Any, **kw: Any) -> str:
    return f"json_each({compiler.process(element.clauses, **kw)})"


@compiles(json_items, "postgresql")
def _items_postgresql(element: json_items, compiler: Any, **kw: Any) -> str:
    return f"json_array_elements_text(CAST({compiler.process(element.clauses, **kw)} AS JSON))"


class json_members(FunctionElement):  # noqa: N801
    """json_members(document, key): the elements of the JSON array at `key` of a JSON object, one
    row each in column `value`; none when the key is missing."""

    inherit_cache = True


@compiles(json_members, "sqlite")
def _members_sqlite(element: json_members, compiler: Any, **kw: Any) -> str:
    document, key = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_each({document}, '$.\"' || {key} || '\"')"


@compiles(json_members, "postgresql")
def _members_postgresql(element: json_members, compiler: Any, **kw: Any) -> str:
    document, key = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_array_elements_text(CAST({document} AS JSON) -> {key})"


def _arm(kind: str, person: Any, group: Any = _NONE) -> Any:
    """The UNION's ten columns for a licence's link (storage/usage.py `_REQUEST_ARM` names them)."""
    return select(
        literal(kind),
        person,
        type_coerce(_LICENCES.c.valid_from, String),
        _LICENCES.c.id,
        group,
        _NONE,
        func.coalesce(_TOOLS.c.name, _LICENCES.c.tool_key),
        _NONE,
        _NONE,
        _NONE,
    )


_KEYS = _LICENCES.c.tool_key.in_(bindparam("keys", expanding=True))
_WITH_TOOL = _LICENCES.outerjoin(_TOOLS, _TOOLS.c.key == _LICENCES.c.tool_key)

_NAMED = json_items(_LICENCES.c.scope_people).table_valued("value").alias("named")
NAMED_ARM = _arm("l", _NAMED.c.value).select_from(_WITH_TOOL.join(_NAMED, true())).where(_KEYS)

_GROUP = json_items(_LICENCES.c.scope_groups).table_valued("value").alias("licensed_group")
_MEMBER = json_members(bindparam("members", type_=String), _GROUP.c.value).table_valued("value").alias("member")
GROUP_ARM = (
    _arm("g", _MEMBER.c.value, _GROUP.c.value)
    .select_from(_WITH_TOOL.join(_GROUP, true()).join(_MEMBER, true()))
    .where(_KEYS, _LICENCES.c.scope_kind == ScopeKind.GROUPS.value)
)

_OWNER_NAMED = json_items(_LICENCES.c.scope_people).table_valued("value").alias("owner_named")
OWNER_ARM = (
    _arm("o", _LICENCES.c.owner)
    .select_from(_WITH_TOOL)
    .where(
        _KEYS,
        _LICENCES.c.scope_kind != ScopeKind.EVERYONE.value,
        _LICENCES.c.owner != "",
        ~exists(select(literal(1)).select_from(_OWNER_NAMED).where(_OWNER_NAMED.c.value == _LICENCES.c.owner)),
    )
)

_ALL = select(_LICENCES).where(_KEYS).order_by(_LICENCES.c.id)


async def licences_of(session: AsyncSession, tool_keys: Collection[str]) -> list[Licence]:
    if not tool_keys:
        return []
    return [from_row(row) for row in (await session.execute(_ALL, {"keys": sorted(tool_keys)})).all()]


def members_param(members: Mapping[str, frozenset[str]]) -> str:
    """The `members` parameter: group id -> its members, as one JSON object."""
    return orjson.dumps({group: sorted(people) for group, people in members.items()}).decode()
