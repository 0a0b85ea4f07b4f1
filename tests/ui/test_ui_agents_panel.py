"""The Agents panel: the form and the folder stay in sync, validation next to the fields,
library actions, Publish (with recreate on 409) and Run against the fake server."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from support.fake_server import FakeServer
from workbench.client import Client
from workbench.core.agents import DEFAULT_BASE_AGENT
from workbench.core.connection import Connection
from workbench.ui.main_window import MainWindow


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


def _type(qtbot: QtBot, edit: Any, text: str) -> None:
    edit.selectAll()
    qtbot.keyClicks(edit, text)


async def test_define_an_agent_in_the_form(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    tmp_path: Path,
    until: Any,
    qtmodeltester: Any,
) -> None:
    w = make_window()
    docks = w.docks
    agents, panel = docks.agents, docks.agents_dock
    form = panel.form
    root = w.paths.agents_dir
    assert not panel.run_button.isEnabled()  # nothing to run yet
    panel.new_button.click()
    assert panel.current_name() == "new-agent"
    qtmodeltester.check(panel.model)

    _type(qtbot, form.name, "analyst")
    _type(qtbot, form.description, "Reports with charts")
    _type(qtbot, form.model, "gemini-3.7-flash")
    form.budget.setValue(200000)
    form.system.setPlainText("You are a careful analyst.")
    form.instructions.edit.setPlainText("# Analyst\n\nAlways plot with matplotlib.\n")
    form.builtin["code_execution"].setChecked(True)
    form.functions.edit.setPlainText('[{"name": "get_weather", "parameters": {"type": "object"}}]')
    form.functions.validate()
    assert agents.save_now()
    folder = root / "analyst"
    assert not (root / "new-agent").exists()  # renamed with the form
    manifest = tomllib.loads((folder / "agent.toml").read_text())
    assert manifest["description"] == "Reports with charts"
    assert manifest["token_budget"] == 200000
    assert manifest["system_instruction"] == "You are a careful analyst."
    assert (folder / "AGENTS.md").read_text().startswith("# Analyst")
    assert json.loads((folder / "functions.json").read_text())[0]["name"] == "get_weather"
    assert panel.current_name() == "analyst"

    # A skill, edited in the Markdown editor; renaming it in its front matter renames it.
    qtbot.keyClicks(form.skill_name, "new-skill")  # Add skill asks for the name first
    form.skill_add.click()
    assert form.skill_list.currentItem().text() == "new-skill"
    form.skill_editor.edit.setPlainText(
        "---\nname: charts\ndescription: Make charts\n---\n\n# Charts\n\nUse **PNG**.\n"
    )
    assert form.skill_list.currentItem().text() == "charts"
    assert agents.save_now()
    assert (folder / "skills" / "charts" / "SKILL.md").read_text().startswith("---\nname: charts")
    assert not (folder / "skills" / "new-skill").exists()
    form.skill_editor.tabs.setCurrentIndex(1)
    preview = form.skill_editor.preview.toPlainText()
    assert "Make charts" in preview and "**" not in preview

    # A data file: copied under data/, listed with its size and target, target editable.
    csv = tmp_path / "sales.csv"
    csv.write_text("month,total\njan,10\n")
    agents.add_data(csv)
    assert (folder / "data" / "sales.csv").exists()
    model = form.data_model
    qtmodeltester.check(model)
    assert [model.index(0, c).data() for c in range(4)] == [
        "file", "sales.csv", "19 B", "sales.csv",
    ]  # fmt: skip
    model.setData(model.index(0, 3), "workspace/data/sales.csv")
    assert agents.current is not None
    assert agents.current.manifest.data[0].target == "workspace/data/sales.csv"
    manifest = tomllib.loads((folder / "agent.toml").read_text())
    assert manifest["data"][0]["target"] == "workspace/data/sales.csv"

    # Validation errors appear next to the field; a bad name is never written.
    _type(qtbot, form.name, "Bad Name")
    assert not agents.save_now()
    assert not form.errors["name"].isHidden()
    assert "lower-case" in form.errors["name"].text()
    assert folder.exists()
    _type(qtbot, form.name, "analyst")
    form.skill_editor.edit.setPlainText("no front matter at all")
    agents.save_now()
    assert not form.errors["skills"].isHidden()
    form.skill_editor.edit.setPlainText("---\nname: charts\ndescription: Make charts\n---\n")
    model.setData(model.index(0, 3), "/")
    assert "target path" in form.errors["data"].text()
    model.setData(model.index(0, 3), "workspace/data/sales.csv")
    assert agents.save_now()
    assert all(label.isHidden() for label in form.errors.values())

    # Edits on disk show up in the form.
    (folder / "AGENTS.md").write_text("# Changed on disk\n")
    (folder / "data" / "extra.txt").write_text("more")
    agents.check_disk()
    assert form.instructions.text() == "# Changed on disk\n"
    assert model.rowCount() == 2

    # Duplicate, export, import, delete (after confirming).
    panel.duplicate_button.click()
    assert panel.current_name() == "analyst-copy"
    out = tmp_path / "exported"
    out.mkdir()
    agents.export_folder("analyst", out)
    assert (out / "analyst" / "skills" / "charts" / "SKILL.md").exists()
    agents.import_folder(out / "analyst")
    assert panel.model.names() == ["analyst", "analyst-2", "analyst-copy"]
    panel.select("analyst-copy")
    panel.delete_button.click()
    box = panel.dialog
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.Yes).click()
    assert panel.model.names() == ["analyst", "analyst-2"]
    assert not (root / "analyst-copy").exists()
    qtmodeltester.check(panel.model)


async def test_publish_recreate_and_run_inline(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    server: FakeServer,
    until: Any,
) -> None:
    w = make_window()
    agents, panel = w.docks.agents, w.docks.agents_dock
    client = Client(server.url, api_key="k")
    w.controller.connection = Connection(w.settings.profile(), client)
    try:
        panel.new_button.click()
        _type(qtbot, panel.form.name, "helper")
        w.docks.agents.add_skill()
        agents.add_data(None)  # inline text, edited in the form
        assert agents.save_now()
        form = panel.form
        assert form.inline_text.isHidden()
        form.data_view.clicked.emit(form.data_model.index(0, 1))
        assert not form.inline_text.isHidden()
        assert form.inline_text.toPlainText() == "Notes for the agent.\n"
        form.inline_text.setPlainText("Fiscal year starts in April.")
        notes = w.paths.agents_dir / "helper" / "data" / "notes.txt"
        assert notes.read_text() == "Fiscal year starts in April."
        # Reserved prefixes are refused before anything is sent.
        panel.publish_id.setText("gemini-helper")
        panel.publish_button.click()
        await until(lambda: "reserved prefix" in panel.notice.text(), what="refusal")
        assert server.agents == {}
        panel.publish_id.setText("helper")
        panel.publish_button.click()
        await until(lambda: "Published as" in panel.notice.text(), what="publish")
        stored = server.agents["helper"]
        targets = [s["target"] for s in stored["base_environment"]["sources"]]
        assert targets == [
            ".agents/AGENTS.md", ".agents/skills/new-skill/SKILL.md", "notes.txt",
        ]  # fmt: skip
        assert stored["base_agent"] == DEFAULT_BASE_AGENT
        assert stored["base_environment"]["sources"][2]["content"] == notes.read_text()
        assert "helper" in panel.form.published.text()
        # There is no update: a second publish gets 409 and offers to recreate.
        panel.publish_button.click()
        await until(lambda: not panel.recreate_button.isHidden(), what="409")
        assert "already has an agent" in panel.notice.text()
        panel.recreate_button.click()
        await until(lambda: "Published as" in panel.notice.text(), what="recreate")
        assert server.count("DELETE", "agents/helper") == 1

        # Run: the definition goes inline as environment sources, in the background.
        server.agents[DEFAULT_BASE_AGENT] = {"id": DEFAULT_BASE_AGENT}
        panel.run_button.click()
        assert "Type the task" in panel.notice.text()
        panel.prompt.setText("Summarise the notes")
        panel.run_button.click()
        runs = w.docks.runs
        assert "running in the background" in panel.notice.text(), panel.notice.text()
        await until(lambda: w.docks.runs_dock.model.rowCount() == 1, what="the run row")
        run = w.docks.runs_dock.model.run_at(0)
        assert run is not None
        await until(lambda: run.ended is not None, what="the run to end")
        sent = json.loads(server.requests_to("POST", "interactions")[0].body)
        assert sent["agent"] == DEFAULT_BASE_AGENT and sent["background"] is True
        assert sent["agent_config"] == {"type": "antigravity"}
        assert sent["environment"]["type"] == "remote"
        assert len(sent["environment"]["sources"]) == 3
        assert run.agent_name == "helper" and run.title == "Summarise the notes"
        assert runs.tracker.get(run.id) is run
    finally:
        await w.tasks.cancel_all()
        w.controller.connection = None
        await client.aclose()
