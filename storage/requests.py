"""SqlRequests: the request repository (workflows.ports.RequestRepository) on SQLModel tables."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.sql import row_id, save_versioned
from storage.tables import DecisionRow, InfoExchangeRow, RequestAnswersRow, RequestRow
from workflows.requests import (
    AnswerVersion,
    Decision,
    InfoExchange,
    Outcome,
    PriorUse,
    RequestStatus,
    ToolRequest,
)
from workflows.risk import Assessment, Tier

_SCALARS = (
    "requester_id",
    "tool_name",
    "vendor",
    "purpose",
    "case_number",
    "notes",
    "stage_key",
    "stage_entered_at",
    "created_at",
    "updated_at",
    "closed_at",
    "next_reminder_at",
    "reminders_sent",
    "escalated_at",
    "extends",
)


class SqlRequests:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # How many decisions/exchanges/answer versions each loaded request had, so save() writes
        # only the new ones.
        self._stored: dict[int, tuple[int, list[InfoExchange], int]] = {}

    async def add(self, request: ToolRequest) -> ToolRequest:
        row = RequestRow(**_row_values(request), version=0)
        self._session.add(row)
        await self._session.flush()
        request.id, request.version = row.id, 0
        await self._write_children(request, 0, [], 0)
        self._remember(request)
        return request

    async def get(self, request_id: int) -> ToolRequest | None:
        row = await self._session.get(RequestRow, request_id, populate_existing=True)
        if row is None:
            return None
        return (await self._hydrate([row]))[0]

    async def save(self, request: ToolRequest) -> None:
        assert request.id is not None, "save() is for stored requests; use add()"
        await save_versioned(self._session, RequestRow, request, _row_values(request))
        if request.id not in self._stored:  # loaded by another unit of work: ask the database
            await self.get(request.id)
        decided, exchanges, answered = self._stored[request.id]
        await self._write_children(request, decided, exchanges, answered)
        self._remember(request)

    async def for_requester(self, user_id: str, *, open_only: bool = False) -> list[ToolRequest]:
        query = select(RequestRow).where(col(RequestRow.requester_id) == user_id)
        if open_only:
            query = query.where(col(RequestRow.status).in_(_OPEN))
        return await self._fetch(query.order_by(col(RequestRow.id).desc()).limit(50))

    async def at_stages(self, stage_keys: list[str]) -> list[ToolRequest]:
        query = (
            select(RequestRow)
            .where(col(RequestRow.status).in_(_OPEN), col(RequestRow.stage_key).in_(stage_keys))
            .order_by(col(RequestRow.stage_entered_at), col(RequestRow.id))
            .limit(200)
        )
        return await self._fetch(query)

    async def _fetch(self, query) -> list[ToolRequest]:
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return await self._hydrate(list(rows.all()))

    # --- mapping -----------------------------------------------------------------------------

    async def _hydrate(self, rows: list[RequestRow]) -> list[ToolRequest]:
        if not rows:
            return []
        ids = [row_id(r) for r in rows]
        decisions: dict[int, list[Decision]] = {i: [] for i in ids}
        for d in await self._session.scalars(
            select(DecisionRow).where(col(DecisionRow.request_id).in_(ids)).order_by(col(DecisionRow.id))
        ):
            decisions[d.request_id].append(
                Decision(d.stage_key, Outcome(d.outcome), d.decided_by, d.decided_at, d.note)
            )
        exchanges: dict[int, list[InfoExchange]] = {i: [] for i in ids}
        for x in await self._session.scalars(
            select(InfoExchangeRow).where(col(InfoExchangeRow.request_id).in_(ids)).order_by(col(InfoExchangeRow.seq))
        ):
            exchanges[x.request_id].append(
                InfoExchange(x.stage_key, x.asked_by, x.asked_at, x.question, x.answer, x.answered_at)
            )
        versions: dict[int, list[AnswerVersion]] = {i: [] for i in ids}
        for a in await self._session.scalars(
            select(RequestAnswersRow)
            .where(col(RequestAnswersRow.request_id).in_(ids))
            .order_by(col(RequestAnswersRow.number))
        ):
            versions[a.request_id].append(
                AnswerVersion(a.number, _answers_from_json(a.answers), a.changed_by, a.changed_at, a.note)
            )
        requests = []
        for row in rows:
            request = ToolRequest(
                **{name: getattr(row, name) for name in _SCALARS},
                data_kinds=tuple(row.data_kinds),
                prior_use=PriorUse(row.prior_use),
                status=RequestStatus(row.status),
                decisions=decisions[row_id(row)],
                exchanges=exchanges[row_id(row)],
                answer_versions=versions[row_id(row)],
                assessment=Assessment.from_dict(row.assessment) if row.assessment else None,
                tier=Tier(row.tier) if row.tier else None,
                route=tuple(row.route) if row.route is not None else None,
                id=row.id,
                version=row.version,
            )
            self._remember(request)
            requests.append(request)
        return requests

    def _remember(self, request: ToolRequest) -> None:
        snapshot = [InfoExchange(**vars(x)) for x in request.exchanges]
        self._stored[request.id] = (len(request.decisions), snapshot, len(request.answer_versions))  # type: ignore[index]

    async def _write_children(
        self, request: ToolRequest, decided: int, stored: list[InfoExchange], answered: int
    ) -> None:
        assert request.id is not None, "children are written for a stored request"
        for a in request.answer_versions[answered:]:  # versions are only ever added
            self._session.add(
                RequestAnswersRow(
                    request_id=request.id,
                    number=a.number,
                    answers=_answers_to_json(a.answers),
                    changed_by=a.by,
                    changed_at=a.at,
                    note=a.note,
                )
            )
        for d in request.decisions[decided:]:
            self._session.add(
                DecisionRow(
                    request_id=request.id,
                    stage_key=d.stage_key,
                    outcome=d.outcome.value,
                    decided_by=d.by,
                    decided_at=d.at,
                    note=d.note,
                )
            )
        for seq, x in enumerate(request.exchanges):
            if seq >= len(stored):
                self._session.add(
                    InfoExchangeRow(
                        request_id=request.id,
                        seq=seq,
                        stage_key=x.stage_key,
                        asked_by=x.asked_by,
                        asked_at=x.asked_at,
                        question=x.question,
                        answer=x.answer,
                        answered_at=x.answered_at,
                    )
                )
            elif x.answer != stored[seq].answer:
                await self._session.execute(
                    update(InfoExchangeRow)
                    .where(col(InfoExchangeRow.request_id) == request.id, col(InfoExchangeRow.seq) == seq)
                    .values(answer=x.answer, answered_at=x.answered_at)
                )
        await self._session.flush()


_OPEN = [RequestStatus.PENDING.value, RequestStatus.INFO_REQUESTED.value]


def _row_values(request: ToolRequest) -> dict:
    values = {name: getattr(request, name) for name in _SCALARS}
    values.update(
        data_kinds=list(request.data_kinds),
        prior_use=request.prior_use.value,
        status=request.status.value,
        tier=request.tier.value if request.tier else None,
        assessment=request.assessment.to_dict() if request.assessment else None,
        route=list(request.route) if request.route is not None else None,
    )
    return values


def _answers_to_json(answers: dict) -> dict:
    return {q: list(v) if isinstance(v, tuple) else v for q, v in answers.items()}


def _answers_from_json(data: dict) -> dict:
    # Lists came from several-choice questions (tuples in the domain).
    return {q: tuple(v) if isinstance(v, list) else v for q, v in data.items()}
