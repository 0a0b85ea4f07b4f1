"""The trigger scheduler: one task that fires active triggers at their ``next_run_time``.

The rule for fires missed while the engine was not running (documented in docs/engine.md):
**run once on start**. A trigger whose ``next_run_time`` passed while the engine was down
gets one execution as soon as the engine is back, recorded with the latest missed fire time
as its ``scheduled_time``; the fires before it are not run, and the next fire is planned
from now. The same holds for a fire found late at any time (a suspended laptop): one
execution, never a burst.

The clock is injectable (``clock``) so the rule can be checked without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from . import schedule as cron
from .triggers import Triggers

log = logging.getLogger("workbench.engine.ops")

MAX_SLEEP_SECONDS = 30.0


class Scheduler:
    """Fires due triggers; ``wake`` after any change so a new schedule is seen at once."""

    def __init__(self, triggers: Triggers, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.triggers = triggers
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        triggers.clock = self.clock
        triggers.changed = self.wake
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def tick(self) -> float | None:
        """Fire every due trigger once; seconds until the next fire (None: nothing planned)."""
        moment = self.clock()
        soonest: dt.datetime | None = None
        for resource in await self.triggers.table.all():
            if resource.get("status") != "active" or not resource.get("next_run_time"):
                continue
            due = cron.parse_time(resource["next_run_time"])
            if due > moment:
                soonest = due if soonest is None or due < soonest else soonest
                continue
            # Due, or missed (perhaps many times): one execution for the latest fire time.
            scheduled = cron.last_at_or_before(resource["schedule"], resource["time_zone"], moment)
            nxt = await self._advance(str(resource["id"]), moment)
            if nxt is None:
                continue  # paused or deleted since it was read: no fire
            soonest = nxt if soonest is None or nxt < soonest else soonest
            try:
                await self.triggers.fire(resource, max(scheduled, due))
                self.fired += 1
            except Exception:
                log.exception("trigger %s could not fire", resource.get("id"))
        if soonest is None:
            return None
        return max(0.0, (soonest - self.clock()).total_seconds())

    async def _advance(self, trigger_id: str, moment: dt.datetime) -> dt.datetime | None:
        """Plan the trigger's next fire after ``moment`` (before this one runs)."""
        async with self.triggers.lock:
            resource = await self.triggers.table.get(trigger_id)
            if resource is None or resource.get("status") != "active":
                return None
            nxt = cron.next_after(resource["schedule"], resource["time_zone"], moment)
            resource["next_run_time"] = cron.rfc3339(nxt)
            await self.triggers.table.update(trigger_id, resource)
            return nxt

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.tick()
            except Exception:
                log.exception("the scheduler's tick failed")
                wait = MAX_SLEEP_SECONDS
            timeout = MAX_SLEEP_SECONDS if wait is None else min(wait, MAX_SLEEP_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.01))
