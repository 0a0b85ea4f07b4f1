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
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HOME = tempfile.mkdtemp(prefix="wb-shots-")
os.environ["WORKBENCH_HOME"] = HOME

from PySide6.QtCore import QUrl  # noqa: E402

from support.research_material import QUESTION, write_material  # noqa: E402
from support.shots import run_in_window, until  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
LIMIT = 30.0  # seconds for each stage of the research run


async def main(w: MainWindow) -> None:
    await w.start()
    folder = write_material(Path(HOME))
    research = w.docks.research
    dock = research.dock
    dock.show()
    dock.raise_()
    dock.question.setPlainText(QUESTION)
    dock.add_local(folder, folder=True)
    dock.urls.setPlainText("https://example.org/acme-history")
    dock.start_button.click()
    tracker = w.docks.runs.tracker
    await until(lambda: any(r.plan for r in tracker.records()), LIMIT)
    run = next(r for r in tracker.records() if r.plan)
    await until(lambda: dock.plan_run_id == run.id, LIMIT)
    await asyncio.sleep(0.3)
    dock.setFloating(True)
    dock.resize(560, 940)
    await asyncio.sleep(0.4)
    dock.grab().save(str(OUT / "research-plan.png"))
    dock.setFloating(False)
    dock.confirm_button.click()
    await until(lambda: len(run.interaction_ids) == 2 and run.ended is not None, LIMIT)
    w.docks.runs.open_transcript(run.id)
    await until(lambda: len(w.transcript.entries()) == 2, LIMIT)
    w.transcript.flush()
    key = next(iter(w.transcript._state.citations))
    w.transcript._on_link(QUrl(f"wb:cite/{key}"))
    await until(lambda: w.docks.files_dock.preview.kind == "cited", LIMIT)
    w.docks.runs_dock.select_run(run.id)
    w.docks.files_dock.raise_()
    await until(lambda: w.docks.files_dock.model.rowCount() > 0, LIMIT)
    w.docks.research.dock.raise_()
    await asyncio.sleep(0.5)
    w.transcript.flush()
    bar = w.transcript.verticalScrollBar()
    bar.setValue(bar.maximum())
    await asyncio.sleep(0.3)
    w.grab().save(str(OUT / "research-report.png"))
    await w.controller.shutdown(stop_engine=True)


if __name__ == "__main__":
    run_in_window(main, OUT)
