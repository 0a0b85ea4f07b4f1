"""The "Tools" group: built-in tools, function declarations and MCP servers.

Built-in tools and MCP servers are manifest fields; function declarations are the agent's
``functions.json``. The function editor checks its own JSON, so the form asks it for
problems before saying the tools are fine.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.agents import AGENT_BUILTIN_TOOLS, AgentDefinition, McpServerSpec
from workbench.core.run_settings import BUILTIN_TOOLS

from ..function_editor import FunctionEditor
from .form_section import FormSection, error_label


class ToolsSection(FormSection):
    """Checkboxes for the built-in tools, a function editor, and a list of MCP servers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Tools", parent)
        self._mcp_specs: list[McpServerSpec] = []
        tl = QVBoxLayout(self)
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
        self.errors["tools"] = error_label()
        tl.addWidget(self.errors["tools"])

        for box in self.builtin.values():
            box.toggled.connect(self._changed)
        self.functions.functions_changed.connect(lambda _f: self._changed())
        self.mcp_add.clicked.connect(self._add_mcp)
        self.mcp_remove.clicked.connect(self._remove_mcp)

    def load(self, defn: AgentDefinition) -> None:
        m = defn.manifest
        for key, box in self.builtin.items():
            box.setChecked(key in m.builtin_tools)
        if self.functions.functions() != defn.functions:
            self.functions.set_functions(defn.functions)
        self.mcp.clear()
        for server in m.mcp_servers:
            self.mcp.addItem(f"{server.name} — {server.url}")
        self._mcp_specs = list(m.mcp_servers)

    def apply_to(self, defn: AgentDefinition) -> None:
        defn.manifest.builtin_tools = [k for k, b in self.builtin.items() if b.isChecked()]
        defn.manifest.mcp_servers = list(self._mcp_specs)
        defn.functions = self.functions.functions()

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
