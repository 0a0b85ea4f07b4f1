"""The Sandbox files dock: a lazy tree of the selected run's (or session's) sandbox.

Signals:
    refresh_requested(): list the sandbox again.
    preview_requested(object): a SandboxEntry to preview.
    save_requested(object, str): entry, local destination path.
    download_all_requested(str): local destination of the tar archive.
    upload_requested(list, str): local files, target directory in the sandbox.
    attach_requested(object): attach this entry to the next turn.
    cancel_requested(): stop the running transfer.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.sandbox_files import SandboxEntry

from ..plain import plain_label
from .model import FilesModel
from .preview import PreviewPane


class FilesTree(QTreeView):
    """The sandbox tree; its Name column keeps the room, whatever the dock's width.

    Size and Modified take what their contents need and Modified steps aside when the
    tree is narrow, so names are never squeezed down to "…" (issue 19).
    """

    NARROW = 360

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        self._columns()  # resize modes only hold for sections that exist

    def _columns(self) -> None:
        header = self.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, metrics.horizontalAdvance("1023.9 KB") + 16)
        header.resizeSection(2, metrics.horizontalAdvance("2026-12-31 23:59") + 16)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.setColumnHidden(2, self.width() < self.NARROW)


class FilesDock(QDockWidget):
    """Tree | preview, with transfer buttons and a progress bar."""

    refresh_requested = Signal()
    preview_requested = Signal(object)
    save_requested = Signal(object, str)
    download_all_requested = Signal(str)
    upload_requested = Signal(list, str)
    attach_requested = Signal(object)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sandbox files", parent)
        self.setObjectName("filesDock")
        self.model = FilesModel(self)
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 6, 6, 6)
        self.where = plain_label(QLabel("No sandbox: select a run (or a session) that used one."))
        self.where.setObjectName("sandboxLabel")
        self.where.setWordWrap(True)
        outer.addWidget(self.where)

        bar = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.save_button = QPushButton("Save as…")
        self.download_button = QPushButton("Download all (tar)…")
        self.upload_button = QPushButton("Upload…")
        self.attach_button = QPushButton("Attach to next turn")
        # Two rows — the whole sandbox, then the selected file: one row of five buttons made
        # the dock (beside Runs) wider than a 1024-pixel window.
        for b in (self.refresh_button, self.upload_button, self.download_button):
            bar.addWidget(b)
        bar.addStretch(1)
        outer.addLayout(bar)
        file_row = QHBoxLayout()
        file_row.addWidget(QLabel("Selected file:"))
        file_row.addWidget(self.save_button)
        file_row.addWidget(self.attach_button)
        file_row.addStretch(1)
        outer.addLayout(file_row)

        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Transfer progress")
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel transfer")
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()
        outer.addWidget(self.progress_box)
        self.problem = plain_label(QLabel())
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #cf222e;")
        self.problem.hide()
        outer.addWidget(self.problem)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.tree = FilesTree()
        self.tree.setObjectName("sandboxTree")
        self.tree.setAccessibleName("Sandbox files")
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        split.addWidget(self.tree)
        self.preview = PreviewPane()
        split.addWidget(self.preview)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([380, 300])
        outer.addWidget(split, 1)
        self.setWidget(body)

        self.tree.selectionModel().selectionChanged.connect(self._selection)
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        self.save_button.clicked.connect(self._pick_save)
        self.download_button.clicked.connect(self._pick_download_all)
        self.upload_button.clicked.connect(self._pick_upload)
        self.attach_button.clicked.connect(self._attach)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.dialog: QFileDialog | None = None
        self.where_label = ""
        self._reopen: set[str] = set()
        self._reselect = ""
        self.model.rowsInserted.connect(self._inserted)
        self._update_buttons()

    # --- state ---------------------------------------------------------------------------

    def set_environment(self, environment_id: str, label: str = "") -> None:
        self.where_label = label
        self._reopen, self._reselect = set(), ""
        self.model.reset(environment_id)
        self.preview.show_message("Select a file to preview it.")
        self.problem.hide()
        if environment_id:
            self.where.setText(f"Sandbox {environment_id}" + (f" · {label}" if label else ""))
        else:
            self.where.setText("No sandbox: select a run (or a session) that used one.")
        self._update_buttons()

    # --- keeping the tree open across a refresh ------------------------------------------

    def open_state(self) -> tuple[set[str], str]:
        """The paths of the expanded folders, and of the selected entry."""
        opened: set[str] = set()

        def walk(parent: QModelIndex) -> None:
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if self.tree.isExpanded(index):
                    entry = self.model.entry(index)
                    if entry is not None:
                        opened.add(entry.path)
                    walk(index)

        walk(QModelIndex())
        entry = self.current_entry()
        return opened, entry.path if entry is not None else ""

    def reopen(self, state: tuple[set[str], str]) -> None:
        """Open these folders again (and select that entry) as their listings arrive."""
        self._reopen, self._reselect = set(state[0]), state[1]

    def _inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            index = self.model.index(row, 0, parent)
            entry = self.model.entry(index)
            if entry is None:
                continue
            if entry.path in self._reopen:
                self._reopen.discard(entry.path)
                self.tree.expand(index)
                if self.model.canFetchMore(index):
                    self.model.fetchMore(index)
            if entry.path == self._reselect:
                self._reselect = ""
                self.tree.setCurrentIndex(index)

    def current_entry(self) -> SandboxEntry | None:
        rows = self.tree.selectionModel().selectedRows()
        return self.model.entry(rows[0]) if rows else None

    def current_dir(self) -> str:
        entry = self.current_entry()
        if entry is None:
            return ""
        if entry.is_dir:
            return entry.path
        return entry.path.rsplit("/", 1)[0] if "/" in entry.path else ""

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_progress(self, what: str, done: int, total: int) -> None:
        self.progress_box.show()
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(done * 1000 / total))
            self.progress.setFormat(f"{what}: {done * 100 // total}%")
        else:
            self.progress.setRange(0, 0)  # busy: the size is unknown
            self.progress.setFormat(what)

    def transfer_done(self) -> None:
        self.progress_box.hide()

    # --- internals -----------------------------------------------------------------------

    def _update_buttons(self) -> None:
        has_env = bool(self.model.environment_id)
        entry = self.current_entry()
        is_file = entry is not None and not entry.is_dir
        for b in (self.refresh_button, self.download_button, self.upload_button):
            b.setEnabled(has_env)
        self.save_button.setEnabled(is_file)
        self.attach_button.setEnabled(is_file)

    def _selection(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self._update_buttons()
        entry = self.current_entry()
        if entry is not None and not entry.is_dir:
            self.preview.show_message(f"Loading {entry.name}…")
            self.preview_requested.emit(entry)

    def _file_dialog(self, title: str, mode: QFileDialog.AcceptMode) -> QFileDialog:
        dialog = QFileDialog(self, title)
        dialog.setAcceptMode(mode)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog = dialog
        dialog.destroyed.connect(lambda: setattr(self, "dialog", None))
        return dialog

    def _pick_save(self) -> None:
        entry = self.current_entry()
        if entry is None or entry.is_dir:
            return
        dialog = self._file_dialog("Save file", QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(entry.name)
        dialog.fileSelected.connect(lambda path: self.save_requested.emit(entry, path))
        dialog.open()

    def _pick_download_all(self) -> None:
        dialog = self._file_dialog("Download the sandbox", QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"{self.model.environment_id or 'sandbox'}.tar")
        dialog.fileSelected.connect(self.download_all_requested.emit)
        dialog.open()

    def _pick_upload(self) -> None:
        dialog = self._file_dialog("Upload into the sandbox", QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        target = self.current_dir()
        dialog.filesSelected.connect(lambda paths: self.upload_requested.emit(list(paths), target))
        dialog.open()

    def _attach(self) -> None:
        entry = self.current_entry()
        if entry is not None and not entry.is_dir:
            self.attach_requested.emit(entry)
