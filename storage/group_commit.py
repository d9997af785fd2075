"""Group commit: many concurrent changes share one transaction and one commit (one fsync).

Under a crowd (a cease-use order reaching every member, a busy review queue) the cost of a
click is write transactions × fsyncs, not Python. So changes are queued; a writer takes every
change waiting at that moment, runs each in its own SAVEPOINT inside one transaction, and
commits once. Each caller is answered only when *its* batch has committed, so nothing is
acknowledged before it is durable:

- a change that raises (a refusal, a conflict, a bug, an SQL error of its own) is undone alone:
  its neighbours in the batch are unaffected and the caller gets the exception. (The batch first
  runs without savepoints; only when a change raises is it run again with one savepoint per
  change.) Only a lost connection loses the batch. A PostgreSQL deadlock or serialization
  failure (two writers' batches locking rows in opposite orders) is that change's
  ConcurrencyConflict, which the caller retries from a fresh read.
- rows "new unless already there" (acknowledgements) are assumed new in the first attempt and
  written as one INSERT per batch (storage/pending.py); if one was not new after all, the batch
  is run again without assuming, so each change sees exactly what a change of its own would.
- if the commit itself fails (the database is gone, the process dies first), every change in
  the batch is lost together and every caller gets the error: none was acknowledged.

Batches form by themselves: while one commits, the next clicks queue up behind it. With one
click at a time a batch is one change, costing one savepoint more than a plain transaction.

A change that waited longer than `max_wait` for its turn is not run: its caller gets StoreBusy.
Slack shows an answer for 3 s; a change written after that is one the person was told failed
(a form shows an error) and submits again, so it is better refused while they can be told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.pending import AssumptionFailed, assume_new_rows, flush_pending, pending, start_batch_cache
from storage.sql import is_unavailable
from workflows.errors import ConcurrencyConflict, StoreBusy, StoreUnavailable

log = logging.getLogger("clearance.storage")

U = TypeVar("U")
T = TypeVar("T")


# SQLSTATEs of a transaction that lost a race with another: PostgreSQL's serialization failure
# and deadlock. Nothing is wrong with the database; the change may simply run again.
_LOST_A_RACE = frozenset({"40001", "40P01"})


def _lost_a_race(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _LOST_A_RACE


def _connection_lost(error: BaseException) -> bool:
    """The batch cannot go on: its connection is gone (as opposed to one statement failing)."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, InterfaceError)
    return isinstance(error, (DisconnectionError, PoolTimeout, OSError))


def _stops_the_writer(error: BaseException) -> bool:
    """Only the writer's own cancellation (stop()) or the process exiting ends a writer; a
    CancelledError a change raised itself (it awaited something cancelled) is that change's failure."""
    if isinstance(error, Exception):
        return False
    if isinstance(error, asyncio.CancelledError):
        task = asyncio.current_task()
        return task is None or task.cancelling() > 0
    return True


def _as_failure(error: BaseException) -> Exception:
    """What a caller is told when its change, or its whole batch, failed with `error`."""
    if _lost_a_race(error):
        return ConcurrencyConflict(f"the database: {type(getattr(error, 'orig', error)).__name__}")
    if is_unavailable(error):
        return StoreUnavailable(type(error).__name__)
    if isinstance(error, Exception):
        return error
    return RuntimeError(f"the change was interrupted: {type(error).__name__}")


def _retrieved(done: asyncio.Future) -> None:
    """A caller cancelled meanwhile never reads its outcome; asyncio would log it as lost."""
    if not done.cancelled():
        done.exception()


@dataclass
class _Change(Generic[U]):
    work: Callable[[U], Awaitable[Any]]
    after: Callable[[Any], None] | None = None
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    queued_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    def __post_init__(self) -> None:
        self.done.add_done_callback(_retrieved)


class GroupCommit(Generic[U]):
    """Runs `work(uow)` in a shared transaction; `uow_over(session)` builds the unit of work view."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        uow_over: Callable[[AsyncSession], U],
        *,
        max_batch: int = 64,
        writers: int = 1,
        max_wait: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self._uow_over = uow_over
        self.max_batch = max_batch
        self.on_batch: Callable[[int], None] | None = None  # each committed batch's size (/metrics)
        self.writers = writers  # SQLite has one writer anyway; PostgreSQL may take a few
        self.max_wait = max_wait  # seconds in the queue after which a change is refused (StoreBusy)
        self._queue: asyncio.Queue[_Change[U]] | None = None
        self._tasks: list[asyncio.Task] = []
        self.batches = 0  # counters for benchmarks and tests
        self.changes = 0

    async def run(self, work: Callable[[U], Awaitable[T]], *, after: Callable[[T], None] | None = None) -> T:
        """Run `work` in the next batch; returns its result once that batch has committed.

        `after(result)` runs as soon as it has committed, even if the caller was cancelled
        meanwhile (a client that hung up): what must follow a commit (waking the sender) does."""
        self._ensure_started()
        assert self._queue is not None
        change: _Change[U] = _Change(work, after)
        await self._queue.put(change)
        return await asyncio.shield(change.done)

    def _ensure_started(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._tasks = [task for task in self._tasks if not task.done()]  # a writer that ended is replaced
        while len(self._tasks) < self.writers:
            name = f"clearance-group-commit-{len(self._tasks)}"
            self._tasks.append(asyncio.get_running_loop().create_task(self._writer(), name=name))

    async def stop(self) -> None:
        """Finish what is queued, then stop the writers."""
        if self._queue is not None:
            self._ensure_started()
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
                if in_time := self._refuse_the_late(batch):
                    await self._commit(in_time)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _refuse_the_late(self, batch: list[_Change[U]]) -> list[_Change[U]]:
        """The changes still in time; the others are refused (StoreBusy) without being run."""
        now = asyncio.get_running_loop().time()
        late = [change for change in batch if now - change.queued_at > self.max_wait]
        if not late:
            return batch
        log.warning("%d change(s) waited over %.1fs to be written: refused (swamped)", len(late), self.max_wait)
        for change in late:
            if not change.done.done():
                change.done.set_exception(StoreBusy(f"waited {now - change.queued_at:.1f}s"))
        return [change for change in batch if change not in late]

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
            if _stops_the_writer(exc):
                for change in batch:
                    if not change.done.done():
                        change.done.cancel()
                raise
            log.warning("a batch of %d change(s) could not be committed: %s", len(batch), type(exc).__name__)
            error = _as_failure(exc)
            for change in batch:
                if not change.done.done():
                    change.done.set_exception(error)
            return
        self.batches += 1
        self.changes += len(batch)
        if self.on_batch is not None:
            self.on_batch(len(batch))
        for change, (ok, value) in zip(batch, results, strict=True):
            if change.done.done():
                continue
            if ok:
                change.done.set_result(value)
                if change.after is not None:
                    try:
                        change.after(value)
                    except Exception:
                        log.exception("a step after a commit failed")
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
                    except BaseException as exc:
                        if _stops_the_writer(exc) or _connection_lost(exc):
                            raise
                        if isinstance(exc, AssumptionFailed):
                            raise _Assumed() from exc
                        if not alone:
                            raise _Refused() from exc
                        await session.rollback()
                        return [(False, _as_failure(exc))]
                try:
                    if pending(session).assumption_failed:
                        raise AssumptionFailed("a change went on past a failed assumption")
                    await flush_pending(session)  # what the changes left to write (storage/pending.py)
                    await session.commit()
                except Exception as exc:
                    if isinstance(exc, AssumptionFailed):
                        raise _Assumed() from exc
                    if _connection_lost(exc) or isolated or alone:
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
        except BaseException as exc:
            if _stops_the_writer(exc) or _connection_lost(exc):
                raise  # the whole batch is lost with the connection
            pending(session).take()  # the rows it left to write go with it
            if savepoint.is_active:
                await savepoint.rollback()  # a failure here (the connection went) loses the batch
            return False, _as_failure(exc)


class _Refused(Exception):
    """A change in a batch raised: the batch is run again with a savepoint per change."""


class _Assumed(Exception):
    """A row assumed new was already stored: the batch is run again assuming nothing."""
