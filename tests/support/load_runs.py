"""Waves of concurrent background runs through the real window, with the UI's stalls measured.

Used by ``tests/reliability/gui/test_rel_gui_load.py`` (CI size) and ``benchmarks/load_runs.py``
(the figures in docs/reliability.md). The engine is started by the caller with
``--max-background-runs N`` on the app's own engine data dir, so the window re-uses it (as it
re-uses an engine left running by an earlier session) and every run really is concurrent.

Each wave launches ``runs`` background runs from the Runs dock at once (each a scripted
stream of ``tokens`` tokens ``gap`` seconds apart), waits until every one has ended, then
reads the engine's resident memory. Meanwhile a 5 ms ``QTimer`` on the GUI thread records how
late each tick fires: the longest lateness is the longest the user could not interact.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QTimer

from support.rel_engine import Engine
from workbench.ui.main_window import MainWindow

TICK_MS = 5


class StallMeter:
    """How late a fast GUI-thread timer fires: each delay is time the event loop was busy."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.stalls: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.stalls = []
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.stalls.append(max(0.0, now - self._last - TICK_MS / 1000))
        self._last = now

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.stalls) or [0.0]
        return {
            "max_ms": round(ordered[-1] * 1000, 1),
            "p99_ms": round(
                ordered[int(len(ordered) * 0.99) - 1 if len(ordered) > 1 else 0] * 1000, 1
            ),
            "over_50ms": sum(1 for s in ordered if s > 0.05),
            "ticks": len(self.stalls),
        }


@dataclass
class Wave:
    number: int
    seconds: float
    stalls: dict[str, float]
    engine_rss_mib: float
    completed: int
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)


async def idle_stalls(seconds: float = 2.0) -> dict[str, float]:
    """The meter's figures with nothing to do: the baseline the waves are divided by.

    On a shared machine the lateness of an idle 5 ms timer is what other processes cost;
    a wave's stalls over this baseline are what the runs cost the window.
    """
    meter = StallMeter()
    meter.start()
    await asyncio.sleep(seconds)
    meter.stop()
    return meter.summary()


async def run_waves(
    w: MainWindow,
    engine: Engine,
    *,
    waves: int,
    runs: int = 50,
    tokens: int = 150,
    gap: float = 0.02,
    limit: float = 120.0,
    forget: bool = False,
) -> list[Wave]:
    """Run the waves; return one :class:`Wave` per wave."""
    meter = StallMeter()
    results: list[Wave] = []
    tracker = w.docks.runs.tracker
    for number in range(1, waves + 1):
        started = time.monotonic()
        meter.start()
        ids = [
            w.docks.runs.launch(
                {
                    "model": "scripted",
                    "input": f"[[tokens: {tokens}, {gap}]] wave {number} run {n}",
                },
                title=f"wave {number} run {n}",
            )
            for n in range(runs)
        ]
        assert all(ids), "not connected"
        deadline = started + limit
        while not all((r := tracker.get(i)) is not None and r.ended is not None for i in ids):
            if time.monotonic() > deadline:
                raise AssertionError(f"wave {number} did not finish in {limit} s")
            await asyncio.sleep(0.05)
        meter.stop()
        seconds = time.monotonic() - started
        await asyncio.sleep(0.5)  # let the engine finish writing the wave's logs
        done = [tracker.get(i) for i in ids]
        completed = sum(
            1 for r in done if r is not None and r.status == "completed" and r.tokens >= tokens
        )
        results.append(
            Wave(
                number,
                round(seconds, 2),
                meter.summary(),
                round(engine.rss_kib() / 1024, 1),
                completed,
                w.docks.runs_dock.model.rowCount(),
            )
        )
        if forget:
            for run_id in ids:
                w.docks.runs.forget(run_id)
    return results
