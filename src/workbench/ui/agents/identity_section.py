"""The "Agent" group: name, description, base agent, model, token budget, published id.

These are the manifest's scalar fields (``agent.toml``); the model field also says which
model runs the agent when it is left empty, from the models the current server lists.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from workbench.core.agents import BASE_AGENTS, AgentDefinition

from ..plain import plain_label, plain_tip
from .form_section import FormSection, error_label


class IdentitySection(FormSection):
    """Who the agent is and what it may spend; errors under name, base agent and budget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent", parent)
        form = QFormLayout(self)
        # Narrow (the dock's default width): each field goes under its label, full width.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name = QLineEdit()
        self.name.setObjectName("agentName")
        self.description = QLineEdit()
        self.description.setPlaceholderText("What this agent does (optional)")
        self.base_agent = QComboBox()
        self.base_agent.addItems(list(BASE_AGENTS))
        self.base_agent.setEditable(True)
        self.model = QLineEdit()
        self.model.setPlaceholderText("the server's default model")
        self.budget = QSpinBox()
        self.budget.setRange(0, 1_000_000_000)
        self.budget.setSingleStep(10_000)
        self.budget.setSpecialValueText("no limit")
        self.budget.setSuffix(" tokens")
        self.budget.setToolTip("agent_config.max_total_tokens: the server stops the run there")
        self.published = plain_label(QLabel("Not published"))
        self.published.setObjectName("publishedId")
        for label, widget, key in (
            ("Name", self.name, "name"),
            ("Description", self.description, ""),
            ("Base agent", self.base_agent, "base_agent"),
            ("Model", self.model, ""),
            ("Token budget", self.budget, "token_budget"),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
            if key:
                self.errors[key] = error_label()
                form.addRow("", self.errors[key])
        form.addRow("Saved agent", self.published)

        for edit in (self.name, self.description, self.model):
            edit.textEdited.connect(self._changed)
        self.base_agent.currentTextChanged.connect(self._changed)
        self.budget.valueChanged.connect(self._changed)

    def load(self, defn: AgentDefinition) -> None:
        m = defn.manifest
        if self.name.text() != m.name:
            self.name.setText(m.name)
        if self.description.text() != m.description:
            self.description.setText(m.description)
        self.base_agent.setCurrentText(m.base_agent)
        if self.model.text() != m.model:
            self.model.setText(m.model)
        self.budget.setValue(m.token_budget or 0)
        self.published.setText(
            f"Published as {m.published_id}" if m.published_id else "Not published"
        )

    def apply_to(self, defn: AgentDefinition) -> None:
        m = defn.manifest
        m.name = self.name.text().strip()
        m.description = self.description.text().strip()
        m.base_agent = self.base_agent.currentText().strip()
        m.model = self.model.text().strip()
        m.token_budget = self.budget.value() or None

    def set_models(self, models: list[str]) -> None:
        """Say which model runs the agent when the Model field is left empty."""
        hint = "the server's default model"
        if models:
            hint = f"the server's default ({models[0]})"
            self.model.setToolTip(plain_tip("Models on this server: " + ", ".join(models)))
        self.model.setPlaceholderText(hint)
