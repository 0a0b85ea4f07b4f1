"""The Runs dock's summary line: how many runs are running, queued, waiting for the user.

The engine runs at most ``--max-background-runs`` background runs at once; later ones wait
``queued``. With one slot and ``--inject-fault stall`` (runs never finish by themselves) the
second run stays queued until the first is cancelled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from support.engine_client import scripted_engine
from workbench.core.approvals import AllowList
from workbench.core.connection import Connection
from workbench.core.history import HistoryStore
from workbench.core.profiles import default_profiles
from workbench.core.run_records import PendingCall, RunRecord
from workbench.core.tasks import TaskManager
from workbench.ui.runs.controller import RunsController
from workbench.ui.runs.dock import RunsDock, summary_words
from workbench.ui.runs.notifier import Notifier


@pytest.fixture
async def one_slot(tmp_path: Path) -> AsyncIterator[Connection]:
    flags = ("--inject-fault", "stall", "--max-background-runs", "1")
    async with scripted_engine(tmp_path / "engine", *flags) as client:
        yield Connection(default_profiles()[0], client)


def _shown(dock: RunsDock) -> str:
    return dock.summary.text() if dock.summary.isVisibleTo(dock) else ""


def test_summary_words_count_only_what_is_still_going_on() -> None:
    def run(status: str, **kw: Any) -> RunRecord:
        return RunRecord(id=status + str(kw), profile_id="p", target="m", status=status, **kw)

    waiting = run("requires_action", pending=[PendingCall(call_id="c", name="f")])
    runs = [run("in_progress"), run("in_progress", stalled=True), run("queued"), waiting]
    runs += [run("completed"), run("failed"), run("cancelled")]
    assert summary_words(runs) == "2 running (1 stalled) · 1 queued · 1 needs you"
    assert summary_words(runs[4:]) == ""
    assert summary_words([]) == ""


async def test_runs_dock_summary_follows_running_and_queued_runs(
    qtbot: QtBot, one_slot: Connection, tmp_path: Path, until: Any
) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    dock = RunsDock()
    qtbot.addWidget(dock)
    dock.show()
    ctl = RunsController(
        tmp_path / "runs.json",
        history,
        AllowList(tmp_path / "approvals.json"),
        TaskManager(),
        dock,
        Notifier(),
        lambda: one_slot,
        stall_limit=600,
    )
    try:
        assert _shown(dock) == "" and dock.empty.isVisibleTo(dock)
        first = ctl.launch({"model": "scripted", "input": "one"}, title="first")
        await until(lambda: _shown(dock) == "1 running", what="one run running")
        ctl.launch({"model": "scripted", "input": "two"}, title="second")
        await until(lambda: _shown(dock) == "1 running · 1 queued", what="the second queued")
        dock.select_run(first)
        dock.cancel_button.click()
        # The slot frees: the queued run starts.
        await until(lambda: _shown(dock) == "1 running", what="the queued run started")
        dock.table.selectRow(0)
        dock.cancel_button.click()
        await until(lambda: _shown(dock) == "", what="the summary hidden")
        assert dock.model.rowCount() == 2
    finally:
        ctl.shutdown()
        history.close()
