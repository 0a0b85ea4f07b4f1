"""The agent form: every field of an agent definition, with its errors next to it.

The form edits a working copy; ``apply_to(defn)`` writes the fields back. Skills and
data sources are changed through requests (the controller touches the files).

Each group box is a section in a module of its own (``identity_section``,
``instructions_section``, ``tools_section``, ``skills_section``, ``data_section``); this
module puts them together: it loads and applies all of them, routes validation problems to
the labels under the fields, lays the groups out in one or two columns, and re-exports the
sections' signals and the widgets the controller and tests reach.

Signals:
    changed(): the user edited a field.
    skill_add_requested(str): add a skill with this (checked) name.
    skill_remove_requested(str)
    data_add_requested(str): "file", "folder" or "inline".
    data_remove_requested(str): a data path.
    target_edited(str, str): data path, new target.
    data_selected(str): the selected data path (the controller shows inline text).
    inline_text_edited(str, str): data path, new text of an inline source.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.agents import AgentDefinition, Problem

from .data_section import DataSection
from .form_section import FormSection
from .identity_section import IdentitySection
from .instructions_section import InstructionsSection
from .skills_section import SkillsSection
from .tools_section import ToolsSection


class AgentForm(QWidget):
    """Name, description, base agent, model, instructions, tools, skills, data, budget."""

    changed = Signal()
    skill_add_requested = Signal(str)
    skill_remove_requested = Signal(str)
    data_add_requested = Signal(str)
    data_remove_requested = Signal(str)
    target_edited = Signal(str, str)
    data_selected = Signal(str)
    inline_text_edited = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._outer = outer
        self._columns = (QVBoxLayout(), QVBoxLayout())
        for column in self._columns:
            outer.addLayout(column, 1)
        self._wide: bool | None = None

        self.identity_box = ident = IdentitySection()
        self.instructions_box = instr = InstructionsSection()
        self.tools_box = tools = ToolsSection()
        self.skills_box = skills = SkillsSection()
        self.data_box = data = DataSection()
        self._groups: tuple[FormSection, ...] = (ident, instr, tools, skills, data)
        self.errors: dict[str, QLabel] = {}
        for section in self._groups:
            self.errors.update(section.errors)
            section.changed.connect(self.changed)
        self._arrange(False)

        # The widgets the controller, the tests and the screenshot scripts reach.
        self.name = ident.name
        self.description = ident.description
        self.base_agent = ident.base_agent
        self.model = ident.model
        self.budget = ident.budget
        self.published = ident.published
        self.system = instr.system
        self.instructions = instr.instructions
        self.builtin = tools.builtin
        self.functions = tools.functions
        self.skill_list = skills.skill_list
        self.skill_editor = skills.skill_editor
        self.skill_name = skills.skill_name
        self.skill_add = skills.skill_add
        self.data_model = data.data_model
        self.data_view = data.data_view
        self.inline_text = data.inline_text

        skills.skill_add_requested.connect(self.skill_add_requested)
        skills.skill_remove_requested.connect(self.skill_remove_requested)
        data.data_add_requested.connect(self.data_add_requested)
        data.data_remove_requested.connect(self.data_remove_requested)
        data.target_edited.connect(self.target_edited)
        data.data_selected.connect(self.data_selected)
        data.inline_text_edited.connect(self.inline_text_edited)

    # --- loading and reading -------------------------------------------------------------

    def load(self, defn: AgentDefinition) -> None:
        for section in self._groups:
            with section.loading():
                section.load(defn)

    def apply_to(self, defn: AgentDefinition) -> None:
        for section in self._groups:
            section.apply_to(defn)

    def show_problems(self, problems: list[Problem]) -> None:
        grouped: dict[str, list[str]] = {}
        for p in problems:
            key = "skills" if p.field.startswith("skill:") else p.field
            grouped.setdefault(key, []).append(p.message)
        if self.functions.problems:
            grouped.setdefault("tools", []).append("Fix the function declarations above.")
        for key, label in self.errors.items():
            messages = grouped.get(key, [])
            label.setText("\n".join(messages))
            label.setVisible(bool(messages))

    def set_models(self, models: list[str]) -> None:
        """Say which model runs the agent when the Model field is left empty."""
        self.identity_box.set_models(models)

    def show_inline(self, path: str, text: str | None) -> None:
        """Show the text of the selected inline source (None hides the editor)."""
        self.data_box.show_inline(path, text)

    # --- layout --------------------------------------------------------------------------

    WIDE = 900
    """From this width on the groups sit in two columns."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(self.width() >= self.WIDE)

    def _arrange(self, wide: bool) -> None:
        if wide == self._wide:
            return
        self._wide = wide
        for column in self._columns:
            while column.count():
                column.takeAt(0)
        ident, instr, tools, skills, data = self._groups
        left, right = ([ident, instr, data], [tools, skills]) if wide else (self._groups, ())
        for group in left:
            self._columns[0].addWidget(group)
        for group in right:
            self._columns[1].addWidget(group)
        for column in self._columns:
            column.addStretch(1)
        # One column: it gets the whole width (the empty second one took half, issue 19).
        self._outer.setStretch(1, 1 if wide else 0)
