"""Repositories for directives, acknowledgements, directive posts and the tool registry.

SqlTools, SqlDirectives and SqlAcknowledgements implement workflows.ports_directives;
SqlDirectivePosts is the bot's record of where each directive was posted and what count its
message shows. Acknowledgements are inserted with ON CONFLICT DO NOTHING against a unique
(directive_id, user_id), so racing clicks record one row and never abort the transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.mapping import DIRECTIVE, TOOL, RowMap
from storage.pending import batch_cache
from storage.sql import insert_all_once, insert_once, rowcount, save_versioned, table_of
from storage.tables import (
    AcknowledgementRow,
    DirectivePostRow,
    DirectiveRow,
    OutboxRow,
    SlackMessageRow,
    ToolAliasRow,
    ToolLookalikeRow,
    ToolRow,
)
from storage.tool_insert import tool_with_names
from workflows.directives import Acknowledgement, Directive, DirectivePost, DirectiveStatus, PostOutcome
from workflows.errors import ConcurrencyConflict
from workflows.outbox import OutboxStatus
from workflows.registry import Tool, ToolStatus

# --- tools ------------------------------------------------------------------------------------


# Core statements built once (their SQL is compiled once and cached): a look-up runs on every
# request submitted and every card rendered.
_TOOLS, _ALIASES = table_of(ToolRow), table_of(ToolAliasRow)
# One tool with its aliases in one statement: a row per alias (one with alias NULL if it has none).
_WITH_ALIASES = select(_TOOLS, _ALIASES.c.alias.label("alias_of_tool")).outerjoin(
    _ALIASES, _ALIASES.c.tool_id == _TOOLS.c.id
)
_TOOL_BY_KEY = _WITH_ALIASES.where(_TOOLS.c.key == bindparam("key"))
_INSERT_TOOL = insert(_TOOLS).returning(_TOOLS.c.id)
_TOOL_BY_ID = _WITH_ALIASES.where(_TOOLS.c.id == bindparam("id"))
_ANY_OVERRIDDEN = select(_TOOLS.c.id).where(_TOOLS.c.override.is_not(None)).limit(1)
_OVERRIDDEN = "any_overridden"


def _found_tool():
    """The tool a name is filed under, by key, else by alias, else by look-alike form (lowest id
    first), with its aliases: one statement where three look-ups, one after the other, cost three
    round trips (every request about a new tool made all three). COALESCE stops at the first
    look-up that finds one, on SQLite and PostgreSQL alike."""
    lookalikes = table_of(ToolLookalikeRow)
    first = func.coalesce(
        select(_TOOLS.c.id).where(_TOOLS.c.key == bindparam("key")).scalar_subquery(),
        select(_ALIASES.c.tool_id).where(_ALIASES.c.alias == bindparam("alias")).limit(1).scalar_subquery(),
        select(lookalikes.c.tool_id)
        .where(lookalikes.c.form.in_(bindparam("forms", expanding=True)))
        .order_by(lookalikes.c.tool_id)
        .limit(1)
        .scalar_subquery(),
    )
    return _WITH_ALIASES.where(_TOOLS.c.id == first)


_FOUND_TOOL = _found_tool()


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
            self._remember(key, _one_tool((await self._session.execute(_TOOL_BY_KEY, {"key": key})).all()))
        known = self._by_key[key]
        return dataclasses.replace(known) if known else None

    def _remember(self, key: str, tool: Tool | None) -> None:
        self._by_key[key] = dataclasses.replace(tool) if tool else None
        self._found.clear()  # aliases and forms may have moved: ask again

    async def get(self, tool_id: int) -> Tool | None:
        return _one_tool((await self._session.execute(_TOOL_BY_ID, {"id": tool_id})).all())

    async def find(self, key: str, alias: str, forms: frozenset[str]) -> Tool | None:
        if self._by_key.get(key) is not None:  # read or written in this unit of work: it has the key
            return await self.get_by_key(key)
        wanted = (key, alias, forms)
        if wanted not in self._found:
            rows = (
                await self._session.execute(_FOUND_TOOL, {"key": key, "alias": alias, "forms": sorted(forms)})
            ).all()
            self._found[wanted] = _one_tool(rows)
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
        return await self._hydrate(list(await self._session.execute(select(_TOOLS).order_by(_TOOLS.c.id))))

    async def with_status(self) -> list[Tool]:
        """Tools whose status of record is known, by name."""
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
        if not at_once:
            await self._add_aliases(tool_id, tool.aliases, stored=set())  # a new tool has none yet
            await self._index_lookalikes(tool_id, tool, stored=frozenset())
        self._written(tool)
        return tool

    async def save(self, tool: Tool) -> None:
        assert tool.id is not None, "save() is for stored tools; use add()"
        before = self._by_key.get(tool.key)
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


# --- directives -------------------------------------------------------------------------------


class SqlDirectives:
    """workflows.ports_directives.DirectiveRepository."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Within a group-commit batch (storage/group_commit.py) 50 acknowledgements read the same
        # directive: the batch reads it once. Every write here updates that copy, and a rollback
        # drops it (storage/pending.py), so a change never sees a directive its batch did not.
        self._known = batch_cache(session, "directives")

    async def add(self, directive: Directive) -> Directive:
        row = DirectiveRow(**DIRECTIVE.values(directive), version=0)
        self._session.add(row)
        await self._session.flush()
        directive.id, directive.version = row.id, 0
        self._remember(directive)
        return directive

    async def get(self, directive_id: int) -> Directive | None:
        if self._known is not None and directive_id in self._known:
            known = self._known[directive_id]
            return dataclasses.replace(known) if known else None
        row = await self._session.get(DirectiveRow, directive_id, populate_existing=True)
        directive = DIRECTIVE.build(row) if row else None
        if self._known is not None:
            self._known[directive_id] = dataclasses.replace(directive) if directive else None
        return directive

    async def save(self, directive: Directive) -> None:
        assert directive.id is not None, "save() is for stored directives; use add()"
        await save_versioned(self._session, DirectiveRow, directive, DIRECTIVE.values(directive))
        self._remember(directive)

    def _remember(self, directive: Directive) -> None:
        if self._known is not None and directive.id is not None:
            self._known[directive.id] = dataclasses.replace(directive)

    async def lock(self, directive_id: int) -> Directive | None:
        """Load the directive holding its row lock until the transaction ends.

        A no-op UPDATE takes the lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises
        writers); a concurrent revoke then commits strictly before or after this transaction.
        """
        await self._session.execute(
            update(DirectiveRow)
            .where(col(DirectiveRow.id) == directive_id)
            .values(version=col(DirectiveRow.version))
            .execution_options(synchronize_session=False)
        )
        if self._known is not None:
            self._known.pop(directive_id, None)  # read it as locked
        return await self.get(directive_id)

    async def active_for_tool(self, tool_key: str) -> list[Directive]:
        return await self._fetch(
            select(DirectiveRow).where(
                col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value, col(DirectiveRow.tool_key) == tool_key
            )
        )

    async def list_active(self) -> list[Directive]:
        return await self._fetch(select(DirectiveRow).where(col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value))

    async def every(self) -> list[Directive]:
        """Every directive, in force or not, oldest first (the public pages and reports read them)."""
        return await self._fetch(select(DirectiveRow))

    async def for_channel(self, channel: str, *, ack_required: bool = True) -> list[Directive]:
        """Active directives sent to `channel` (that ask for acknowledgement), oldest first."""
        directives = await self.list_active()
        return [d for d in directives if channel in d.channels and (d.ack_required or not ack_required)]

    async def _fetch(self, query) -> list[Directive]:
        query = query.order_by(col(DirectiveRow.issued_at), col(DirectiveRow.id)).execution_options(
            populate_existing=True
        )
        return [DIRECTIVE.build(row) for row in await self._session.scalars(query)]


# --- acknowledgements -------------------------------------------------------------------------

_ACK = RowMap(Acknowledgement, AcknowledgementRow, row_only=("id",))


class SqlAcknowledgements:
    """workflows.ports_directives.AcknowledgementRepository."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, ack: Acknowledgement) -> bool:
        return await insert_once(
            self._session, AcknowledgementRow, directive_id=ack.directive_id, user_id=ack.user_id, at=ack.at
        )

    async def get(self, directive_id: int, user_id: str) -> Acknowledgement | None:
        row = await self._session.scalar(
            select(AcknowledgementRow).where(
                col(AcknowledgementRow.directive_id) == directive_id, col(AcknowledgementRow.user_id) == user_id
            )
        )
        return _ACK.build(row) if row else None

    async def count(self, directive_id: int) -> int:
        query = select(func.count()).select_from(AcknowledgementRow)
        return await self._session.scalar(query.where(col(AcknowledgementRow.directive_id) == directive_id)) or 0

    async def users(self, directive_id: int) -> set[str]:
        rows = await self._session.scalars(
            select(col(AcknowledgementRow.user_id)).where(col(AcknowledgementRow.directive_id) == directive_id)
        )
        return set(rows)

    async def counts(self, directive_ids: list[int]) -> dict[int, int]:
        """Acknowledgements per directive, in one query."""
        if not directive_ids:
            return {}
        rows = await self._session.execute(
            select(col(AcknowledgementRow.directive_id), func.count())
            .where(col(AcknowledgementRow.directive_id).in_(directive_ids))
            .group_by(col(AcknowledgementRow.directive_id))
        )
        found = {directive_id: n for directive_id, n in rows}
        return {d: found.get(d, 0) for d in directive_ids}


# --- where each directive was posted ------------------------------------------------------------


_POST = RowMap(DirectivePost, DirectivePostRow, row_only=("created_at",))


class SqlDirectivePosts:
    """One row per (directive, channel): the outcome of posting there and the count it shows."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, directive_id: int, channel: str, now: datetime) -> None:
        await insert_once(
            self._session,
            DirectivePostRow,
            directive_id=directive_id,
            channel=channel,
            outcome=PostOutcome.PENDING,
            error="",
            created_at=now,
            updated_at=now,
            count_shown="",
        )

    async def for_directive(self, directive_id: int) -> list[DirectivePost]:
        query = select(DirectivePostRow).where(col(DirectivePostRow.directive_id) == directive_id)
        query = query.order_by(col(DirectivePostRow.id)).execution_options(populate_existing=True)
        return [_POST.build(row) for row in await self._session.scalars(query)]

    async def pending(self, limit: int = 200) -> list[DirectivePost]:
        query = (
            select(DirectivePostRow)
            .where(col(DirectivePostRow.outcome) == PostOutcome.PENDING)
            .order_by(col(DirectivePostRow.id))
        )
        rows = await self._session.scalars(query.limit(limit).execution_options(populate_existing=True))
        return [_POST.build(row) for row in rows]

    async def posted_for_active(self) -> list[DirectivePost]:
        """Posted messages of directives in force that ask for acknowledgement (those show a count)."""
        query = (
            select(DirectivePostRow)
            .join(DirectiveRow, col(DirectiveRow.id) == col(DirectivePostRow.directive_id))
            .where(
                col(DirectivePostRow.outcome) == PostOutcome.POSTED,
                col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value,
                col(DirectiveRow.ack_required).is_(True),
            )
            .order_by(col(DirectivePostRow.id))
        )
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_POST.build(row) for row in rows]

    async def set_outcome(
        self,
        directive_id: int,
        channel: str,
        outcome: PostOutcome,
        now: datetime,
        *,
        error: str = "",
        ts: str | None = None,
    ) -> bool:
        """Record a post's outcome; False if it was already recorded (another process did it)."""
        result = await self._session.execute(
            update(DirectivePostRow)
            .where(
                col(DirectivePostRow.directive_id) == directive_id,
                col(DirectivePostRow.channel) == channel,
                col(DirectivePostRow.outcome) != outcome,
            )
            .values(outcome=outcome, error=error[:500], ts=ts, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def claim_count(self, post_id: int, shown_at: datetime | None, count: str, now: datetime) -> bool:
        """Record that `count` is about to be shown; False if another process changed it since `shown_at`."""
        if shown_at is None:
            same: ColumnElement[bool] = col(DirectivePostRow.count_shown_at).is_(None)
        else:
            same = col(DirectivePostRow.count_shown_at) == shown_at
        result = await self._session.execute(
            update(DirectivePostRow)
            .where(col(DirectivePostRow.id) == post_id, same)
            .values(count_shown=count[:64], count_shown_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def outbox_outcomes(self, keys: list[str]) -> dict[str, tuple[OutboxStatus, str, str | None]]:
        """For posts whose outcome was never recorded: the outbox's (status, last error, ts) per key."""
        if not keys:
            return {}
        rows = await self._session.execute(
            select(col(OutboxRow.store_as), col(OutboxRow.status), col(OutboxRow.last_error))
            .where(col(OutboxRow.store_as).in_(keys), col(OutboxRow.method) == "chat.postMessage")
            .order_by(col(OutboxRow.id))
        )
        # The latest attempt wins; store_as matched one of `keys`, so it is never NULL here.
        found: dict[str, tuple[OutboxStatus, str, str | None]] = {
            key: (OutboxStatus(status), error, None) for key, status, error in rows if key is not None
        }
        for key, ts in await self._session.execute(
            select(col(SlackMessageRow.key), col(SlackMessageRow.ts)).where(col(SlackMessageRow.key).in_(keys))
        ):
            if key in found:
                found[key] = (found[key][0], found[key][1], ts)
        return found
