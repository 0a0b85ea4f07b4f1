"""The one place coroutines started from the UI run: named tasks, failures surfaced.

Starting a task under a name that is already running cancels the older one first (a new
search replaces the previous search). A task that fails is logged and reported to
``on_failure`` with plain words; it is never silently dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

FailureHandler = Callable[[str, BaseException], None]


class TaskManager:
    """Named asyncio tasks with predecessor cancellation and failure reporting."""

    def __init__(self, on_failure: FailureHandler | None = None) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self.on_failure = on_failure

    def start(
        self, name: str, coro: Coroutine[Any, Any, Any], *, replace: bool = True
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as task ``name``; an older task of that name is cancelled."""
        old = self._tasks.get(name)
        if old is not None and not old.done():
            if not replace:
                coro.close()
                return old
            old.cancel()
        task = asyncio.get_event_loop().create_task(coro, name=name)
        self._tasks[name] = task
        task.add_done_callback(self._done)
        return task

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def names(self) -> list[str]:
        return [n for n, t in self._tasks.items() if not t.done()]

    def cancel(self, name: str) -> bool:
        task = self._tasks.get(name)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def cancel_all(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(tasks, timeout=timeout)

    def _done(self, task: asyncio.Task[Any]) -> None:
        name = task.get_name()
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        log.error("task %s failed", name, exc_info=exc)
        if self.on_failure is not None:
            self.on_failure(name, exc)
