"""The agent form: every field of an agent definition, with its errors next to it.

The form edits a working copy; ``apply_to(defn)`` writes the fields back. Skills and
data sources are changed through requests (the controller touches the files).

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

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.agents import (
    _SKILL_NAME,
    AGENT_BUILTIN_TOOLS,
    BASE_AGENTS,
    AgentDefinition,
    McpServerSpec,
    Problem,
    Skill,
    data_size,
    skill_front_matter,
)
from workbench.core.run_settings import BUILTIN_TOOLS

from ..function_editor import FunctionEditor
from ..plain import plain_label, plain_tip
from .data_model import DataSourcesModel
from .markdown_editor import MarkdownEditor


def _error_label() -> QLabel:
    label = plain_label(QLabel())
    label.setWordWrap(True)
    label.setStyleSheet("color: #cf222e;")
    label.hide()
    return label


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
        self._loading = False
        self._skills: dict[str, str] = {}
        self._mcp_specs: list[McpServerSpec] = []
        self.errors: dict[str, QLabel] = {}
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._outer = outer
        self._columns = (QVBoxLayout(), QVBoxLayout())
        for column in self._columns:
            outer.addLayout(column, 1)
        self._wide: bool | None = None

        ident = QGroupBox("Agent")
        form = QFormLayout(ident)
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
                self.errors[key] = _error_label()
                form.addRow("", self.errors[key])
        form.addRow("Saved agent", self.published)

        instr = QGroupBox("Instructions")
        il = QVBoxLayout(instr)
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

        tools = QGroupBox("Tools")
        tl = QVBoxLayout(tools)
        row = QHBoxLayout()
        self.builtin: dict[str, QCheckBox] = {}
        for key in AGENT_BUILTIN_TOOLS:
            box = QCheckBox(BUILTIN_TOOLS.get(key, key))
            box.setObjectName(f"agent_tool_{key}")
            self.builtin[key] = box
            row.addWidget(box)
        row.addStretch(1)
        tl.addLayout(row)
        tl.addWidget(QLabel("Functions (JSON Schema declarations, run by Workbench)"))
        self.functions = FunctionEditor()
        tl.addWidget(self.functions)
        tl.addWidget(QLabel("MCP servers"))
        self.mcp = QListWidget()
        self.mcp.setMaximumHeight(60)
        self.mcp.setAccessibleName("MCP servers")
        tl.addWidget(self.mcp)
        mrow = QHBoxLayout()
        self.mcp_name = QLineEdit()
        self.mcp_name.setPlaceholderText("name")
        self.mcp_name.setMaximumWidth(90)
        self.mcp_url = QLineEdit()
        self.mcp_url.setPlaceholderText("https://…/mcp")
        self.mcp_add = QPushButton("Add")
        self.mcp_remove = QPushButton("Remove")
        for w in (self.mcp_name, self.mcp_url, self.mcp_add, self.mcp_remove):
            mrow.addWidget(w)
        tl.addLayout(mrow)
        self.errors["tools"] = _error_label()
        tl.addWidget(self.errors["tools"])

        skills = QGroupBox("Skills")
        sl = QVBoxLayout(skills)
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
        self.errors["skills"] = _error_label()
        sl.addWidget(self.errors["skills"])

        data = QGroupBox("Data sources")
        dl = QVBoxLayout(data)
        self.data_model = DataSourcesModel(self)
        self.data_view = QTableView()
        self.data_view.setAccessibleName("Data sources")
        self.data_view.setModel(self.data_model)
        self.data_view.verticalHeader().hide()
        self.data_view.setMinimumHeight(90)
        self.data_view.setWordWrap(False)
        self.data_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.data_view.horizontalHeader()
        header.setMinimumSectionSize(40)
        # Short columns take what their text needs; the file and its target share the rest,
        # so no header is cut at the dock's default width (issue 19).
        for col, mode in (
            (0, QHeaderView.ResizeMode.ResizeToContents),
            (1, QHeaderView.ResizeMode.Stretch),
            (2, QHeaderView.ResizeMode.ResizeToContents),
            (3, QHeaderView.ResizeMode.Stretch),
        ):
            header.setSectionResizeMode(col, mode)
        dl.addWidget(self.data_view)
        drow = QHBoxLayout()
        self.add_file = QPushButton("Add file…")
        self.add_folder = QPushButton("Add folder…")
        self.add_text = QPushButton("Add text")
        self.remove_data = QPushButton("Remove")
        for b in (self.add_file, self.add_folder, self.add_text, self.remove_data):
            drow.addWidget(b)
        drow.addStretch(1)
        dl.addLayout(drow)
        self.inline_label = plain_label(QLabel())
        self.inline_text = QPlainTextEdit()
        self.inline_text.setAccessibleName("Inline text")
        self.inline_text.setMaximumHeight(90)
        self.inline_text.setTabChangesFocus(True)
        self._inline_path = ""
        for inline_widget in (self.inline_label, self.inline_text):
            inline_widget.hide()
            dl.addWidget(inline_widget)
        self.errors["data"] = _error_label()
        dl.addWidget(self.errors["data"])
        self._groups = (ident, instr, tools, skills, data)
        self._arrange(False)

        for edit in (self.name, self.description, self.model):
            edit.textEdited.connect(self._changed)
        self.base_agent.currentTextChanged.connect(self._changed)
        self.budget.valueChanged.connect(self._changed)
        self.system.textChanged.connect(self._changed)
        self.instructions.text_changed.connect(self._changed)
        for box in self.builtin.values():
            box.toggled.connect(self._changed)
        self.functions.functions_changed.connect(lambda _f: self._changed())
        self.mcp_add.clicked.connect(self._add_mcp)
        self.mcp_remove.clicked.connect(self._remove_mcp)
        self.skill_list.currentTextChanged.connect(self._show_skill)
        self.skill_editor.text_changed.connect(self._skill_edited)
        self.skill_add.clicked.connect(self._add_skill)
        self.skill_name.textChanged.connect(self._skill_name_changed)
        self.skill_name.returnPressed.connect(self._add_skill)
        self.skill_remove.clicked.connect(self._remove_skill)
        self.add_file.clicked.connect(lambda: self.data_add_requested.emit("file"))
        self.add_folder.clicked.connect(lambda: self.data_add_requested.emit("folder"))
        self.add_text.clicked.connect(lambda: self.data_add_requested.emit("inline"))
        self.remove_data.clicked.connect(self._remove_data)
        self.data_model.target_edited.connect(self.target_edited.emit)
        self.data_view.clicked.connect(self._data_clicked)
        self.inline_text.textChanged.connect(self._inline_edited)

    # --- loading and reading -------------------------------------------------------------

    def load(self, defn: AgentDefinition) -> None:
        m = defn.manifest
        self._loading = True
        try:
            if self.name.text() != m.name:
                self.name.setText(m.name)
            if self.description.text() != m.description:
                self.description.setText(m.description)
            self.base_agent.setCurrentText(m.base_agent)
            if self.model.text() != m.model:
                self.model.setText(m.model)
            self.budget.setValue(m.token_budget or 0)
            if self.system.toPlainText() != m.system_instruction:
                self.system.setPlainText(m.system_instruction)
            self.instructions.set_text(defn.instructions)
            for key, box in self.builtin.items():
                box.setChecked(key in m.builtin_tools)
            if self.functions.functions() != defn.functions:
                self.functions.set_functions(defn.functions)
            self.mcp.clear()
            for server in m.mcp_servers:
                self.mcp.addItem(f"{server.name} — {server.url}")
            self._mcp_specs = list(m.mcp_servers)
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
            self.data_model.set_rows([(d, data_size(defn, d)) for d in m.data])
            self.published.setText(
                f"Published as <code>{m.published_id}</code>" if m.published_id else "Not published"
            )
        finally:
            self._loading = False

    def apply_to(self, defn: AgentDefinition) -> None:
        m = defn.manifest
        m.name = self.name.text().strip()
        m.description = self.description.text().strip()
        m.base_agent = self.base_agent.currentText().strip()
        m.model = self.model.text().strip()
        m.token_budget = self.budget.value() or None
        m.system_instruction = self.system.toPlainText()
        m.builtin_tools = [k for k, b in self.builtin.items() if b.isChecked()]
        m.mcp_servers = list(self._mcp_specs)
        defn.instructions = self.instructions.text()
        defn.functions = self.functions.functions()
        defn.skills = [Skill(name, text) for name, text in self._skills.items()]

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

    # --- internals -----------------------------------------------------------------------

    def _changed(self, *_args: object) -> None:
        if not self._loading:
            self.changed.emit()

    def _add_mcp(self) -> None:
        name, url = self.mcp_name.text().strip(), self.mcp_url.text().strip()
        if not name or not url:
            return
        self._mcp_specs = [*self._mcp_specs, McpServerSpec(name=name, url=url)]
        self.mcp.addItem(f"{name} — {url}")
        self.mcp_name.clear()
        self.mcp_url.clear()
        self._changed()

    def _remove_mcp(self) -> None:
        row = self.mcp.currentRow()
        if row >= 0:
            self.mcp.takeItem(row)
            del self._mcp_specs[row]
            self._changed()

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
            self._loading = True
            item.setText(new)
            self._loading = False
        else:
            self._skills = skills
        self._changed()

    def set_models(self, models: list[str]) -> None:
        """Say which model runs the agent when the Model field is left empty."""
        hint = "the server's default model"
        if models:
            hint = f"the server's default ({models[0]})"
            self.model.setToolTip(plain_tip("Models on this server: " + ", ".join(models)))
        self.model.setPlaceholderText(hint)

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

    def show_inline(self, path: str, text: str | None) -> None:
        """Show the text of the selected inline source (None hides the editor)."""
        self._inline_path = path if text is not None else ""
        self.inline_label.setText(f"Text of {path.removeprefix('data/')}:")
        self._loading = True
        self.inline_text.setPlainText(text or "")
        self._loading = False
        self.inline_label.setVisible(text is not None)
        self.inline_text.setVisible(text is not None)

    def _data_clicked(self, index: QModelIndex) -> None:
        item = self.data_model.source_at(index.row())
        if item is not None:
            self.data_selected.emit(item.path)

    def _inline_edited(self) -> None:
        if not self._loading and self._inline_path:
            self.inline_text_edited.emit(self._inline_path, self.inline_text.toPlainText())

    def _remove_data(self) -> None:
        rows = self.data_view.selectionModel().selectedRows() or [self.data_view.currentIndex()]
        item = self.data_model.source_at(rows[0].row()) if rows and rows[0].isValid() else None
        if item is not None:
            self.data_remove_requested.emit(item.path)
