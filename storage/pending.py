"""Rows written at the end of a change (or of a whole batch) with one multi-row INSERT per table.

Audit entries and outbox messages are never read back by the change that writes them, so they
need not go to the database one statement at a time: under a crowd each statement costs a
round trip to the driver, and a batch of 50 acknowledgements becomes one INSERT of 50 audit rows.
Rows live in the session (shared by every unit of work of a group-commit batch) until `flush`.

Rows "new unless already there" (an acknowledgement: one per person, the unique constraint is
the check) may be *assumed* new inside a group-commit batch (`add_assumed`): the change goes on
as if its INSERT had inserted, and the whole batch's rows go in one INSERT … ON CONFLICT DO
NOTHING RETURNING. Should any of them turn out to exist already, the batch is undone and run
again without assuming (AssumptionFailed; storage/group_commit.py). Before any other statement
of the session runs, assumed rows are written (and checked) first, so no read in the
transaction misses them. Rows of a table that only its own repository reads (`lazy`: the
delivery keys of handled_events, read by nothing but the unit of work's own look-ups, which write
them first) wait for the batch's end, so a whole batch's keys are one INSERT, not one per click.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from storage.chain import seal_in

_KEY = "clearance_pending_rows"
# Per table, what is done to its rows just before they are inserted: rows -> the rows to insert
# (the outbox folds coalescing messages into stored ones, storage/outbox.py).
BEFORE_INSERT: dict[str, Callable[[Session, list[dict[str, Any]]], list[dict[str, Any]]]] = {}
AUDIT = "audit_log"  # its rows are sealed into the hash chain as they are written
_ASSUME = "clearance_assume_new"


class AssumptionFailed(Exception):
    """A row assumed new was already stored: what the batch's changes concluded may be wrong."""


class PendingRows:
    def __init__(self) -> None:
        self._rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        # Rows assumed new: table -> (the key columns, {key: row}).
        self._assumed: dict[Table, tuple[tuple[str, ...], dict[tuple, dict[str, Any]]]] = {}
        self._lazy: dict[Table, tuple[tuple[str, ...], dict[tuple, dict[str, Any]]]] = {}  # the same, lazy
        self.assumption_failed = False  # kept even if a change swallows the AssumptionFailed

    def add_assumed(self, table: Table, values: dict[str, Any], key: tuple[str, ...], *, lazy: bool = False) -> bool:
        """Queue a row assumed new (see the module's docstring); False if this batch already did."""
        _, rows = (self._lazy if lazy else self._assumed).setdefault(table, (key, {}))
        identity = tuple(values[c] for c in key)
        if identity in rows:
            return False
        rows[identity] = values
        return True

    def write_assumed(self, session: Session, *, lazy: bool = False) -> None:
        """INSERT the assumed rows (one statement per table), the `lazy` ones too if asked (before the
        look-ups of their own table, at the end); AssumptionFailed if any existed."""
        assumed, self._assumed = self._assumed, {}  # taken first: the INSERT below runs this hook too
        if lazy:
            assumed, self._lazy = {**self._lazy, **assumed}, {}
        dialect = session.get_bind().dialect.name
        for table, (key, rows) in assumed.items():
            # One statement of fixed shape, run for all the rows at once (SQLAlchemy's insertmanyvalues
            # makes it one multi-row INSERT): compiled once, where .values(rows) compiled each batch anew.
            inserted = {tuple(r) for r in session.execute(_insert_new(dialect, table, key), list(rows.values()))}
            if len(inserted) != len(rows):
                self.assumption_failed = True
                raise AssumptionFailed(f"{len(rows) - len(inserted)} row(s) of {table.name} already stored")

    def add(self, table: Table, values: dict[str, Any]) -> None:
        if table not in self._rows:
            audit = next((t for t in self._rows if t.name == AUDIT), None)
            self._rows[table] = []
            if audit is not None:  # audit rows stay the last written: the chain's lock is taken
                self._rows[audit] = self._rows.pop(audit)  # there and held to the commit (storage/chain.py)
        self._rows[table].append(values)

    def find(self, table: Table, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The newest row not yet written that `matches` (to coalesce a message into it)."""
        return next((row for row in reversed(self._rows.get(table, [])) if matches(row)), None)

    def lazy_rows(self, table: Table) -> list[dict[str, Any]]:
        """The `lazy` rows of `table` assumed new and not yet written."""
        found = self._lazy.get(table)
        return list(found[1].values()) if found else []

    def has_assumed(self, *, lazy: bool = True) -> bool:
        return bool(self._assumed or (lazy and self._lazy))

    async def flush(self, session: AsyncSession) -> None:
        if self.has_assumed():
            await session.run_sync(functools.partial(self.write_assumed, lazy=True))
        for table, values in self.take().items():
            if (prepare := BEFORE_INSERT.get(table.name)) is not None:
                values = await session.run_sync(prepare, values)
            if values:
                if table.name == AUDIT:
                    await session.run_sync(seal_in, values)  # numbered and chained (storage/chain.py)
                await session.execute(insert(table), values)

    def take(self) -> dict[Table, list[dict[str, Any]]]:
        """The rows not yet written, now no longer pending (assumed rows are dropped)."""
        rows, self._rows = self._rows, defaultdict(list)
        self._assumed, self._lazy, self.assumption_failed = {}, {}, False
        return rows


def assume_new_rows(session: AsyncSession, allowed: bool) -> None:
    """Allow (in a group-commit batch's first attempt) or forbid `add_assumed` in this session."""
    session.info[_ASSUME] = allowed


def may_assume_new_rows(session: AsyncSession) -> bool:
    return bool(session.info.get(_ASSUME))


def pending(session: AsyncSession | Session) -> PendingRows:
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = PendingRows()
    return found


_BATCH = "clearance_batch_cache"


def start_batch_cache(session: AsyncSession) -> None:
    """Mark a session as a group-commit batch: its repositories may share what they read."""
    session.info[_BATCH] = {}


def batch_cache(session: AsyncSession, name: str) -> dict[Any, Any] | None:
    """The batch's shared copies for one repository, or None outside a batch (read every time)."""
    caches = session.info.get(_BATCH)
    return None if caches is None else caches.setdefault(name, {})


# The hooks below listen on SQLAlchemy's `Session` class itself, so they run for every session in
# the process (the app's, the CLI's, the tests'), registered when this module is first imported
# (storage/uow.py imports it). Nothing at a call site shows them: a commit anywhere flushes pending
# rows, a rollback anywhere drops them.
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, *_: object) -> None:
    pending(session).take()  # rows of a change that was undone are never written
    if _BATCH in session.info:
        session.info[_BATCH] = {}  # nor is anything it read or wrote remembered


@event.listens_for(Session, "do_orm_execute")
def _assumed_rows_first(state: ORMExecuteState) -> None:
    """Rows assumed new are written before any other statement runs: nothing reads past them."""
    rows = state.session.info.get(_KEY)
    if rows is not None and rows._assumed:
        rows.write_assumed(state.session)


@event.listens_for(Session, "before_commit")
def _never_lost(session: Session) -> None:
    """Whoever commits a session (a unit of work, a group commit, a test) writes what is pending:
    a row handed to the outbox or the audit log can never be dropped by a commit that forgot it."""
    if pending(session).has_assumed():
        pending(session).write_assumed(session, lazy=True)
    for table, values in pending(session).take().items():
        if (prepare := BEFORE_INSERT.get(table.name)) is not None:
            values = prepare(session, values)
        if values:
            if table.name == AUDIT:
                seal_in(session, values)
            session.execute(insert(table), values)


async def flush_pending(session: AsyncSession) -> None:
    await pending(session).flush(session)


@functools.cache
def _insert_new(dialect: str, table: Table, key: tuple[str, ...]):
    """INSERT … ON CONFLICT DO NOTHING RETURNING the key: the rows that were new."""
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_of(table).on_conflict_do_nothing().returning(*(table.c[c] for c in key))
