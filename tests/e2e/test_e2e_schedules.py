"""A scheduled run in the real window against the real engine (scripted backend): made in
the Schedules dock, run from it, followed in Runs, a desktop notification when it ends, its
transcript opened from the executions list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.ui.main_window import MainWindow


async def test_a_scheduled_run_joins_runs_and_notifies(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    try:
        dock = w.docks.schedules_dock
        await until(lambda: dock.agent.count() > 0, what="the agents offered")
        dock.name.setText("Nightly summary")
        dock.agent.setCurrentText("antigravity-preview-05-2026")
        dock.prompt.setPlainText("[[text: the nightly summary is ready]]")
        dock.schedule.setCurrentText("0 2 * * *")
        dock.zone.setCurrentText("UTC")
        dock.update_preview()
        assert dock.cron_preview.text().startswith("Runs every day at 02:00 (UTC)")
        dock.create_button.click()
        await until(lambda: dock.triggers.rowCount() == 1, what="the schedule listed")
        dock.triggers.selectRow(0)
        dock.run_button.click()
        runs = w.docks.runs
        await until(lambda: runs.tracker.runs, what="the run in the Runs dock")
        (run,) = runs.tracker.runs.values()
        assert run.title == "⏰ Nightly summary"
        await until(lambda: run.status == "completed" and run.ended is not None, what="the end")
        sent = [(k, m) for r, k, m in w.docks.notifier.sent if r == run.id]
        assert sent == [("finished", "⏰ Nightly summary: finished")]
        await until(
            lambda: (
                dock.executions.rowCount() == 1 and dock.executions.item(0, 1).text() == "completed"
            ),
            what="the execution listed",
        )
        opened: list[tuple[str, str]] = []
        runs.transcript_requested.connect(lambda s, i: opened.append((s, i)))
        dock.executions.cellDoubleClicked.emit(0, 0)
        await until(lambda: opened, what="the transcript requested")
        assert opened[0][1] == run.interaction_id
        await until(lambda: w.controller.session_id == opened[0][0], what="the session shown")
    finally:
        await w.controller.shutdown(stop_engine=True)
