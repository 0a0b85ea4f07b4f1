"""Render the Deep Research panel, a cited report and a citation opened in Sandbox files to
docs/screenshots/ (offscreen or Xvfb).

Usage: ``.venv/bin/python scripts/screenshots_research.py`` — starts a scripted local engine
in a temporary home; the scripted model's ``[[reply …]]`` directives fix the research stages.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HOME = tempfile.mkdtemp(prefix="wb-shots-")
os.environ["WORKBENCH_HOME"] = HOME

import qasync  # noqa: E402
from PySide6.QtCore import QUrl  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from workbench.app import prepare  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ACME = (
    "# Acme Corporation\n\nAcme Corporation was founded in 1987 in Tucson by Ada Ruiz.\n"
    "Its first product was a brass valve.\n\nIn 2020 Acme moved its headquarters to Denver.\n"
)
QUESTION = (
    "When was Acme founded and how many units did the north region sell? "
    "[[reply Stage: plan => How many units did the north region sell?]] "
    "[[reply answer: When was Acme founded => Acme was founded in 1987 [2].]] "
    "[[reply answer: How many units => The north region sold 120 units [1].]] "
    "[[reply Stage: answer => Acme was founded in 1987 [2], and the north region sold 120 "
    "units [1].]]"
)


async def until(cond, limit: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise TimeoutError(str(cond))
        await asyncio.sleep(0.05)


async def main(w: MainWindow) -> None:
    await w.start()
    folder = Path(HOME) / "material"
    folder.mkdir()
    (folder / "acme.md").write_text(ACME)
    (folder / "sales.csv").write_text("region,units\nnorth,120\nsouth,95\neast,40\n")
    research = w.docks.research
    dock = research.dock
    dock.show()
    dock.raise_()
    dock.question.setPlainText(QUESTION)
    dock.add_local(folder, folder=True)
    dock.urls.setPlainText("https://example.org/acme-history")
    dock.start_button.click()
    tracker = w.docks.runs.tracker
    await until(lambda: any(r.plan for r in tracker.records()))
    run = next(r for r in tracker.records() if r.plan)
    await until(lambda: dock.plan_run_id == run.id)
    await asyncio.sleep(0.3)
    dock.setFloating(True)
    dock.resize(560, 940)
    await asyncio.sleep(0.4)
    dock.grab().save(str(OUT / "research-plan.png"))
    dock.setFloating(False)
    dock.confirm_button.click()
    await until(lambda: len(run.interaction_ids) == 2 and run.ended is not None)
    w.docks.runs.open_transcript(run.id)
    await until(lambda: len(w.transcript.entries()) == 2)
    w.transcript.flush()
    key = next(iter(w.transcript._state.citations))
    w.transcript._on_link(QUrl(f"wb:cite/{key}"))
    await until(lambda: w.docks.files_dock.preview.kind == "cited")
    w.docks.runs_dock.select_run(run.id)
    w.docks.files_dock.raise_()
    await until(lambda: w.docks.files_dock.model.rowCount() > 0)
    w.docks.research.dock.raise_()
    await asyncio.sleep(0.5)
    w.transcript.flush()
    bar = w.transcript.verticalScrollBar()
    bar.setValue(bar.maximum())
    await asyncio.sleep(0.3)
    w.grab().save(str(OUT / "research-report.png"))
    await w.controller.shutdown(stop_engine=True)


if __name__ == "__main__":
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    paths, settings, history, secrets = prepare(backend="scripted")
    window = MainWindow(paths, settings, history, secrets)
    window.resize(1400, 900)
    window.show()
    with loop:
        loop.run_until_complete(main(window))
    history.close()
    print("saved to", OUT)
