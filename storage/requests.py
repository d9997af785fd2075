"""SqlRequests: the request repository (workflows.ports.RequestRepository) on SQLModel tables.

A request is its row plus three kinds of child rows, all mapped by storage.mapping. Loading reads
the rows, then every child of every row in one UNION ALL. Saving needs no memory of what was
loaded: the UPDATE that checks the version (the optimistic lock) also returns how many children
of each kind the database holds, and decisions, answer versions and questions are only ever
added (a question's answer is filled in once), so the ones past those counts are the new ones.
The version check still turns concurrent saves into one save and a ConcurrencyConflict, and the
unique (request_id, stage_key) of decisions stays the database's own guard behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Table, bindparam, cast, func, insert, literal_column, null, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from storage.later import later, write_first
from storage.mapping import ANSWER_VERSION, DECISION, EXCHANGE, REQUEST, RowMap
from storage.sql import save_versioned, table_of
from storage.tables import RequestRow
from workflows.requests import RequestStatus, ToolRequest

_REQUESTS = table_of(RequestRow)
_DECISIONS, _EXCHANGES, _VERSIONS = DECISION.table, EXCHANGE.table, ANSWER_VERSION.table
_OPEN = [RequestStatus.PENDING.value, RequestStatus.INFO_REQUESTED.value]
# Decisions are written at the end of their group-commit batch (storage/later.py): every read of a
# request's children, and the save that counts them, writes its own first.
_LATER, _DECISION_KEY = (_DECISIONS,), ("request_id", "stage_key")


class _Child(NamedTuple):
    field: str  # ToolRequest's list of them
    map: RowMap[Any]
    order: str  # the column that orders them within a request


_CHILDREN = (
    _Child("decisions", DECISION, "id"),
    _Child("exchanges", EXCHANGE, "seq"),
    _Child("answer_versions", ANSWER_VERSION, "number"),
)


class _Stored(NamedTuple):
    """What the database holds of a request's children (returned by the versioned UPDATE)."""

    decisions: int = 0
    answer_versions: int = 0
    exchanges: int = 0
    answered: int = 0  # exchanges with an answer


class SqlRequests:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: ToolRequest) -> ToolRequest:
        values = {**REQUEST.values(request), "version": 0}
        request.id, request.version = (await self._session.execute(_INSERT_REQUEST, values)).scalar_one(), 0
        await self._write_children(request, _Stored())
        return request

    async def get(self, request_id: int) -> ToolRequest | None:
        # Every click loads one request: one statement built once (SQL compiled once), values bound;
        # the request's row comes with each of its children (or alone, its child columns NULL).
        await write_first(self._session, _LATER, lambda row: row["request_id"] == request_id)
        rows = (await self._session.execute(_ONE_REQUEST, {"request_id": request_id})).all()
        if not rows:
            return None
        return self._built(rows[:1], [row for row in rows if row.kind is not None])[0]

    async def save(self, request: ToolRequest) -> None:
        assert request.id is not None, "save() is for stored requests; use add()"
        await write_first(self._session, _LATER, lambda row: row["request_id"] == request.id)  # counted below
        stored = await save_versioned(
            self._session,
            RequestRow,
            request,
            REQUEST.values(request),
            *_STORED_COUNTS,
            params={"counted_request": request.id},
        )
        assert stored is not None  # save_versioned raised ConcurrencyConflict otherwise
        await self._write_children(request, _Stored(*stored))

    async def for_requester(self, user_id: str, *, open_only: bool = False) -> list[ToolRequest]:
        query = select(_REQUESTS).where(_REQUESTS.c.requester_id == user_id)
        if open_only:
            query = query.where(_REQUESTS.c.status.in_(_OPEN))
        return await self._fetch(query.order_by(_REQUESTS.c.id.desc()).limit(50))

    async def at_stages(self, stage_keys: list[str]) -> list[ToolRequest]:
        query = (
            select(_REQUESTS)
            .where(_REQUESTS.c.status.in_(_OPEN), _REQUESTS.c.stage_key.in_(stage_keys))
            .order_by(_REQUESTS.c.stage_entered_at, _REQUESTS.c.id)
            .limit(200)
        )
        return await self._fetch(query)

    async def open_tool_names(self, stage_keys: list[str]) -> list[tuple[int, str]]:
        query = (
            select(_REQUESTS.c.id, _REQUESTS.c.tool_name)
            .where(_REQUESTS.c.status.in_(_OPEN), _REQUESTS.c.stage_key.in_(stage_keys))
            .order_by(_REQUESTS.c.stage_entered_at, _REQUESTS.c.id)
        )
        return [(row.id, row.tool_name) for row in await self._session.execute(query)]

    async def every(self) -> list[ToolRequest]:
        """Every request, oldest first: a read for the public pages and reports, never on a change's path."""
        return await self._fetch(select(_REQUESTS).order_by(_REQUESTS.c.id))

    async def _fetch(self, query) -> list[ToolRequest]:
        await write_first(self._session, _LATER)
        rows = (await self._session.execute(query)).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        return self._built(rows, await self._session.execute(_children_of(lambda table: table.c.request_id.in_(ids))))

    @staticmethod
    def _built(rows, child_rows) -> list[ToolRequest]:
        children: dict[int, dict[str, list[Any]]] = {row.id: {c.field: [] for c in _CHILDREN} for row in rows}
        for row in child_rows:
            child = _CHILDREN[row.kind]
            children[row.parent][child.field].append(child.map.build(row, prefix=f"c{row.kind}_"))
        return [REQUEST.build(row, children[row.id]) for row in rows]

    async def _write_children(self, request: ToolRequest, stored: _Stored) -> None:
        request_id = request.stored_id
        await self._insert(_VERSIONS, request_id, ANSWER_VERSION, request.answer_versions[stored.answer_versions :])
        decided = [{**DECISION.values(d), "request_id": request_id} for d in request.decisions[stored.decisions :]]
        if decided and not later(self._session, _DECISIONS, _DECISION_KEY, decided):  # in a batch: at its end
            await self._session.execute(insert(_DECISIONS), decided)
        asked = [
            {**EXCHANGE.values(x), "request_id": request_id, "seq": seq}
            for seq, x in enumerate(request.exchanges)
            if seq >= stored.exchanges
        ]
        if asked:
            await self._session.execute(insert(_EXCHANGES), asked)
        answered = [(seq, x) for seq, x in enumerate(request.exchanges[: stored.exchanges]) if x.answer is not None]
        if len(answered) != stored.answered:  # an answer given since: write the ones that differ
            await self._session.execute(
                update_rows(_EXCHANGES)
                .where(
                    _EXCHANGES.c.request_id == request_id,
                    _EXCHANGES.c.seq == bindparam("at_seq"),
                    _EXCHANGES.c.answer.is_distinct_from(bindparam("new_answer")),
                )
                .values(answer=bindparam("new_answer"), answered_at=bindparam("new_answered_at")),
                [{"at_seq": seq, "new_answer": x.answer, "new_answered_at": x.answered_at} for seq, x in answered],
            )

    async def _insert(self, table: Table, request_id: int, mapping: RowMap[Any], items: list[Any]) -> None:
        if items:
            await self._session.execute(
                insert(table), [{**mapping.values(item), "request_id": request_id} for item in items]
            )


def _stored_counts() -> tuple[ColumnElement[int], ...]:
    """Subqueries counting the children stored for the request `:counted_request`, in _Stored's order."""

    def count(table: Table, *where: ColumnElement[bool]) -> ColumnElement[int]:
        counted = table.c.request_id == bindparam("counted_request")
        return select(func.count()).select_from(table).where(counted, *where).scalar_subquery()

    return (
        count(_DECISIONS),
        count(_VERSIONS),
        count(_EXCHANGES),
        count(_EXCHANGES, _EXCHANGES.c.answer.is_not(None)),
    )


def _children_of(of_requests: Callable[[Table], ColumnElement[bool]], *, ordered: bool = True):
    """Every child row of the requests (`of_requests(child_table)` picks them), in one UNION ALL
    ordered by kind, then each kind's order (unless not `ordered`: a subquery the caller orders).

    Each row has the mapped columns of every child table, prefixed c<kind>_, NULL but its own kind's;
    the NULLs are CAST so that PostgreSQL can type the union and SQLAlchemy convert the values.
    """
    branches = []
    for kind, child in enumerate(_CHILDREN):
        table = child.map.table
        columns: list[Any] = [
            literal_column(str(kind), Integer).label("kind"),
            table.c.request_id.label("parent"),
            table.c[child.order].label("ord"),
        ]
        for other_kind, other in enumerate(_CHILDREN):
            for column in (other.map.table.c[c.name] for c in other.map.columns):
                value = column if other_kind == kind else cast(null(), column.type)
                columns.append(value.label(f"c{other_kind}_{column.name}"))
        branches.append(select(*columns).where(of_requests(table)))
    union = branches[0].union_all(*branches[1:])
    return union.order_by(literal_column("kind"), literal_column("ord")) if ordered else union


def _one_request():
    """One request's row joined to each of its children (one row, child columns NULL, if it has none)."""
    children = _children_of(lambda table: table.c.request_id == bindparam("request_id"), ordered=False).subquery()
    return (
        select(_REQUESTS, *children.c)
        .select_from(_REQUESTS.outerjoin(children, children.c.parent == _REQUESTS.c.id))
        .where(_REQUESTS.c.id == bindparam("request_id"))
        .order_by(children.c.kind, children.c.ord)
    )


_STORED_COUNTS = _stored_counts()
_INSERT_REQUEST = insert(_REQUESTS).returning(_REQUESTS.c.id)
_ONE_REQUEST = _one_request()
