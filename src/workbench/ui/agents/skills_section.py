"""The "Skills" group: the agent's ``skills/<name>/SKILL.md`` files, one editor for each.

Adding and removing a skill touches folders, so the section only asks for it (the
controller does it and reloads the form); editing a skill's text is kept here, including a
rename through the ``name:`` of its front matter.

Signals:
    skill_add_requested(str): add a skill with this (checked) name.
    skill_remove_requested(str)
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget

from workbench.core.agents import _SKILL_NAME, AgentDefinition, Skill, skill_front_matter

from .form_section import FormSection, error_label
from .markdown_editor import MarkdownEditor


class SkillsSection(FormSection):
    """A list of skills beside a SKILL.md editor, and a checked name field to add one."""

    skill_add_requested = Signal(str)
    skill_remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Skills", parent)
        self._skills: dict[str, str] = {}
        sl = QVBoxLayout(self)
        srow = QHBoxLayout()
        self.skill_list = QListWidget()
        self.skill_list.setAccessibleName("Skills")
        self.skill_list.setMaximumWidth(160)
        srow.addWidget(self.skill_list)
        self.skill_editor = MarkdownEditor("SKILL.md")
        self.skill_editor.setMinimumHeight(150)
        self.skill_editor.setEnabled(False)
        srow.addWidget(self.skill_editor, 1)
        sl.addLayout(srow)
        sbuttons = QHBoxLayout()
        self.skill_name = QLineEdit()
        self.skill_name.setPlaceholderText("new-skill-name")
        self.skill_name.setAccessibleName("Name of the new skill")
        sbuttons.addWidget(self.skill_name, 1)
        self.skill_add = QPushButton("Add skill")
        self.skill_add.setEnabled(False)
        self.skill_remove = QPushButton("Remove skill")
        sbuttons.addWidget(self.skill_add)
        sbuttons.addWidget(self.skill_remove)
        sbuttons.addStretch(1)
        sl.addLayout(sbuttons)
        self.errors["skills"] = error_label()
        sl.addWidget(self.errors["skills"])

        self.skill_list.currentTextChanged.connect(self._show_skill)
        self.skill_editor.text_changed.connect(self._skill_edited)
        self.skill_add.clicked.connect(self._add_skill)
        self.skill_name.textChanged.connect(self._skill_name_changed)
        self.skill_name.returnPressed.connect(self._add_skill)
        self.skill_remove.clicked.connect(self._remove_skill)

    def load(self, defn: AgentDefinition) -> None:
        """Show ``defn``'s skills, keeping the selected one selected if it is still there."""
        current = self.skill_list.currentItem()
        current_name = current.text() if current else ""
        self._skills = {s.name: s.text for s in defn.skills}
        self.skill_list.clear()
        self.skill_list.addItems(list(self._skills))
        matches = self.skill_list.findItems(current_name, Qt.MatchFlag.MatchExactly)
        if matches:
            self.skill_list.setCurrentItem(matches[0])
        elif self._skills:
            self.skill_list.setCurrentRow(0)
        else:
            self.skill_editor.set_text("")
            self.skill_editor.setEnabled(False)

    def apply_to(self, defn: AgentDefinition) -> None:
        defn.skills = [Skill(name, text) for name, text in self._skills.items()]

    def _show_skill(self, name: str) -> None:
        self.skill_editor.setEnabled(bool(name))
        self.skill_editor.set_text(self._skills.get(name, ""))

    def _skill_edited(self) -> None:
        item = self.skill_list.currentItem()
        if item is None or self._loading:
            return
        old = item.text()
        text = self.skill_editor.text()
        front, _ = skill_front_matter(text)
        new = front.get("name")
        skills = dict(self._skills)
        skills[old] = text
        if isinstance(new, str) and new and new != old and new not in skills:
            # Renaming the skill in its front matter renames its folder too.
            self._skills = {(new if k == old else k): v for k, v in skills.items()}
            with self.loading():
                item.setText(new)
        else:
            self._skills = skills
        self._changed()

    def _skill_name_changed(self, text: str) -> None:
        name = text.strip()
        problem = ""
        if name and not _SKILL_NAME.match(name):
            problem = "A skill name uses lower-case letters, digits and - (e.g. make-charts)."
        elif name in self._skills:
            problem = f"There is already a skill named “{name}”."
        self.skill_add.setEnabled(bool(name) and not problem)
        self.errors["skills"].setText(problem)
        self.errors["skills"].setVisible(bool(problem))

    def _add_skill(self) -> None:
        name = self.skill_name.text().strip()
        if self.skill_add.isEnabled() and name:
            self.skill_name.clear()
            self.skill_add_requested.emit(name)

    def _remove_skill(self) -> None:
        item = self.skill_list.currentItem()
        if item is not None:
            self.skill_remove_requested.emit(item.text())
