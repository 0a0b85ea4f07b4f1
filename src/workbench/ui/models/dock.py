"""The Models dock: models (packaged, imported, served), install progress, local servers.

It only shows rows and emits what the user asked for; :class:`ModelsController` does the work
off the UI thread.

Signals:
    use_requested(object): a ``ModelRow`` to serve for this session.
    install_requested(object) / uninstall_requested(object) / verify_requested(object): a row.
    import_requested(str): a GGUF path picked in the file dialog.
    remove_requested(object): forget an imported row.
    cancel_requested(): stop the running install.
    refresh_requested(): read the models again.
    scan_requested(): probe for local servers.
    add_server_requested(str): a URL the user typed.
    use_server_requested(object, str): a ``FoundServer`` and the model id chosen for it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.models_service import FoundServer, ModelRow

from ..plain import plain_label, plain_tip

COLUMNS = (
    "Model",
    "Source",
    "Status",
    "Size",
    "Context",
    "Quantization",
    "Architecture",
    "Chat template",
    "Vision",
)
SERVER_COLUMNS = ("Server", "URL", "Status", "Models")
_SOURCE = {"packaged": "packaged", "imported": "imported GGUF", "server": "server"}


def human_size(size: int | None) -> str:
    if not size:
        return "—"
    if size >= 1024**3:
        return f"{size / 1024**3:.2f} GiB"
    if size >= 1024**2:
        return f"{size / 1024**2:.0f} MiB"
    return f"{size / 1024:.0f} KiB" if size >= 1024 else f"{size} B"


def status_text(row: ModelRow) -> str:
    if row.missing:
        return "file missing"
    if row.kind == "packaged" and not row.installed:
        return "not installed"
    parts = ["serving" if row.served else ("installed" if row.kind == "packaged" else "ready")]
    if row.kind == "packaged":
        parts.append("sha256 ✓" if row.verified else "not verified")
    if row.problem:  # the whole text is in the tooltip
        parts.append("⚠ may not fit in RAM" if "RAM" in row.problem else "⚠ unreadable file")
    return " · ".join(parts)


class ModelsDock(QDockWidget):
    """Tables of models and servers, with the buttons that act on the selected row."""

    use_requested = Signal(object)
    install_requested = Signal(object)
    uninstall_requested = Signal(object)
    verify_requested = Signal(object)
    import_requested = Signal(str)
    remove_requested = Signal(object)
    cancel_requested = Signal()
    refresh_requested = Signal()
    scan_requested = Signal()
    add_server_requested = Signal(str)
    use_server_requested = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Models", parent)
        self.setObjectName("modelsDock")
        self.rows: list[ModelRow] = []
        self.servers: list[FoundServer] = []
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 6, 6, 6)
        self.serving = plain_label(QLabel("Not connected"))
        self.serving.setObjectName("servingLabel")
        self.serving.setWordWrap(True)
        outer.addWidget(self.serving)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self._models_box())
        split.addWidget(self._servers_box())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 130])
        outer.addWidget(split, 1)
        self.note = plain_label(QLabel(""))
        self.note.setObjectName("modelsNote")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.note)
        self.setWidget(body)
        self._selection_changed()

    # --- building ---------------------------------------------------------------------------

    def _models_box(self) -> QWidget:
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        self.table = _table(COLUMNS)
        self.table.setMinimumHeight(120)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._emit(self.use_requested))
        col.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.use_button = QPushButton("Use for this session")
        self.use_button.setToolTip("Serve this model and pick it as the target of new turns")
        self.install_button = QPushButton("Install")
        self.uninstall_button = QPushButton("Uninstall")
        self.verify_button = QPushButton("Verify sha256")
        self.import_button = QPushButton("Import GGUF…")
        self.import_button.setToolTip("Use a .gguf file where it is (it is not copied)")
        self.remove_button = QPushButton("Forget import")
        self.refresh_button = QPushButton("Refresh")
        for button, signal in (
            (self.use_button, self.use_requested),
            (self.install_button, self.install_requested),
            (self.uninstall_button, self.uninstall_requested),
            (self.verify_button, self.verify_requested),
            (self.remove_button, self.remove_requested),
        ):
            button.clicked.connect(lambda _=False, s=signal: self._emit(s))
            bar.addWidget(button)
        self.import_button.clicked.connect(self.pick_gguf)
        self.refresh_button.clicked.connect(self.refresh_requested)
        bar.addStretch(1)
        bar.addWidget(self.import_button)
        bar.addWidget(self.refresh_button)
        col.addLayout(bar)
        progress = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_label = plain_label(QLabel(""))
        self.progress_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        col.addLayout(progress)
        col.addWidget(self.progress_label)
        self.set_progress(None)
        return box

    def _servers_box(self) -> QGroupBox:
        box = QGroupBox("Model servers on this computer (OpenAI-compatible)")
        col = QVBoxLayout(box)
        self.server_table = _table(SERVER_COLUMNS)
        self.server_table.setMinimumHeight(90)
        self.server_table.itemSelectionChanged.connect(self._server_selected)
        col.addWidget(self.server_table, 1)
        bar = QHBoxLayout()
        self.scan_button = QPushButton("Scan")
        self.scan_button.setToolTip("Look for Ollama, LM Studio, llama.cpp server and vLLM")
        self.scan_button.clicked.connect(self.scan_requested)
        self.url = QLineEdit()
        self.url.setPlaceholderText("Add a server: http://host:port/v1")
        self.url.setAccessibleName("Server URL to add")
        self.url.returnPressed.connect(self._add_server)
        add = QPushButton("Add")
        add.clicked.connect(self._add_server)
        self.server_model = QComboBox()
        self.server_model.setAccessibleName("Model on the selected server")
        self.server_model.setMinimumContentsLength(18)
        self.use_server_button = QPushButton("Use this server")
        self.use_server_button.setToolTip("Run the local engine on this server and model")
        self.use_server_button.clicked.connect(self._use_server)
        for w in (self.scan_button, self.url, add, self.server_model, self.use_server_button):
            bar.addWidget(w, 1 if w is self.url else 0)
        col.addLayout(bar)
        self._server_selected()
        return box

    # --- filling ----------------------------------------------------------------------------

    def set_rows(self, rows: list[ModelRow]) -> None:
        keep = self.current_row()
        self.rows = list(rows)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            meta = row.meta
            vision = "—" if meta is None else ("yes" if meta.vision else "no")
            if meta is not None and meta.vision_file:
                vision = f"yes ({meta.vision_file})"
            values = (
                row.id,
                _SOURCE.get(row.kind, row.kind),
                status_text(row),
                human_size(row.size),
                f"{row.context_length:,}" if row.context_length else "—",
                meta.quantization if meta and meta.quantization else "—",
                meta.architecture if meta and meta.architecture else "—",
                "—" if meta is None else ("yes" if meta.chat_template else "no"),
                vision,
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                tip = [row.name, row.path, row.problem]
                item.setToolTip(plain_tip("\n".join(t for t in tip if t)))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        if keep is not None:
            self.select_model(keep.id)
        self._selection_changed()

    def set_servers(self, servers: list[FoundServer]) -> None:
        self.servers = list(servers)
        self.server_table.setRowCount(len(servers))
        for r, found in enumerate(servers):
            models = ", ".join(m.id for m in found.models[:4])
            if len(found.models) > 4:
                models += f" … ({len(found.models)} in all)"
            status = (
                ("running" + (" (Ollama)" if found.kind == "ollama" else ""))
                if found.ok
                else found.problem
            )
            for c, value in enumerate((found.name, found.base_url, status, models or "—")):
                self.server_table.setItem(r, c, QTableWidgetItem(value))
        self.server_table.resizeColumnsToContents()
        self._server_selected()

    def set_progress(
        self, fraction: float | None, text: str = "", *, cancel: bool = False, active: bool = False
    ) -> None:
        """Show work in progress: a fraction (None: busy, no percentage) and words."""
        shown = active or fraction is not None
        self.progress.setVisible(shown)
        self.cancel_button.setVisible(shown)
        self.cancel_button.setEnabled(cancel)
        self.progress_label.setVisible(bool(text))
        self.progress_label.setText(text)
        if fraction is None:
            self.progress.setRange(0, 0)  # a moving busy bar
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))

    def set_busy(self, busy: bool) -> None:
        """While an install or restart runs, the buttons that would start another wait."""
        self._busy = busy
        self._selection_changed()
        self._server_selected()

    # --- selection --------------------------------------------------------------------------

    def current_row(self) -> ModelRow | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        index = rows.pop()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def select_model(self, model_id: str) -> bool:
        for r, row in enumerate(self.rows):
            if row.id == model_id:
                self.table.selectRow(r)
                return True
        return False

    def _selection_changed(self) -> None:
        row = self.current_row()
        busy = getattr(self, "_busy", False)
        packaged = row is not None and row.kind == "packaged"
        self.use_button.setEnabled(
            row is not None and not busy and not row.missing and (row.installed or row.served)
        )
        self.install_button.setEnabled(packaged and not busy and not row.installed)  # type: ignore[union-attr]
        self.uninstall_button.setEnabled(packaged and not busy and row.installed)  # type: ignore[union-attr]
        self.verify_button.setEnabled(packaged and not busy and row.installed)  # type: ignore[union-attr]
        self.remove_button.setEnabled(row is not None and row.kind == "imported" and not busy)
        self.import_button.setEnabled(not busy)

    def _server_selected(self) -> None:
        found = self.current_server()
        self.server_model.clear()
        if found is not None:
            self.server_model.addItems([m.id for m in found.models])
        ok = found is not None and found.ok and bool(found.models)
        self.use_server_button.setEnabled(ok and not getattr(self, "_busy", False))

    def current_server(self) -> FoundServer | None:
        rows = {i.row() for i in self.server_table.selectedIndexes()}
        if len(rows) != 1:
            return None
        index = rows.pop()
        return self.servers[index] if 0 <= index < len(self.servers) else None

    def _emit(self, signal: object) -> None:
        row = self.current_row()
        if row is not None:
            signal.emit(row)  # type: ignore[attr-defined]

    def _add_server(self) -> None:
        text = self.url.text().strip()
        if text:
            self.add_server_requested.emit(text)

    def _use_server(self) -> None:
        found = self.current_server()
        if found is not None and self.server_model.currentText():
            self.use_server_requested.emit(found, self.server_model.currentText())

    def pick_gguf(self) -> QFileDialog:
        dialog = QFileDialog(self, "Import a GGUF model", "", "GGUF models (*.gguf)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.fileSelected.connect(self.import_requested)
        dialog.open()
        return dialog


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.setAlternatingRowColors(True)
    return table
