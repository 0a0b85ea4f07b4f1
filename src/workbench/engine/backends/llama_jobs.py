"""The llama worker's queue: foreground work first, then background work, each in arrival order.

A chat turn must not wait behind background agent runs. Jobs carry a priority
(``base.FOREGROUND`` or ``base.BACKGROUND``, from the context the generation was started in);
the worker always takes the most urgent job that waits, oldest first among equals. A job that
is already generating can also give way between two tokens: ``urgent`` tells it that a more
urgent job of the same model waits, and ``take_urgent`` hands that job over (``llama.py``
saves the running generation's KV cells, runs it, restores them and goes on).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.engine.backends.base import FOREGROUND


@dataclass(eq=False)
class Job:
    """One unit of work for the worker thread: ``run`` is called there unless cancelled.

    ``model`` is the model id the job needs (None: whichever is loaded); only a job of the
    loaded model may interrupt a running generation.
    """

    run: Callable[[Job], None]
    priority: int = FOREGROUND
    model: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)


class JobQueue:
    """A thread-safe priority queue of ``Job`` (``None`` is the stop marker, taken last)."""

    STOP_PRIORITY = 1 << 30

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Job | None]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()

    def put(self, job: Job | None) -> None:
        rank = self.STOP_PRIORITY if job is None else job.priority
        with self._ready:
            heapq.heappush(self._heap, (rank, next(self._order), job))
            self._ready.notify()

    def get(self) -> Job | None:
        """The most urgent job, waiting for one."""
        with self._ready:
            while not self._heap:
                self._ready.wait()
            return heapq.heappop(self._heap)[2]

    def get_nowait(self) -> Job | None:
        """The most urgent job; raises ``LookupError`` when none waits."""
        with self._ready:
            if not self._heap:
                raise LookupError("no job waits")
            return heapq.heappop(self._heap)[2]

    def urgent(self, priority: int, model: str) -> bool:
        """Whether a job more urgent than ``priority`` waits for ``model`` (cheap: no lock
        for the common empty case; a stale answer only delays the switch by one token)."""
        heap = self._heap
        if not heap:
            return False
        with self._ready:
            return any(
                job is not None and rank < priority and job.model in (None, model)
                for rank, _, job in self._heap
            )

    def take_urgent(self, priority: int, model: str) -> Job | None:
        """Remove and return the most urgent waiting job above ``priority`` for ``model``."""
        with self._ready:
            chosen: tuple[int, int, Job | None] | None = None
            for item in self._heap:
                rank, _, job = item
                if job is None or rank >= priority or job.model not in (None, model):
                    continue
                if chosen is None or item[:2] < chosen[:2]:
                    chosen = item
            if chosen is None:
                return None
            self._heap.remove(chosen)
            heapq.heapify(self._heap)
            return chosen[2]

    def waiting(self) -> dict[int, int]:
        """How many jobs wait at each priority."""
        with self._ready:
            counts: dict[int, int] = {}
            for rank, _, job in self._heap:
                if job is not None:
                    counts[rank] = counts.get(rank, 0) + 1
            return counts
