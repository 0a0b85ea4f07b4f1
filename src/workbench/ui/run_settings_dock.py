"""The right-hand dock: target, system instruction, generation settings, tools, toggles.

Whatever the current server or target cannot do is disabled with a tooltip saying why.

Signals:
    settings_changed(): any field changed; read ``run_settings()``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.capabilities import Capabilities
from workbench.core.run_settings import BUILTIN_TOOLS, THINKING_LEVELS, McpServer, RunSettings

from .function_editor import FunctionEditor
from .plain import plain_label, plain_tip


def _optional_double(minimum: float, maximum: float, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum - step, maximum)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setSpecialValueText("default")
    box.setValue(box.minimum())
    return box


def _optional_int(maximum: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, maximum)
    box.setSpecialValueText("default")
    return box


class RunSettingsDock(QDockWidget):
    """Edits a :class:`RunSettings`."""

    settings_changed = Signal()
    models_requested = Signal()
    """The user wants the Models page (install, import, other servers)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run settings", parent)
        self.setObjectName("runSettingsDock")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self._loading = False
        self._models: list[str] = []
        self._agents: list[str] = []
        body = QWidget()
        layout = QVBoxLayout(body)

        # --- target
        target_box = QGroupBox("Target")
        form = QFormLayout(target_box)
        self.kind = QComboBox()
        self.kind.addItem("Model", "model")
        self.kind.addItem("Agent", "agent")
        self.kind.setAccessibleName("Target kind")
        form.addRow("Kind", self.kind)
        self.target = QComboBox()
        self.target.setObjectName("targetPicker")
        self.target.setEditable(True)
        self.target.setAccessibleName("Model or agent")
        self.target.setToolTip("A model or agent id from the server's list, or type your own")
        self.target.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        form.addRow("Target", self.target)
        self.models_button = QPushButton("Models…")
        self.models_button.setObjectName("modelsButton")
        self.models_button.setToolTip("Install, import or switch models and model servers")
        self.models_button.clicked.connect(self.models_requested)
        form.addRow("", self.models_button)
        self.target_note = plain_label(QLabel())
        self.target_note.setWordWrap(True)
        self.target_note.setStyleSheet("color: palette(mid);")
        form.addRow(self.target_note)
        layout.addWidget(target_box)

        # --- system instruction
        sys_box = QGroupBox("System instruction")
        sys_layout = QVBoxLayout(sys_box)
        self.system = QPlainTextEdit()
        self.system.setAccessibleName("System instruction")
        self.system.setPlaceholderText("Optional: how the model should behave")
        self.system.setTabChangesFocus(True)
        self.system.setMaximumHeight(90)
        sys_layout.addWidget(self.system)
        layout.addWidget(sys_box)

        # --- generation
        gen_box = QGroupBox("Generation")
        gen = QFormLayout(gen_box)
        self.temperature = _optional_double(0.0, 2.0, 0.05)
        self.top_p = _optional_double(0.0, 1.0, 0.05)
        self.max_tokens = _optional_int(1_000_000)
        self.seed = _optional_int(2**31 - 1)
        self.thinking = QComboBox()
        for level in THINKING_LEVELS:
            self.thinking.addItem(level or "default", level)
        self.stop = QLineEdit()
        self.stop.setPlaceholderText("comma-separated")
        for label, widget in (
            ("Temperature", self.temperature),
            ("Top P", self.top_p),
            ("Max output tokens", self.max_tokens),
            ("Seed", self.seed),
            ("Thinking level", self.thinking),
            ("Stop sequences", self.stop),
        ):
            widget.setAccessibleName(label)
            gen.addRow(label, widget)
        layout.addWidget(gen_box)

        # --- tools
        tools_box = QGroupBox("Tools")
        tools = QVBoxLayout(tools_box)
        self.builtin: dict[str, QCheckBox] = {}
        for key, label in BUILTIN_TOOLS.items():
            box = QCheckBox(label)
            box.setObjectName(f"tool_{key}")
            self.builtin[key] = box
            tools.addWidget(box)
        tools.addWidget(QLabel("Functions (JSON declarations)"))
        self.functions = FunctionEditor()
        tools.addWidget(self.functions)
        tools.addWidget(QLabel("MCP servers (streamable HTTP)"))
        self.mcp_list = QListWidget()
        self.mcp_list.setMaximumHeight(70)
        self.mcp_list.setAccessibleName("MCP servers")
        tools.addWidget(self.mcp_list)
        mcp_row = QHBoxLayout()
        self.mcp_name = QLineEdit()
        self.mcp_name.setPlaceholderText("name")
        self.mcp_name.setMaximumWidth(80)
        self.mcp_url = QLineEdit()
        self.mcp_url.setPlaceholderText("https://…/mcp")
        self.mcp_add = QPushButton("Add")
        self.mcp_remove = QPushButton("Remove")
        for w in (self.mcp_name, self.mcp_url, self.mcp_add, self.mcp_remove):
            mcp_row.addWidget(w)
        tools.addLayout(mcp_row)
        self.mcp_error = plain_label(QLabel())
        self.mcp_error.setStyleSheet("color: #cf222e;")
        self.mcp_error.hide()
        tools.addWidget(self.mcp_error)
        layout.addWidget(tools_box)

        # --- toggles
        mode_box = QGroupBox("Mode")
        mode = QVBoxLayout(mode_box)
        self.stream = QCheckBox("Stream the response")
        # Two lines each: on one they alone made the dock 370 px wide (clipped at its default
        # width in a narrow window).
        self.background = QCheckBox("Run in the background\n(survives closing the app)")
        self.store = QCheckBox("Store on the server\n(needed to continue a session)")
        for toggle in (self.stream, self.background, self.store):
            mode.addWidget(toggle)
        layout.addWidget(mode_box)
        layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(scroll)
        self.setMinimumWidth(300)

        # --- change tracking
        self.kind.currentIndexChanged.connect(self._changed)
        self.target.currentTextChanged.connect(self._changed)
        self.system.textChanged.connect(self._changed)
        for spin in (self.temperature, self.top_p):
            spin.valueChanged.connect(self._changed)
        for ispin in (self.max_tokens, self.seed):
            ispin.valueChanged.connect(self._changed)
        self.thinking.currentIndexChanged.connect(self._changed)
        self.stop.textChanged.connect(self._changed)
        for box in (*self.builtin.values(), self.stream, self.background, self.store):
            box.toggled.connect(self._changed)
        self.functions.functions_changed.connect(lambda _f: self._changed())
        self.mcp_add.clicked.connect(self._add_mcp)
        self.mcp_remove.clicked.connect(self._remove_mcp)
        self.load(RunSettings())

    # --- data ----------------------------------------------------------------------------

    def set_targets(self, models: list[str], agents: list[str]) -> None:
        """Fill the picker from the server's model list and the agent ids."""
        current = self.target.currentText()
        self._loading = True
        self.target.clear()
        wanted = agents if self.kind.currentData() == "agent" else models
        self.target.addItems(wanted)
        self._models, self._agents = models, agents
        self.target.setEditText(current or (wanted[0] if wanted else ""))
        self._loading = False
        if not current and wanted:
            self._changed()

    def pick_model(self, model_id: str) -> None:
        """New turns go to this model (the Models page's "Use")."""
        self.kind.setCurrentIndex(0)  # a model, not an agent
        self.target.setEditText(model_id)

    def set_connecting(self, connecting: bool) -> None:
        """While connecting the picker says so, instead of sitting empty or offering a stale id."""
        self.target.setEnabled(not connecting)
        edit = self.target.lineEdit()
        if edit is not None:
            edit.setPlaceholderText("connecting…" if connecting else "a model or agent id")
        self.target_note.setText(
            "Connecting to the server — its models appear here once it answers."
            if connecting
            else ""
        )

    def load(self, settings: RunSettings) -> None:
        self._loading = True
        try:
            self.kind.setCurrentIndex(0 if settings.target_kind == "model" else 1)
            self.target.setEditText(settings.target)
            self.system.setPlainText(settings.system_instruction)
            _set_optional(self.temperature, settings.temperature)
            _set_optional(self.top_p, settings.top_p)
            self.max_tokens.setValue(settings.max_output_tokens or 0)
            self.seed.setValue(settings.seed or 0)
            self.thinking.setCurrentIndex(max(0, self.thinking.findData(settings.thinking_level)))
            self.stop.setText(", ".join(settings.stop_sequences))
            for key, box in self.builtin.items():
                box.setChecked(key in settings.builtin_tools)
            self.functions.set_functions(settings.functions)
            self.mcp_list.clear()
            for server in settings.mcp_servers:
                self._mcp_item(server)
            self.stream.setChecked(settings.stream)
            self.background.setChecked(settings.background)
            self.store.setChecked(settings.store)
        finally:
            self._loading = False

    def run_settings(self) -> RunSettings:
        def opt(box: QDoubleSpinBox) -> float | None:
            return None if box.value() == box.minimum() else round(box.value(), 2)

        return RunSettings(
            target_kind="agent" if self.kind.currentData() == "agent" else "model",
            target=self.target.currentText().strip(),
            system_instruction=self.system.toPlainText(),
            temperature=opt(self.temperature) if self.temperature.isEnabled() else None,
            top_p=opt(self.top_p) if self.top_p.isEnabled() else None,
            max_output_tokens=(self.max_tokens.value() or None)
            if self.max_tokens.isEnabled()
            else None,
            seed=(self.seed.value() or None) if self.seed.isEnabled() else None,
            thinking_level=str(self.thinking.currentData() or "")
            if self.thinking.isEnabled()
            else "",
            stop_sequences=[s.strip() for s in self.stop.text().split(",") if s.strip()]
            if self.stop.isEnabled()
            else [],
            builtin_tools=[k for k, b in self.builtin.items() if b.isChecked() and b.isEnabled()],
            functions=self.functions.functions(),
            mcp_servers=[
                McpServer.model_validate(self.mcp_list.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.mcp_list.count())
            ],
            stream=self.stream.isChecked(),
            background=self.background.isChecked() and self.background.isEnabled(),
            store=self.store.isChecked(),
        )

    def apply_capabilities(self, caps: Capabilities) -> None:
        """Grey out what cannot be used, with the reason as tooltip."""
        pairs: list[tuple[str, QWidget, str]] = [
            ("temperature", self.temperature, "Sampling temperature"),
            ("top_p", self.top_p, "Nucleus sampling"),
            ("max_output_tokens", self.max_tokens, "Most tokens to generate"),
            ("seed", self.seed, "Seed for repeatable sampling"),
            ("thinking", self.thinking, "How much the model thinks first"),
            ("stop", self.stop, "Generation stops at any of these"),
            ("background", self.background, "Runs on the server even if Workbench closes"),
        ]
        pairs += [(f"tool:{k}", b, BUILTIN_TOOLS[k]) for k, b in self.builtin.items()]
        for key, widget, normal in pairs:
            why = caps.why_not(key)
            widget.setEnabled(why is None)
            widget.setToolTip(plain_tip(why or normal))
        self.target.setToolTip(
            plain_tip(
                caps.served_by or "A model or agent id from the server's list, or type your own"
            )
        )
        self.target.setAccessibleDescription(caps.served_by or "")
        mcp_why = caps.why_not("mcp")
        for w in (self.mcp_name, self.mcp_url, self.mcp_add):
            w.setEnabled(mcp_why is None)
            w.setToolTip(plain_tip(mcp_why or ""))

    # --- internals -----------------------------------------------------------------------

    def _changed(self, *_args: object) -> None:
        if self._loading:
            return
        if self.sender() is self.kind:
            self.set_targets(self._models, self._agents)
        self.settings_changed.emit()

    def _mcp_item(self, server: McpServer) -> None:
        item = QListWidgetItem(f"{server.name} — {server.url}")
        item.setData(Qt.ItemDataRole.UserRole, server.model_dump())
        self.mcp_list.addItem(item)

    def _add_mcp(self) -> None:
        name, url = self.mcp_name.text().strip(), self.mcp_url.text().strip()
        problem = None
        if not name or not all(c.isalnum() or c in "_-" for c in name):
            problem = "Give the server a short name (letters, digits, _ or -)."
        elif not url.startswith(("http://", "https://")):
            problem = "The MCP server URL must start with http:// or https://."
        self.mcp_error.setText(problem or "")
        self.mcp_error.setVisible(problem is not None)
        if problem:
            return
        self._mcp_item(McpServer(name=name, url=url))
        self.mcp_name.clear()
        self.mcp_url.clear()
        self.settings_changed.emit()

    def _remove_mcp(self) -> None:
        row = self.mcp_list.currentRow()
        if row >= 0:
            self.mcp_list.takeItem(row)
            self.settings_changed.emit()


def _set_optional(box: QDoubleSpinBox, value: float | None) -> None:
    box.setValue(box.minimum() if value is None else value)
