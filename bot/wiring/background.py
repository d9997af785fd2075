"""Work that carries on after Slack was answered (the rest of a listener, a follow-up notice)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Background:
    """Keeps a reference to each task until it is done (asyncio keeps only weak ones), so shutdown
    and tests can wait for what was started after an acknowledgement."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def done(self, timeout: float = 10) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
