"""Render the Runs, Sandbox files and Agents docks to docs/screenshots/ (offscreen or Xvfb).

Usage: ``.venv/bin/python scripts/screenshots_docks.py`` — starts a scripted local engine
in a temporary home, plus the test suite's fake server for a sandbox to browse.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HOME = tempfile.mkdtemp(prefix="wb-shots-")
os.environ["WORKBENCH_HOME"] = HOME

from PySide6.QtCore import QBuffer, QIODevice  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402

from support.fake_server import FakeServer  # noqa: E402
from support.shots import run_in_window, until  # noqa: E402
from workbench.client import Client  # noqa: E402
from workbench.core.agents import Skill  # noqa: E402
from workbench.core.connection import Connection  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def chart_png() -> bytes:
    image = QImage(360, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    for i, h in enumerate((60, 110, 90, 150, 130)):
        p.fillRect(30 + i * 64, 180 - h, 44, h, QColor("#4c8bf5"))
    p.end()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(buf.data().data())


async def main(w: MainWindow) -> None:
    await w.start()
    runs = w.docks.runs
    # --- runs: one finished, one waiting for approval, one stopped by the budget, one live
    done = runs.launch(
        {"model": "scripted", "input": "[[text: Quarterly summary ready.]]"},
        title="Summarise Q3 sales",
    )
    await until(lambda: runs.tracker.get(done).ended is not None)
    ask = runs.launch(
        {
            "model": "scripted",
            "input": '[[call get_weather {"city": "Oslo", "units": "metric"}]]',
            "tools": [
                {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
            ],
        },
        title="Plan the Oslo trip",
    )
    await until(lambda: runs.tracker.get(ask).needs_you)
    w.docks.runs_dock.budget.setValue(40)
    cap = runs.launch(
        {"model": "scripted", "input": "[[tokens: 400, 0.01]]"}, title="Draft the long report"
    )
    await until(lambda: runs.tracker.get(cap).ended is not None, 30)
    w.docks.runs_dock.budget.setValue(0)
    live = runs.launch(
        {"model": "scripted", "input": "[[tokens: 400, 0.08]]"}, title="Translate the handbook"
    )
    await until(lambda: runs.tracker.get(live).tokens > 25)
    w.docks.runs_dock.select_run(ask)
    await asyncio.sleep(0.3)

    # --- agents: a definition with a skill and data
    agents = w.docks.agents
    w.docks.agents_dock.new_button.click()
    form = w.docks.agents_dock.form
    form.name.setText("data-analyst")
    form.description.setText("Turns spreadsheets into short reports with charts")
    form.model.setText("gemini-3.7-flash")
    form.budget.setValue(200000)
    form.system.setPlainText("You are a careful data analyst. Cite the numbers you use.")
    form.instructions.edit.setPlainText(
        "# Data analyst\n\nAlways plot with matplotlib and save charts under `workspace/out/`.\n"
    )
    form.builtin["code_execution"].setChecked(True)
    form.builtin["google_search"].setChecked(True)
    form.functions.set_functions(
        [
            {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ]
    )
    agents.save_now()
    defn = agents.current
    defn.skills.append(
        Skill(
            "slide-maker",
            "---\nname: slide-maker\ndescription: HTML slide "
            "decks from a report\n---\n\n# Slide maker\n\n1. One idea per "
            "slide.\n2. Use the charts in `workspace/out/`.\n",
        )
    )
    agents.library.save(defn)
    agents.open("data-analyst")
    csv = Path(HOME) / "sales.csv"
    csv.write_text(
        "month,region,total\n"
        + "".join(
            f"2026-{m:02d},{r},{100 + m * 7 + len(r)}\n"
            for m in range(1, 10)
            for r in ("north", "south")
        )
    )
    agents.add_data(csv)
    agents.add_data(None, text="Fiscal year starts in April.\n")
    w.docks.agents_dock.publish_id.setText("data-analyst")
    w.docks.agents_dock.prompt.setText("Chart monthly totals per region and write a summary")
    w.docks.agents_dock.show()
    w.docks.agents_dock.raise_()

    # --- files: a sandbox on the fake server
    with FakeServer() as server:
        md = (
            "# Q3 sales report\n\nTotals grew **12 %** over Q2.\n\n| region | total |\n"
            "|---|---|\n| north | 1,204 |\n| south | 1,131 |\n"
        )
        sources = [
            {"type": "inline", "target": ".agents/AGENTS.md", "content": "# Data analyst\n"},
            {
                "type": "inline",
                "target": ".agents/skills/slide-maker/SKILL.md",
                "content": "---\nname: slide-maker\n---\n",
            },
            {"type": "inline", "target": "workspace/sales.csv", "content": csv.read_text()},
            {"type": "inline", "target": "workspace/report.md", "content": md},
            {
                "type": "inline",
                "target": "workspace/analyse.py",
                "content": "import pandas as pd\n\ndf = pd.read_csv('sales.csv')\n",
            },
            {
                "type": "inline",
                "target": "workspace/out/chart.png",
                "content": base64.b64encode(chart_png()).decode(),
                "encoding": "base64",
            },
        ]
        client = Client(server.url, api_key="k")
        env = (await client.environments.create({"sources": sources})).id or ""
        real = w.controller.connection
        w.controller.connection = Connection(w.settings.profile(), client)
        files = w.docks.files_dock
        w.docks.files.set_environment(env, "from the selected run")
        await until(lambda: files.model.rowCount() == 2)
        ws = files.model.index(1, 0)
        files.tree.expand(ws)
        await until(lambda: files.model.rowCount(ws) == 4)
        files.tree.expand(files.model.index(0, 0, ws))
        files.tree.setCurrentIndex(files.model.index(2, 0, ws))
        await until(lambda: files.preview.kind == "markdown")
        files.resize(980, 420)
        files.setFloating(True)
        files.resize(980, 420)
        await asyncio.sleep(0.3)
        OUT.mkdir(parents=True, exist_ok=True)
        files.grab().save(str(OUT / "files.png"))
        files.tree.setCurrentIndex(files.model.index(3, 0, ws))
        await until(lambda: files.preview.kind == "csv")
        await asyncio.sleep(0.2)
        files.grab().save(str(OUT / "files-csv.png"))
        files.setFloating(False)
        w.controller.connection = real
        await client.aclose()

    rd = w.docks.runs_dock
    rd.setFloating(True)
    rd.resize(980, 600)
    await asyncio.sleep(0.4)
    rd.grab().save(str(OUT / "runs.png"))
    ad = w.docks.agents_dock
    ad.setFloating(True)
    ad.resize(1240, 900)
    await asyncio.sleep(0.4)
    ad.grab().save(str(OUT / "agents.png"))
    ad.setFloating(False)
    rd.setFloating(False)
    await w.controller.shutdown(stop_engine=True)


if __name__ == "__main__":
    run_in_window(main, OUT)
