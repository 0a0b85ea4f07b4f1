"""The Deep Research panel: a question, the sources to read, options, and the plan to confirm.

Signals:
    start_requested(object): a :class:`ResearchAsk` — start a research run.
    uploads_requested(): list the server's Files API files again.
    plan_answered(str, str): run id and the plan as the user left it (unchanged = confirm).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.research import AGENTS, DEFAULT_AGENT, ResearchOptions, ResearchSources

PathRole = Qt.ItemDataRole.UserRole + 1
FolderRole = Qt.ItemDataRole.UserRole + 2


@dataclass
class ResearchAsk:
    """What the panel asks for."""

    question: str
    sources: ResearchSources
    options: ResearchOptions


def _lines(widget: QPlainTextEdit, rows: int) -> None:
    height = widget.fontMetrics().lineSpacing() * rows + 14
    widget.setFixedHeight(height)


class ResearchDock(QDockWidget):
    """The form, then (once a run proposes one) its plan with Confirm / Edit & continue."""

    start_requested = Signal(object)
    uploads_requested = Signal()
    plan_answered = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Deep Research", parent)
        self.setObjectName("researchDock")
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(8, 8, 8, 8)

        outer.addWidget(QLabel("<b>Research question</b>"))
        self.question = QPlainTextEdit()
        self.question.setObjectName("researchQuestion")
        self.question.setAccessibleName("Research question")
        self.question.setPlaceholderText("What should the research find out?")
        _lines(self.question, 3)
        outer.addWidget(self.question)

        sources = QGroupBox("Sources to include")
        sl = QVBoxLayout(sources)
        sl.addWidget(QLabel("Folders and files on this computer:"))
        self.local = QListWidget()
        self.local.setAccessibleName("Local folders and files")
        self.local.setMaximumHeight(90)
        sl.addWidget(self.local)
        row = QHBoxLayout()
        self.add_folder_button = QPushButton("Add folder…")
        self.add_files_button = QPushButton("Add files…")
        self.remove_button = QPushButton("Remove")
        for b in (self.add_folder_button, self.add_files_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        sl.addLayout(row)
        up_row = QHBoxLayout()
        up_row.addWidget(QLabel("Files already uploaded to the server:"), 1)
        self.refresh_uploads_button = QPushButton("Refresh")
        up_row.addWidget(self.refresh_uploads_button)
        sl.addLayout(up_row)
        self.uploads = QListWidget()
        self.uploads.setAccessibleName("Uploaded files (Files API)")
        self.uploads.setMaximumHeight(80)
        sl.addWidget(self.uploads)
        sl.addWidget(QLabel("Web pages it may read (one address per line):"))
        self.urls = QPlainTextEdit()
        self.urls.setAccessibleName("Allowed web pages")
        self.urls.setPlaceholderText("https://example.org/report")
        _lines(self.urls, 2)
        sl.addWidget(self.urls)
        outer.addWidget(sources)

        options = QGroupBox("Options")
        ol = QFormLayout(options)
        self.agent = QComboBox()
        self.agent.setEditable(True)
        self.agent.addItems(list(AGENTS))
        self.agent.setCurrentText(DEFAULT_AGENT)
        self.agent.setAccessibleName("Deep Research agent")
        ol.addRow("Agent:", self.agent)
        self.plan_first = QCheckBox("Show me the plan first (collaborative planning)")
        self.plan_first.setChecked(True)
        self.summaries = QCheckBox("Report progress (thinking summaries)")
        self.summaries.setChecked(True)
        self.charts = QCheckBox("Add charts (visualization)")
        for box in (self.plan_first, self.summaries, self.charts):
            ol.addRow(box)
        outer.addWidget(options)

        start_row = QHBoxLayout()
        self.start_button = QPushButton("Start research")
        self.start_button.setObjectName("startResearch")
        self.start_button.setDefault(True)
        start_row.addWidget(self.start_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("researchStatus")
        start_row.addWidget(self.status, 1)
        outer.addLayout(start_row)

        self.plan_box = QGroupBox("Research plan")
        pl = QVBoxLayout(self.plan_box)
        self.plan_title = QLabel()
        self.plan_title.setWordWrap(True)
        pl.addWidget(self.plan_title)
        self.plan = QPlainTextEdit()
        self.plan.setObjectName("researchPlan")
        self.plan.setAccessibleName("Research plan (editable)")
        self.plan.setMinimumHeight(140)
        pl.addWidget(self.plan, 1)
        plan_row = QHBoxLayout()
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setToolTip("Run the research with this plan")
        self.edit_button = QPushButton("Edit && continue")
        self.edit_button.setToolTip("Run the research with the plan as you edited it")
        self.edit_button.setEnabled(False)
        plan_row.addStretch(1)
        plan_row.addWidget(self.edit_button)
        plan_row.addWidget(self.confirm_button)
        pl.addLayout(plan_row)
        self.plan_box.hide()
        outer.addWidget(self.plan_box, 1)
        outer.addStretch(0)
        self.setWidget(body)

        self.plan_run_id = ""
        self._plan_text = ""
        self.dialog: QFileDialog | None = None
        self.add_folder_button.clicked.connect(self._pick_folder)
        self.add_files_button.clicked.connect(self._pick_files)
        self.remove_button.clicked.connect(self._remove)
        self.refresh_uploads_button.clicked.connect(self.uploads_requested.emit)
        self.start_button.clicked.connect(self._start)
        self.plan.textChanged.connect(self._plan_edited)
        self.confirm_button.clicked.connect(lambda: self._answer(self._plan_text))
        self.edit_button.clicked.connect(lambda: self._answer(self.plan.toPlainText()))

    # --- sources -------------------------------------------------------------------------

    def add_local(self, path: Path, *, folder: bool) -> None:
        """Add a folder or a file (once)."""
        for row in range(self.local.count()):
            if self.local.item(row).data(PathRole) == str(path):
                return
        item = QListWidgetItem(("Folder: " if folder else "File: ") + str(path))
        item.setData(PathRole, str(path))
        item.setData(FolderRole, folder)
        self.local.addItem(item)

    def set_uploads(self, files: list[tuple[str, str]]) -> None:
        """The server's uploaded files, as ``(name, label)``; ticked ones stay ticked."""
        ticked = set(self.ticked_uploads())
        self.uploads.clear()
        for name, label in files:
            item = QListWidgetItem(label)
            item.setData(PathRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in ticked else Qt.CheckState.Unchecked)
            self.uploads.addItem(item)
        if not files:
            item = QListWidgetItem("(no uploaded files)")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.uploads.addItem(item)

    def ticked_uploads(self) -> list[str]:
        out = []
        for row in range(self.uploads.count()):
            item = self.uploads.item(row)
            if item.checkState() == Qt.CheckState.Checked and item.data(PathRole):
                out.append(str(item.data(PathRole)))
        return out

    def ask(self) -> ResearchAsk:
        """The form as a request (checked by core when it is built)."""
        items = [self.local.item(r) for r in range(self.local.count())]
        urls = [u.strip() for u in self.urls.toPlainText().splitlines() if u.strip()]
        sources = ResearchSources(
            folders=[Path(str(i.data(PathRole))) for i in items if i.data(FolderRole)],
            files=[Path(str(i.data(PathRole))) for i in items if not i.data(FolderRole)],
            uploaded=self.ticked_uploads(),
            urls=urls,
        )
        options = ResearchOptions(
            agent=self.agent.currentText().strip(),
            plan_first=self.plan_first.isChecked(),
            thinking_summaries=self.summaries.isChecked(),
            visualization=self.charts.isChecked(),
        )
        return ResearchAsk(self.question.toPlainText().strip(), sources, options)

    # --- status and plan -----------------------------------------------------------------

    def show_status(self, text: str, *, problem: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #cf222e;" if problem else "")

    def set_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)

    def show_plan(self, run_id: str, title: str, plan: str) -> None:
        """A run proposed this plan: show it editable, with Confirm / Edit & continue."""
        if run_id == self.plan_run_id and plan == self._plan_text:
            return
        self.plan_run_id, self._plan_text = run_id, plan
        self.plan_title.setText(
            f"<b>{html.escape(title)}</b> proposes this plan. Confirm it, or edit the steps "
            "and continue."
        )
        self.plan.setPlainText(plan)
        self.plan_box.show()

    def hide_plan(self) -> None:
        self.plan_run_id, self._plan_text = "", ""
        self.plan_box.hide()

    def _plan_edited(self) -> None:
        self.edit_button.setEnabled(self.plan.toPlainText().strip() != self._plan_text.strip())

    def _answer(self, text: str) -> None:
        if self.plan_run_id:
            self.plan_answered.emit(self.plan_run_id, text)

    # --- internals -----------------------------------------------------------------------

    def _start(self) -> None:
        self.start_requested.emit(self.ask())

    def _dialog(self, title: str) -> QFileDialog:
        dialog = QFileDialog(self, title)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.destroyed.connect(lambda: setattr(self, "dialog", None))
        self.dialog = dialog
        return dialog

    def _pick_folder(self) -> None:
        dialog = self._dialog("Add a folder to research")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda p: self.add_local(Path(p), folder=True))
        dialog.open()

    def _pick_files(self) -> None:
        dialog = self._dialog("Add files to research")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self._add_files)
        dialog.open()

    def _add_files(self, paths: list[str]) -> None:
        for path in paths:
            self.add_local(Path(path), folder=False)

    def _remove(self) -> None:
        for item in self.local.selectedItems():
            self.local.takeItem(self.local.row(item))
