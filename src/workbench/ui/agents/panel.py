"""The Agents panel: the agent folders on the left, the form on the right, actions below.

Signals:
    agent_selected(str): show this agent in the form.
    new_requested(), duplicate_requested(str), delete_requested(str) (after confirming)
    import_requested(str): a folder to import.
    export_requested(str, str): agent name, destination folder.
    run_requested(str, str): agent name, prompt.
    publish_requested(str, str, bool): agent name, agent id, recreate.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..plain import plain_label
from .form import AgentForm

Index = QModelIndex | QPersistentModelIndex
NOTICE_MS = 8000
"""How long a passing notice (such as "… is running in the background") stays."""


class AgentListModel(QAbstractListModel):
    """Agent names (folder names), sorted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []

    def set_names(self, names: list[str]) -> None:
        if names == self._names:
            return
        self.beginResetModel()
        self._names = list(names)
        self.endResetModel()

    def names(self) -> list[str]:
        return list(self._names)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._names)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._names):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._names[index.row()]
        return None


class AgentsDock(QDockWidget):
    """List | form, plus Run, Publish, Duplicate, Delete, Import, Export."""

    agent_selected = Signal(str)
    new_requested = Signal()
    duplicate_requested = Signal(str)
    delete_requested = Signal(str)
    import_requested = Signal(str)
    export_requested = Signal(str, str)
    run_requested = Signal(str, str)
    publish_requested = Signal(str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agents", parent)
        self.setObjectName("agentsDock")
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 6, 6, 6)
        split = QSplitter(Qt.Orientation.Vertical)
        self.split = split
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.model = AgentListModel(self)
        self.list = QListView()
        self.list.setObjectName("agentList")
        self.list.setAccessibleName("Agents")
        self.list.setModel(self.model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        ll.addWidget(self.list, 1)
        grid = QHBoxLayout()
        self.new_button = QPushButton("New")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        for b in (self.new_button, self.duplicate_button, self.delete_button):
            grid.addWidget(b)
        ll.addLayout(grid)
        grid2 = QHBoxLayout()
        self.import_button = QPushButton("Import folder…")
        self.export_button = QPushButton("Export folder…")
        grid2.addWidget(self.import_button)
        grid2.addWidget(self.export_button)
        ll.addLayout(grid2)
        self.folder_label = plain_label(QLabel())
        self.folder_label.setWordWrap(True)
        self.folder_label.setStyleSheet("color: palette(mid); font-size: small;")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        ll.addWidget(self.folder_label)
        split.addWidget(left)

        self.form = AgentForm()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split.addWidget(scroll)
        split.setSizes([150, 600])
        split.setStretchFactor(1, 1)
        outer.addWidget(split, 1)

        # The task gets a row of its own (it was squeezed to "Task f…" beside Publish).
        actions = QHBoxLayout()
        self.prompt = QLineEdit()
        self.prompt.setObjectName("agentPrompt")
        self.prompt.setPlaceholderText("Task for a background run of this agent…")
        self.prompt.setAccessibleName("Task for the agent")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run in the background, sending the definition inline")
        self.publish_id = QLineEdit()
        self.publish_id.setPlaceholderText("agent id")
        self.publish_id.setAccessibleName("Id to publish as")
        self.publish_button = QPushButton("Publish")
        self.publish_button.setToolTip("Save as an agent on the server (Agents API)")
        actions.addWidget(self.prompt, 1)
        actions.addWidget(self.run_button)
        outer.addLayout(actions)
        publish_row = QHBoxLayout()
        publish_row.addWidget(QLabel("Save on the server as"))
        publish_row.addWidget(self.publish_id, 1)
        publish_row.addWidget(self.publish_button)
        outer.addLayout(publish_row)
        notice_row = QHBoxLayout()
        self.notice = plain_label(QLabel())
        self.notice.setObjectName("agentNotice")
        self.notice.setWordWrap(True)
        # Room for two lines is kept, so a notice coming or going never moves the fields.
        self.notice.setMinimumHeight(2 * self.notice.fontMetrics().lineSpacing() + 4)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.setInterval(NOTICE_MS)
        self._notice_timer.timeout.connect(lambda: self.set_notice(""))
        self.recreate_button = QPushButton("Recreate it")
        self.recreate_button.hide()
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.recreate_button)
        outer.addLayout(notice_row)
        self.setWidget(body)

        self.list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self.agent_selected.emit(self.model.data(cur) or "")
        )
        self.new_button.clicked.connect(self.new_requested.emit)
        self.duplicate_button.clicked.connect(lambda: self._with_current(self.duplicate_requested))
        self.delete_button.clicked.connect(self._confirm_delete)
        self.import_button.clicked.connect(self._pick_import)
        self.export_button.clicked.connect(self._pick_export)
        self.run_button.clicked.connect(self._run)
        self.prompt.returnPressed.connect(self._run)
        self.publish_button.clicked.connect(lambda: self._publish(False))
        self.recreate_button.clicked.connect(lambda: self._publish(True))
        self.dialog: QWidget | None = None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wide = self.width() >= 1100  # list beside the form when there is room
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != orientation:
            self.split.setOrientation(orientation)
            self.split.setSizes([200, 900] if wide else [150, 600])

    # --- state ---------------------------------------------------------------------------

    def set_names(self, names: list[str], current: str = "") -> None:
        self.model.set_names(names)
        if current:
            self.select(current)

    def select(self, name: str) -> None:
        if name in self.model.names():
            index = self.model.index(self.model.names().index(name))
            if self.list.currentIndex() != index:
                self.list.setCurrentIndex(index)

    def current_name(self) -> str:
        return str(self.model.data(self.list.currentIndex()) or "")

    def set_notice(
        self,
        text: str,
        *,
        problem: bool = False,
        offer_recreate: bool = False,
        fleeting: bool = False,
    ) -> None:
        """A line under the actions; ``fleeting`` ones ("… is running") clear themselves."""
        self._notice_timer.stop()
        if fleeting:
            self._notice_timer.start()
        self.notice.setText(text)
        self.notice.setStyleSheet("color: #cf222e;" if problem else "color: #1a7f37;")
        self.recreate_button.setVisible(offer_recreate)

    def clear_fleeting(self) -> None:
        """Drop a passing notice now (the run it announced has ended)."""
        if self._notice_timer.isActive():
            self.set_notice("")

    def enable_actions(self, has_agent: bool) -> None:
        for b in (
            self.duplicate_button,
            self.delete_button,
            self.export_button,
            self.run_button,
            self.publish_button,
        ):
            b.setEnabled(has_agent)
        self.form.setEnabled(has_agent)

    # --- internals -----------------------------------------------------------------------

    def _with_current(self, signal: SignalInstance) -> None:
        name = self.current_name()
        if name:
            signal.emit(name)

    def _confirm_delete(self) -> None:
        name = self.current_name()
        if not name:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete agent",
            f"Delete the agent folder “{name}” and everything in it? This cannot be undone "
            "(a published copy on the server is kept).",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the folder name is the user's
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.accepted.connect(lambda: self.delete_requested.emit(name))
        self.dialog = box
        box.open()

    def _folder_dialog(self, title: str) -> QFileDialog:
        dialog = QFileDialog(self, title)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog = dialog
        return dialog

    def _pick_import(self) -> None:
        dialog = self._folder_dialog("Import an agent folder")
        dialog.fileSelected.connect(self.import_requested.emit)
        dialog.open()

    def _pick_export(self) -> None:
        name = self.current_name()
        if not name:
            return
        dialog = self._folder_dialog("Export the agent into this folder")
        dialog.fileSelected.connect(lambda path: self.export_requested.emit(name, path))
        dialog.open()

    def _run(self) -> None:
        name = self.current_name()
        prompt = self.prompt.text().strip()
        if not name:
            return
        if not prompt:
            self.set_notice("Type the task for the agent first.", problem=True)
            self.prompt.setFocus()
            return
        self.run_requested.emit(name, prompt)

    def _publish(self, recreate: bool) -> None:
        name = self.current_name()
        if name:
            self.publish_requested.emit(name, self.publish_id.text().strip() or name, recreate)
