"""The "Instructions" group: the system instruction sent with each run, and AGENTS.md.

The two are kept apart on purpose: the system instruction travels in the request, while
AGENTS.md is a file the agent reads from its workspace.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from workbench.core.agents import AgentDefinition

from .form_section import FormSection
from .markdown_editor import MarkdownEditor


class InstructionsSection(FormSection):
    """A short plain-text system instruction above a Markdown editor for AGENTS.md."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Instructions", parent)
        il = QVBoxLayout(self)
        il.addWidget(QLabel("System instruction (sent with each run)"))
        self.system = QPlainTextEdit()
        self.system.setAccessibleName("System instruction")
        self.system.setMaximumHeight(70)
        self.system.setTabChangesFocus(True)
        il.addWidget(self.system)
        il.addWidget(QLabel("AGENTS.md (read by the agent from its workspace)"))
        self.instructions = MarkdownEditor("AGENTS.md")
        self.instructions.setMinimumHeight(110)
        il.addWidget(self.instructions)

        self.system.textChanged.connect(self._changed)
        self.instructions.text_changed.connect(self._changed)

    def load(self, defn: AgentDefinition) -> None:
        if self.system.toPlainText() != defn.manifest.system_instruction:
            self.system.setPlainText(defn.manifest.system_instruction)
        self.instructions.set_text(defn.instructions)

    def apply_to(self, defn: AgentDefinition) -> None:
        defn.manifest.system_instruction = self.system.toPlainText()
        defn.instructions = self.instructions.text()
