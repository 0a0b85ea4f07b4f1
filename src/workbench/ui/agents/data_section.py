"""The "Data sources" group: files, folders and inline texts copied into the sandbox.

Data lives as files under the agent's ``data/`` folder, so this section edits nothing
itself: it asks the controller to add, remove or retarget a source, and shows (and reports
edits of) the text of the selected inline source that the controller hands it.

Signals:
    data_add_requested(str): "file", "folder" or "inline".
    data_remove_requested(str): a data path.
    target_edited(str, str): data path, new target.
    data_selected(str): the selected data path (the controller shows inline text).
    inline_text_edited(str, str): data path, new text of an inline source.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.agents import AgentDefinition, data_size

from ..plain import plain_label
from .data_model import DataSourcesModel
from .form_section import FormSection, error_label


class DataSection(FormSection):
    """A table of the sources (the sandbox path is editable) and an editor for inline text."""

    data_add_requested = Signal(str)
    data_remove_requested = Signal(str)
    target_edited = Signal(str, str)
    data_selected = Signal(str)
    inline_text_edited = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Data sources", parent)
        dl = QVBoxLayout(self)
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
        self.errors["data"] = error_label()
        dl.addWidget(self.errors["data"])

        self.add_file.clicked.connect(lambda: self.data_add_requested.emit("file"))
        self.add_folder.clicked.connect(lambda: self.data_add_requested.emit("folder"))
        self.add_text.clicked.connect(lambda: self.data_add_requested.emit("inline"))
        self.remove_data.clicked.connect(self._remove_data)
        self.data_model.target_edited.connect(self.target_edited.emit)
        self.data_view.clicked.connect(self._data_clicked)
        self.inline_text.textChanged.connect(self._inline_edited)

    def load(self, defn: AgentDefinition) -> None:
        self.data_model.set_rows([(d, data_size(defn, d)) for d in defn.manifest.data])

    def apply_to(self, defn: AgentDefinition) -> None:
        """Nothing to write: every data change goes through the controller at once."""

    def show_inline(self, path: str, text: str | None) -> None:
        """Show the text of the selected inline source (None hides the editor)."""
        self._inline_path = path if text is not None else ""
        self.inline_label.setText(f"Text of {path.removeprefix('data/')}:")
        with self.loading():
            self.inline_text.setPlainText(text or "")
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
