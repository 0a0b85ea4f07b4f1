"""Issue 7 item 7: 50 concurrent background runs, tracked in the Runs dock, wave after wave.

The window re-uses an engine started with ``--max-background-runs 50`` on its data dir, so
all 50 runs of a wave stream at once (40 tokens each, 20 ms apart: ~2,500 events/s into the
app). A 5 ms timer on the GUI thread measures how late it fires (``support/load_runs.py``).

CI-sized (4 short waves). This test asserts behaviour only: every run completes, is listed
once in the Runs dock and ends "finished", and the GUI thread kept handling its timer during
every wave. How long the window stalled and how the engine's memory levels off are timings
and depend on how busy the machine is: ``benchmarks/load_runs.py`` measures them against an
idle baseline of the same run, and docs/reliability.md records the figures (issue 14 item 8:
a threshold here failed on a busy fresh machine).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.load_runs import run_waves
from support.rel_engine import Engine
from workbench.app import settle_memory
from workbench.ui.main_window import MainWindow


@pytest.mark.timeout(240)
async def test_fifty_concurrent_runs_keep_the_window_responsive(
    local_window: Callable[..., MainWindow], _workbench_home: Path, until: Any
) -> None:
    engine = Engine(_workbench_home / "data" / "engine", "--max-background-runs", "50")
    engine.start()
    try:
        w = local_window()
        await w.start()
        conn = w.controller.connection
        assert conn is not None and conn.engine_info is not None
        assert conn.engine_info.pid == engine.pid  # the window re-used the engine
        settle_memory()  # as workbench.app.main does once the window is up
        waves = await run_waves(w, engine, waves=4, runs=50, tokens=40, gap=0.02)
        print(json.dumps([wave.__dict__ for wave in waves], indent=1))  # figures, not checks
        for wave in waves:
            assert wave.completed == 50, wave
            assert wave.rows == 50 * wave.number  # every run tracked in the Runs dock
            assert wave.stalls["ticks"] > 0, wave  # the GUI thread kept serving its timer
            assert wave.engine_rss_mib > 0, wave  # the engine is alive after the wave
        # The dock shows them all, finished, with their tokens.
        model = w.docks.runs_dock.model
        assert model.rowCount() == 200
        statuses = {str(model.index(row, 2).data()) for row in range(model.rowCount())}
        assert statuses == {"finished"}
        await w.controller.shutdown(stop_engine=False)
    finally:
        engine.stop()
