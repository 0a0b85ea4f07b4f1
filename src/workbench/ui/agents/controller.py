"""Keeps the agents panel and the agent folders in sync; runs and publishes agents.

Form edits are saved to the folder after a short pause; the folder is checked every second
and edits made on disk (another editor, ``git checkout``) are loaded into the form.

Signals:
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

from workbench.core.agent_check import run_body, validate
from workbench.core.agent_library import AgentExists, AgentLibrary, publish
from workbench.core.agents import (
    AgentDefinition,
    AgentError,
    Problem,
    add_data,
    fingerprint,
    read_data_text,
    remove_data,
    write_data_text,
)
from workbench.core.connection import Connection
from workbench.core.errors import explain
from workbench.core.run_records import run_title
from workbench.core.tasks import TaskManager

from .panel import AgentsDock

SAVE_MS = 500
POLL_MS = 1000


class AgentsController(QObject):
    """The agent library behind the panel."""

    status_message = Signal(str)

    def __init__(
        self,
        library: AgentLibrary,
        dock: AgentsDock,
        tasks: TaskManager,
        connection: Callable[[], Connection | None],
        launch: Callable[..., str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library, self.dock, self.tasks = library, dock, tasks
        self._connection, self._launch = connection, launch
        self.current: AgentDefinition | None = None
        self._fp: tuple[tuple[str, int, int], ...] = ()
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_MS)
        self._save_timer.timeout.connect(self.save_now)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.check_disk)
        form = dock.form
        dock.agent_selected.connect(self.open)
        dock.new_requested.connect(self.new_agent)
        dock.duplicate_requested.connect(self.duplicate)
        dock.delete_requested.connect(self.delete)
        dock.import_requested.connect(lambda p: self.import_folder(Path(p)))
        dock.export_requested.connect(lambda n, p: self.export_folder(n, Path(p)))
        dock.run_requested.connect(self.run)
        dock.publish_requested.connect(self.publish)
        form.changed.connect(self._save_timer.start)
        form.skill_add_requested.connect(self.add_skill)
        form.skill_remove_requested.connect(self.remove_skill)
        form.data_add_requested.connect(self.pick_data)
        form.data_remove_requested.connect(self.remove_data)
        form.target_edited.connect(self.set_target)
        form.data_selected.connect(self.show_data)
        form.inline_text_edited.connect(self.set_inline_text)
        self.refresh()
        self._poll.start()

    # --- list and selection --------------------------------------------------------------

    def refresh(self, select: str = "") -> None:
        names = self.library.names()
        want = select or (self.current.name if self.current else "") or (names[0] if names else "")
        self.dock.set_names(names, want)
        if not names:
            self.current = None
            self.dock.enable_actions(False)

    def open(self, name: str) -> None:
        if self._save_timer.isActive():
            self.save_now()
        if not name:
            return
        try:
            defn = self.library.load(name)
        except AgentError as exc:
            self.dock.set_notice(str(exc), problem=True)
            return
        self.current = defn
        self._show(defn)
        self.dock.publish_id.setText(defn.manifest.published_id or defn.name)
        self.dock.set_notice("")

    def _show(self, defn: AgentDefinition) -> None:
        self.dock.enable_actions(True)
        self.dock.form.load(defn)
        self.dock.form.show_problems(validate(defn))
        self.dock.folder_label.setText(str(defn.folder or ""))
        self._fp = fingerprint(defn.folder) if defn.folder else ()

    # --- saving and syncing --------------------------------------------------------------

    def edited(self) -> AgentDefinition | None:
        """The current definition with the form's values applied (not saved)."""
        if self.current is None:
            return None
        defn = copy.deepcopy(self.current)
        self.dock.form.apply_to(defn)
        return defn

    def save_now(self) -> bool:
        self._save_timer.stop()
        defn = self.edited()
        if defn is None:
            return False
        old = self.current.name if self.current is not None else defn.name
        if defn.name != old and defn.instructions.startswith(f"# {old}\n"):
            # AGENTS.md still has the heading it was made with: it follows the rename.
            defn.instructions = f"# {defn.name}\n" + defn.instructions[len(old) + 3 :]
            self.dock.form.instructions.set_text(defn.instructions)
        problems = validate(defn)
        self.dock.form.show_problems(problems)
        if any(p.field == "name" for p in problems):
            return False  # never write a folder under an unusable name
        try:
            self.library.save(defn)
        except (AgentError, OSError) as exc:
            self.dock.form.show_problems([*problems, _name_problem(str(exc))])
            return False
        self.current = defn
        self._fp = fingerprint(defn.folder) if defn.folder else ()
        self.dock.folder_label.setText(str(defn.folder or ""))
        if self.dock.current_name() != defn.name:  # renamed: the folder moved
            self.refresh(defn.name)
        return True

    def check_disk(self) -> None:
        """Load edits made on disk; notice agents added or removed there."""
        names = self.library.names()
        if names != self.dock.model.names():
            self.refresh()
        defn = self.current
        if defn is None or defn.folder is None or self._save_timer.isActive():
            return
        if not defn.folder.exists():
            self.current = None
            self.refresh()
            return
        fp = fingerprint(defn.folder)
        if fp == self._fp:
            return
        try:
            fresh = self.library.load(defn.folder.name)
        except AgentError as exc:
            self._fp = fp
            self.dock.set_notice(
                f"The folder changed on disk but cannot be read: {exc}", problem=True
            )
            return
        self.current = fresh
        self._show(fresh)
        self.status_message.emit(f"“{fresh.name}” changed on disk; the form was updated.")

    # --- library actions -----------------------------------------------------------------

    def new_agent(self) -> None:
        self.save_now()
        defn = self.library.create()
        self.current = defn
        self.refresh(defn.name)
        self.open(defn.name)
        self.dock.form.name.setFocus()
        self.dock.form.name.selectAll()

    def duplicate(self, name: str) -> None:
        self.save_now()
        defn = self.library.duplicate(name)
        self.refresh(defn.name)
        self.open(defn.name)
        self.status_message.emit(f"Duplicated as “{defn.name}”.")

    def delete(self, name: str) -> None:
        self._save_timer.stop()
        self.library.delete(name)
        if self.current is not None and self.current.name == name:
            self.current = None
        self.refresh()
        current = self.dock.current_name()
        if current:
            self.open(current)
        self.status_message.emit(f"Deleted “{name}”.")

    def import_folder(self, folder: Path) -> None:
        try:
            defn = self.library.import_folder(folder)
        except (AgentError, OSError) as exc:
            self.dock.set_notice(f"Could not import {folder}: {exc}", problem=True)
            return
        self.refresh(defn.name)
        self.open(defn.name)
        self.dock.set_notice(f"Imported “{defn.name}”.")

    def export_folder(self, name: str, destination: Path) -> None:
        self.save_now()
        try:
            dest = self.library.export_folder(name, destination)
        except (AgentError, OSError) as exc:
            self.dock.set_notice(f"Could not export: {exc}", problem=True)
            return
        self.dock.set_notice(f"Exported to {dest}.")

    # --- skills and data -----------------------------------------------------------------

    def add_skill(self, name: str = "new-skill") -> None:
        defn = self.edited()
        if defn is None:
            return
        skill = self.library.add_skill(defn, name)
        self.current = defn
        self.dock.form.load(defn)
        matches = [
            i
            for i in range(self.dock.form.skill_list.count())
            if self.dock.form.skill_list.item(i).text() == skill.name
        ]
        if matches:
            self.dock.form.skill_list.setCurrentRow(matches[0])
        self.save_now()

    def remove_skill(self, name: str) -> None:
        defn = self.edited()
        if defn is None:
            return
        defn.skills = [s for s in defn.skills if s.name != name]
        self.current = defn
        self.dock.form.load(defn)
        self.save_now()

    def pick_data(self, kind: str) -> None:
        if kind == "inline":
            self.add_data(None)
            return
        dialog = QFileDialog(self.dock, "Add a folder" if kind == "folder" else "Add files")
        if kind == "folder":
            dialog.setFileMode(QFileDialog.FileMode.Directory)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.filesSelected.connect(self._add_paths)
        self.dock.dialog = dialog
        dialog.open()

    def _add_paths(self, paths: list[str]) -> None:
        for path in paths:
            self.add_data(Path(path))

    def add_data(self, source: Path | None, text: str = "Notes for the agent.\n") -> None:
        if not self.save_now() or self.current is None:
            return
        name = ""
        if source is None:
            taken = {Path(d.path).name for d in self.current.manifest.data}
            name, n = "notes.txt", 2
            while name in taken:
                name, n = f"notes-{n}.txt", n + 1
        try:
            add_data(self.current, source, text=text, name=name)
        except (AgentError, OSError) as exc:
            self.dock.set_notice(f"Could not add data: {exc}", problem=True)
            return
        self.library.save(self.current)
        self._show(self.current)

    def remove_data(self, path: str) -> None:
        if not self.save_now() or self.current is None:
            return
        remove_data(self.current, path)
        self.library.save(self.current)
        self._show(self.current)

    def show_data(self, path: str) -> None:
        defn = self.current
        item = next((d for d in defn.manifest.data if d.path == path), None) if defn else None
        if defn is None or item is None or item.kind != "inline":
            self.dock.form.show_inline(path, None)
            return
        self.dock.form.show_inline(path, read_data_text(defn, path))

    def set_inline_text(self, path: str, text: str) -> None:
        if self.current is None:
            return
        try:
            write_data_text(self.current, path, text)
        except (AgentError, OSError) as exc:
            self.dock.set_notice(f"Could not save {path}: {exc}", problem=True)
            return
        self._fp = fingerprint(self.current.folder) if self.current.folder else ()

    def set_target(self, path: str, target: str) -> None:
        if not self.save_now() or self.current is None:
            return
        for item in self.current.manifest.data:
            if item.path == path:
                item.target = target
        self.library.save(self.current)
        self._show(self.current)

    # --- run and publish -----------------------------------------------------------------

    def run(self, name: str, prompt: str) -> str:
        """Run the agent in the background with its definition inline; returns the run id."""
        if not self.save_now() or self.current is None or self.current.name != name:
            self.dock.set_notice("Fix the agent's name first.", problem=True)
            return ""
        problems = validate(self.current)
        if problems:
            self.dock.set_notice(f"Fix the form first: {problems[0].message}", problem=True)
            return ""
        run_id = self._launch(
            run_body(self.current, prompt), title=run_title(prompt), agent_name=name
        )
        if run_id:
            self.dock.set_notice(
                f"“{name}” is running in the background — see the Runs dock.", fleeting=True
            )
            self.dock.prompt.clear()
        else:
            self.dock.set_notice("Not connected: the agent cannot run now.", problem=True)
        return run_id

    def set_models(self, models: list[str]) -> None:
        """The current server's models, for the form's Model field."""
        self.dock.form.set_models(models)

    def publish(self, name: str, agent_id: str, recreate: bool = False) -> None:
        if not self.save_now() or self.current is None:
            return
        conn = self._connection()
        if conn is None:
            self.dock.set_notice("Not connected: cannot publish now.", problem=True)
            return
        self.dock.set_notice(f"Publishing “{agent_id}”…")
        self.tasks.start("publish-agent", self._publish(conn, self.current, agent_id, recreate))

    async def _publish(
        self, conn: Connection, defn: AgentDefinition, agent_id: str, recreate: bool
    ) -> None:
        try:
            published = await publish(conn.client, defn, agent_id, recreate=recreate)
        except AgentExists as exc:
            self.dock.set_notice(str(exc), problem=True, offer_recreate=True)
            return
        except Exception as exc:
            self.dock.set_notice(
                f"Publishing failed: {explain(exc, conn.client.base_url)}", problem=True
            )
            return
        defn.manifest.published_id = published
        self.library.save(defn)
        if self.current is not None and self.current.name == defn.name:
            self._show(defn)
        self.dock.set_notice(f"Published as “{published}” on {conn.profile.name}.")


def _name_problem(message: str) -> Problem:
    return Problem("name", message)
