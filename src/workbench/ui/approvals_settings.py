"""The allow-list section of Settings: tools that run without asking, with Remove."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout

from workbench.core.approvals import AllowList


class AllowListEditor(QGroupBox):
    """Shows ``AllowList`` and removes entries at once (it is the user's own list)."""

    def __init__(self, allow_list: AllowList) -> None:
        super().__init__("Tool approvals")
        self.allow_list = allow_list
        layout = QVBoxLayout(self)
        note = QLabel(
            "Client-side functions that run without asking (“Always for this tool”). "
            "Tools the server runs itself — code execution, search, MCP on the server — "
            "cannot be gated by Workbench."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        row = QHBoxLayout()
        self.list = QListWidget()
        self.list.setObjectName("allowList")
        self.list.setAccessibleName("Always allowed tools")
        self.list.setMaximumHeight(80)
        row.addWidget(self.list, 1)
        self.remove = QPushButton("Remove")
        row.addWidget(self.remove)
        layout.addLayout(row)
        self.remove.clicked.connect(self._remove)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        tools = self.allow_list.tools()
        self.list.addItems(tools or [])
        self.remove.setEnabled(bool(tools))

    def _remove(self) -> None:
        item = self.list.currentItem() or self.list.item(0)
        if item is not None:
            self.allow_list.remove(item.text())
            self.reload()
