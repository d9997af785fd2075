"""The tool registry's repository: SqlTools implements workflows.ports_directives' tools port (a
tool, its aliases and look-alike forms; found by key, alias or look-alike form in one statement).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Row, Text, any_, bindparam, column, delete, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.later import Row as NameRow
from storage.later import later, queued, write_first
from storage.mapping import TOOL
from storage.pending import batch_cache
from storage.sql import insert_all_once, save_versioned, table_of
from storage.tables import ToolAliasRow, ToolLookalikeRow, ToolRow
from storage.tool_insert import tool_with_names
from storage.usage_licences import json_items
from workflows.errors import ConcurrencyConflict
from workflows.registry import Tool, ToolStatus

# Core statements built once (their SQL is compiled once and cached): a look-up runs on every
# request submitted and every card rendered.
_TOOLS, _ALIASES, _FORMS = table_of(ToolRow), table_of(ToolAliasRow), table_of(ToolLookalikeRow)
# A new tool's names, on SQLite, are written at the end of its batch (storage/later.py).
_NAMES = (_ALIASES, _FORMS)
# One tool with its aliases in one statement: a row per alias (one with alias NULL if it has none).
_WITH_ALIASES = select(_TOOLS, _ALIASES.c.alias.label("alias_of_tool")).outerjoin(
    _ALIASES, _ALIASES.c.tool_id == _TOOLS.c.id
)
_TOOL_BY_KEY = _WITH_ALIASES.where(_TOOLS.c.key == bindparam("key"))
_INSERT_TOOL = insert(_TOOLS).returning(_TOOLS.c.id)
_TOOL_BY_ID = _WITH_ALIASES.where(_TOOLS.c.id == bindparam("id"))
_ANY_OVERRIDDEN = select(_TOOLS.c.id).where(_TOOLS.c.override.is_not(None)).limit(1)
_OVERRIDDEN = "any_overridden"


def _found_tool(forms: Any):
    """The tool a name is filed under, by key, else by alias, else by look-alike form (lowest id
    first), with its aliases: one statement where three look-ups, one after the other, cost three
    round trips (every request about a new tool made all three). COALESCE stops at the first
    look-up that finds one, on SQLite and PostgreSQL alike.

    `forms` is the look-alike forms' condition, on one bound value: an expanding IN list made
    SQLAlchemy rewrite and re-process the statement's SQL on every run, which cost more than the
    look-up's own binding on every submission."""
    first = func.coalesce(
        select(_TOOLS.c.id).where(_TOOLS.c.key == bindparam("key")).scalar_subquery(),
        select(_ALIASES.c.tool_id).where(_ALIASES.c.alias == bindparam("alias")).limit(1).scalar_subquery(),
        select(_FORMS.c.tool_id).where(forms).order_by(_FORMS.c.tool_id).limit(1).scalar_subquery(),
    )
    return _WITH_ALIASES.where(_TOOLS.c.id == first)


# SQLite: the forms as one JSON array, read back by json_each (the form's index is searched for each);
# PostgreSQL: a text array, = ANY (what an IN list becomes there anyway).
_FOUND_TOOL = {
    "sqlite": _found_tool(_FORMS.c.form.in_(select(column("value")).select_from(json_items(bindparam("forms"))))),
    "postgresql": _found_tool(_FORMS.c.form == any_(bindparam("forms", type_=ARRAY(Text)))),
}


class SqlTools:
    """workflows.ports_directives.ToolRepository. Writes are flushed at once, so a later read in the
    same transaction (the review card's cease-use warning) sees them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # A change looks the same tool up more than once (the registry's rule, then the review
        # card's warning); this unit of work's own reads and writes answer the later look-ups.
        self._by_key: dict[str, Tool | None] = {}
        self._found: dict[tuple[str, str, frozenset[str]], Tool | None] = {}
        self._memo: dict[Any, Any] = {}

    async def get_by_key(self, key: str) -> Tool | None:
        if key not in self._by_key:
            self._remember(key, await self._read_one(_TOOL_BY_KEY, {"key": key}))
        known = self._by_key[key]
        return dataclasses.replace(known) if known else None

    def _remember(self, key: str, tool: Tool | None) -> None:
        self._by_key[key] = dataclasses.replace(tool) if tool else None
        self._found.clear()  # aliases and forms may have moved: ask again

    async def get(self, tool_id: int) -> Tool | None:
        return await self._read_one(_TOOL_BY_ID, {"id": tool_id}, lambda row: row["tool_id"] == tool_id)

    async def _read_one(
        self, statement: Any, params: dict[str, Any], affects: Callable[[NameRow], bool] | None = None
    ) -> Tool | None:
        """The tool `statement` finds, with its aliases. Names this batch has not written yet
        (storage/later.py) are written first if they may change what it finds (`affects`), or if
        the tool found is one of theirs (then it is read again, whole)."""
        if affects is not None:
            await write_first(self._session, _NAMES, affects)
        tool = _one_tool((await self._session.execute(statement, params)).all())
        if tool is not None and any(row["tool_id"] == tool.id for row in queued(self._session, _NAMES)):
            await write_first(self._session, _NAMES)
            tool = _one_tool((await self._session.execute(statement, params)).all())
        return tool

    async def find(self, key: str, alias: str, forms: frozenset[str]) -> Tool | None:
        if self._by_key.get(key) is not None:  # read or written in this unit of work: it has the key
            return await self.get_by_key(key)
        wanted = (key, alias, forms)
        if wanted not in self._found:
            dialect = self._session.get_bind().dialect.name
            listed = sorted(forms)
            params = {
                "key": key,
                "alias": alias,
                "forms": orjson.dumps(listed).decode() if dialect == "sqlite" else listed,
            }
            self._found[wanted] = await self._read_one(
                _FOUND_TOOL[dialect], params, lambda row: row.get("alias") == alias or row.get("form") in forms
            )
        known = self._found[wanted]
        return dataclasses.replace(known) if known else None

    async def any_overridden(self) -> bool:
        """Read once per group-commit batch (else per unit of work); a change of the batch that puts
        an override in force says so (add, save), and an undone change forgets what was read."""
        memo = self._shared()
        if _OVERRIDDEN not in memo:
            memo[_OVERRIDDEN] = (await self._session.execute(_ANY_OVERRIDDEN)).first() is not None
        return bool(memo[_OVERRIDDEN])

    def _shared(self) -> dict[Any, Any]:
        cache = batch_cache(self._session, "tools")
        return self._memo if cache is None else cache

    def _written(self, tool: Tool) -> None:
        self._remember(tool.key, tool)
        if tool.override is not None:
            self._shared()[_OVERRIDDEN] = True

    async def all(self) -> list[Tool]:
        await write_first(self._session, _NAMES)  # a new tool's names, if this batch has not written them yet
        return await self._hydrate(list(await self._session.execute(select(_TOOLS).order_by(_TOOLS.c.id))))

    async def with_status(self) -> list[Tool]:
        """Tools whose status of record is known, by name."""
        await write_first(self._session, _NAMES)
        rows = await self._session.execute(select(_TOOLS).where(_TOOLS.c.status != ToolStatus.UNKNOWN.value))
        return sorted(await self._hydrate(list(rows)), key=lambda t: (t.name.casefold(), t.key))

    async def add(self, tool: Tool) -> Tool:
        values = {**_tool_values(tool), "created_at": tool.updated_at or datetime.now(UTC), "version": 0}
        at_once = self._session.get_bind().dialect.name == "postgresql"
        try:
            if at_once:  # the tool, its aliases and its look-alike forms in one statement
                rows = {"aliases": sorted(tool.aliases), "forms": sorted(tool.lookalikes())}
                statement = tool_with_names(tuple(values))
                tool_id = (await self._session.execute(statement, {**values, **rows})).scalar_one()
            else:
                tool_id = (await self._session.execute(_INSERT_TOOL, values)).scalar_one()
        except IntegrityError as exc:
            # Another transaction registered the same tool first; a retry from a fresh read finds it.
            raise ConcurrencyConflict(f"tool {tool.key}") from exc
        tool.id, tool.version = tool_id, 0
        if not at_once and not self._names_later(tool_id, tool):
            await self._add_aliases(tool_id, tool.aliases, stored=set())  # a new tool has none yet
            await self._index_lookalikes(tool_id, tool, stored=frozenset())
        self._written(tool)
        return tool

    def _names_later(self, tool_id: int, tool: Tool) -> bool:
        """SQLite, in a batch of several: a new tool's names go in with the batch's others at its
        end (one INSERT per table, not two per request about a new tool)."""
        aliases = [{"alias": alias, "tool_id": tool_id} for alias in sorted(tool.aliases)]
        forms = [{"form": form, "tool_id": tool_id} for form in sorted(tool.lookalikes())]
        return later(self._session, _ALIASES, ("alias",), aliases) and later(
            self._session, _FORMS, ("form", "tool_id"), forms
        )

    async def save(self, tool: Tool) -> None:
        assert tool.id is not None, "save() is for stored tools; use add()"
        before = self._by_key.get(tool.key)
        await write_first(self._session, _NAMES)  # its names are read and added to below
        await save_versioned(self._session, ToolRow, tool, _tool_values(tool))
        await self._add_aliases(tool.id, tool.aliases)
        # Loaded in this unit of work (as every change does): its forms are known; else read them.
        await self._index_lookalikes(tool.id, tool, stored=before.lookalikes() if before else None)
        self._written(tool)

    async def _index_lookalikes(self, tool_id: int, tool: Tool, *, stored: frozenset[str] | None) -> None:
        """Make the tool's rows in tool_lookalikes `tool.lookalikes()`. Every wanted form is written
        (a form already there is kept), so a form that went missing is put back the next time the tool
        is saved; `stored` (the forms its loaded state had) says which may have to go."""
        where = col(ToolLookalikeRow.tool_id) == tool_id
        if stored is None:
            stored = frozenset(await self._session.scalars(select(col(ToolLookalikeRow.form)).where(where)))
        wanted = tool.lookalikes()
        if stored - wanted:
            await self._session.execute(
                delete(ToolLookalikeRow).where(where, col(ToolLookalikeRow.form).in_(sorted(stored - wanted)))
            )
        await insert_all_once(
            self._session, ToolLookalikeRow, [{"form": f, "tool_id": tool_id} for f in sorted(wanted)]
        )

    async def _add_aliases(self, tool_id: int, aliases: Iterable[str], stored: set[str] | None = None) -> None:
        if stored is None:
            stored = set(
                await self._session.scalars(select(col(ToolAliasRow.alias)).where(col(ToolAliasRow.tool_id) == tool_id))
            )
        # One statement for every new alias; a name already filed under another tool stays there
        # (ON CONFLICT DO NOTHING on the alias): first come, first served.
        new = [{"alias": alias, "tool_id": tool_id} for alias in sorted(set(aliases) - stored)]
        await insert_all_once(self._session, ToolAliasRow, new)

    async def _hydrate(self, rows: list[Row[Any]]) -> list[Tool]:
        if not rows:
            return []
        aliases: dict[int, set[str]] = {row.id: set() for row in rows}
        found = await self._session.execute(
            select(_ALIASES.c.alias, _ALIASES.c.tool_id).where(_ALIASES.c.tool_id.in_(list(aliases)))
        )
        for alias, tool_id in found:
            aliases[tool_id].add(alias)
        return [TOOL.build(row, {"aliases": frozenset(aliases[row.id])}) for row in rows]


def _one_tool(rows: Sequence[Row[Any]]) -> Tool | None:
    """The tool of _TOOL_BY_KEY's or _TOOL_BY_ID's rows, with its aliases."""
    if not rows:
        return None
    aliases = frozenset(row.alias_of_tool for row in rows if row.alias_of_tool is not None)
    return TOOL.build(rows[0], {"aliases": aliases})


def _tool_values(tool: Tool) -> dict:
    # The status shown is derived from the layers; stored too, for listing.
    return {**TOOL.values(tool), "status": tool.status.value, "status_since": tool.status_since}
