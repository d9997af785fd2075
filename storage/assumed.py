"""Acknowledgements assumed new inside a group-commit batch (storage/pending.py: add_assumed).

5,000 officers acknowledging one directive were 5,000 INSERTs, one round trip each; in a batch
they are now one INSERT … ON CONFLICT DO NOTHING RETURNING per batch. Outside a batch, or when
the batch is run again because an assumption failed, each is inserted at once as before.
"""

from __future__ import annotations

from storage.directives import SqlAcknowledgements
from storage.pending import may_assume_new_rows, pending
from storage.sql import table_of
from storage.tables import AcknowledgementRow
from workflows.directive_model import Acknowledgement

_KEY = ("directive_id", "user_id")  # the unique constraint that makes a second click a no-op


class BatchedAcknowledgements(SqlAcknowledgements):
    async def add(self, ack: Acknowledgement) -> bool:
        if may_assume_new_rows(self._session):
            values = {"directive_id": ack.directive_id, "user_id": ack.user_id, "at": ack.at}
            if pending(self._session).add_assumed(table_of(AcknowledgementRow), values, _KEY):
                return True
        # Not in a batch, or the same person twice in one batch: the INSERT itself answers (it
        # runs after the assumed rows are written, see storage/pending.py).
        return await super().add(ack)
