"""Group commit: many concurrent changes share one transaction and one commit (one fsync).

Under a crowd (a cease-use order reaching every member, a busy review queue) the cost of a
click is write transactions × fsyncs, not Python. So changes are queued; a writer takes every
change waiting at that moment, runs each in its own SAVEPOINT inside one transaction, and
commits once. Each caller is answered only when *its* batch has committed, so nothing is
acknowledged before it is durable:

- a change that raises (a refusal, a conflict, a bug) is undone alone: its neighbours in the
  batch are unaffected and the caller gets the exception. (The batch first runs without
  savepoints; only when a change raises is it run again with one savepoint per change.)
- rows "new unless already there" (acknowledgements) are assumed new in the first attempt and
  written as one INSERT per batch (storage/pending.py); if one was not new after all, the batch
  is run again without assuming, so each change sees exactly what a change of its own would.
- if the commit itself fails (the database is gone, the process dies first), every change in
  the batch is lost together and every caller gets the error: none was acknowledged.

Batches form by themselves: while one commits, the next clicks queue up behind it. With one
click at a time a batch is one change, costing one savepoint more than a plain transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.pending import AssumptionFailed, assume_new_rows, flush_pending, pending, start_batch_cache
from storage.sql import is_unavailable
from workflows.errors import StoreUnavailable

log = logging.getLogger("clearance.storage")

U = TypeVar("U")
T = TypeVar("T")


@dataclass
class _Change(Generic[U]):
    work: Callable[[U], Awaitable[Any]]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit(Generic[U]):
    """Runs `work(uow)` in a shared transaction; `uow_over(session)` builds the unit of work view."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        uow_over: Callable[[AsyncSession], U],
        *,
        max_batch: int = 64,
        writers: int = 1,
    ) -> None:
        self._sessions = sessions
        self._uow_over = uow_over
        self.max_batch = max_batch
        self.writers = writers  # SQLite has one writer anyway; PostgreSQL may take a few
        self._queue: asyncio.Queue[_Change[U]] | None = None
        self._tasks: list[asyncio.Task] = []
        self.batches = 0  # counters for benchmarks and tests
        self.changes = 0

    async def run(self, work: Callable[[U], Awaitable[T]]) -> T:
        """Run `work` in the next batch; returns its result once that batch has committed."""
        self._ensure_started()
        assert self._queue is not None
        change: _Change[U] = _Change(work)
        await self._queue.put(change)
        return await asyncio.shield(change.done)

    def _ensure_started(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if not self._tasks:
            self._tasks = [
                asyncio.get_running_loop().create_task(self._writer(), name=f"clearance-group-commit-{i}")
                for i in range(self.writers)
            ]

    async def stop(self) -> None:
        """Finish what is queued, then stop the writers."""
        if self._queue is not None:
            await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _writer(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            # A writer takes everything waiting: a batch's fixed cost (BEGIN, the reads its changes
            # share, COMMIT and its fsync) is paid once for all. Other writers (PostgreSQL) take what
            # arrives meanwhile, so transactions still overlap. (Sharing the queue out evenly made
            # 4 batches of 12 where one of 50 does: 5,000 acknowledgements took 4 s, not 1.5 s.)
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Change[U]]) -> None:
        try:
            try:
                # Fast path: the changes one after another, no savepoints; pending rows are flushed
                # once, at the commit (one multi-row INSERT per table rather than one per change).
                try:
                    results = await self._transaction(batch, isolated=False, assume=len(batch) > 1)
                except _Assumed:
                    # A row assumed new was there already (the same person clicked twice): the
                    # changes that assumed it must see it, so the batch starts again.
                    results = await self._transaction(batch, isolated=False)
            except _Refused:
                # Some change raised: start again, this time each change in its own savepoint so
                # that its error undoes it alone. Changes are functions of the database, so
                # running them again gives the same outcome the fast path would have had.
                results = await self._transaction(batch, isolated=True)
        except BaseException as exc:  # nothing in the batch was stored: every caller is told
            if not isinstance(exc, Exception):
                for change in batch:
                    if not change.done.done():
                        change.done.cancel()
                raise
            log.warning("a batch of %d change(s) could not be committed: %s", len(batch), type(exc).__name__)
            error = StoreUnavailable(type(exc).__name__) if is_unavailable(exc) else exc
            for change in batch:
                if not change.done.done():
                    change.done.set_exception(error)
            return
        self.batches += 1
        self.changes += len(batch)
        for change, (ok, value) in zip(batch, results, strict=True):
            if change.done.done():
                continue
            if ok:
                change.done.set_result(value)
            else:
                change.done.set_exception(value)

    async def _transaction(
        self, batch: list[_Change[U]], *, isolated: bool, assume: bool = False
    ) -> list[tuple[bool, Any]]:
        alone = len(batch) == 1  # one change: the transaction is its savepoint
        async with self._sessions() as session:
            try:
                await session.begin()
                start_batch_cache(session)
                assume_new_rows(session, assume)
                results = []
                for change in batch:
                    if isolated and not alone:
                        results.append(await self._one(session, change))
                        continue
                    try:
                        results.append((True, await change.work(self._uow_over(session))))
                    except Exception as exc:
                        if is_unavailable(exc):
                            raise
                        if isinstance(exc, AssumptionFailed):
                            raise _Assumed() from exc
                        if not alone:
                            raise _Refused() from exc
                        await session.rollback()
                        return [(False, exc)]
                try:
                    if pending(session).assumption_failed:
                        raise AssumptionFailed("a change went on past a failed assumption")
                    await flush_pending(session)  # what the changes left to write (storage/pending.py)
                    await session.commit()
                except Exception as exc:
                    if isinstance(exc, AssumptionFailed):
                        raise _Assumed() from exc
                    if is_unavailable(exc) or isolated or alone:
                        raise
                    raise _Refused() from exc  # a row of some change failed at the flush
                return results
            except (_Refused, _Assumed):
                await session.rollback()
                raise
            except Exception:
                # A connection that failed mid-commit is not trusted again: drop it from the pool.
                with contextlib.suppress(Exception):
                    await session.invalidate()
                raise

    async def _one(self, session: AsyncSession, change: _Change[U]) -> tuple[bool, Any]:
        """One change in its own savepoint: an error undoes this change and nothing else."""
        savepoint = await session.begin_nested()
        try:
            value = await change.work(self._uow_over(session))
            await flush_pending(session)  # inside the savepoint: undone with it if it fails
            await savepoint.commit()
            return True, value
        except Exception as exc:
            if is_unavailable(exc):
                raise  # the whole batch is lost with the connection
            pending(session).take()  # the rows it left to write go with it
            if savepoint.is_active:
                await savepoint.rollback()
            return False, exc


class _Refused(Exception):
    """A change in a batch raised: the batch is run again with a savepoint per change."""


class _Assumed(Exception):
    """A row assumed new was already stored: the batch is run again assuming nothing."""
