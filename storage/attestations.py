"""workflows.ports_directives.AttestationRepository: one answer per person per directive (and per
request), inserted with ON CONFLICT DO NOTHING against the table's unique constraints, so a double
submit records one and never aborts the transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.pending import may_assume_new_rows, pending
from storage.sql import insert_once, table_of
from storage.tables import AttestationRow
from workflows.attestations import Attestation, AttestationAnswer

_KEY = ("directive_id", "user_id")  # the unique constraint that makes a second answer a no-op


def _build(row: AttestationRow) -> Attestation:
    return Attestation(
        row.directive_id,
        row.user_id,
        AttestationAnswer(row.answer),
        row.at,
        tuple(row.case_numbers or ()),
        row.held,
        request_id=row.request_id,
    )


class SqlAttestations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, attestation: Attestation) -> bool:
        values = {
            "directive_id": attestation.directive_id,
            "request_id": attestation.request_id,
            "user_id": attestation.user_id,
            "answer": attestation.answer.value,
            "case_numbers": list(attestation.case_numbers),
            "held": attestation.held,
            "at": attestation.at,
        }
        # Thousands answer one directive at once: in a group-commit batch they are assumed new and
        # written in one INSERT, as acknowledgements are (storage/assumed.py); an INSERT of its own
        # here would write the batch's assumed acknowledgements first, one change at a time.
        assumable = attestation.directive_id is not None and may_assume_new_rows(self._session)
        if assumable and pending(self._session).add_assumed(table_of(AttestationRow), values, _KEY):
            return True
        return await insert_once(self._session, AttestationRow, **values)

    async def for_directive(self, directive_id: int, user_id: str) -> Attestation | None:
        row = await self._session.scalar(
            select(AttestationRow).where(
                col(AttestationRow.directive_id) == directive_id, col(AttestationRow.user_id) == user_id
            )
        )
        return _build(row) if row else None

    async def for_request(self, request_id: int, user_id: str) -> Attestation | None:
        row = await self._session.scalar(
            select(AttestationRow).where(
                col(AttestationRow.request_id) == request_id, col(AttestationRow.user_id) == user_id
            )
        )
        return _build(row) if row else None

    async def answers(self, directive_id: int) -> dict[str, AttestationAnswer]:
        rows = await self._session.execute(
            select(col(AttestationRow.user_id), col(AttestationRow.answer)).where(
                col(AttestationRow.directive_id) == directive_id
            )
        )
        return {user: AttestationAnswer(answer) for user, answer in rows}
