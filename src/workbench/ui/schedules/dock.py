"""The Schedules dock: triggers that run an agent on a cron schedule, and their executions.

Top: the server's triggers (name, schedule in words, state, next run, failures in a row).
Middle: the form for a new one — agent, what to do, cron line, time zone — with a live
preview in words and the next five fire times. Bottom: the selected trigger's executions;
double-clicking one opens its transcript.

Signals:
    refresh_requested(): read the triggers again.
    create_requested(dict): the form's fields (agent, prompt, schedule, time_zone, name).
    pause_requested(str, bool): trigger id, paused?
    run_requested(str), delete_requested(str): a trigger id.
    selected(str): the trigger whose executions to show ("" for none).
    open_requested(object): a TriggerExecution whose transcript to open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.schedules import describe, preview
from workbench.protocol import Trigger, TriggerExecution

from ..plain import plain_label, plain_tip

ZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
         "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney")  # fmt: skip
EXAMPLES = (("every weekday at 09:00", "0 9 * * 1-5"), ("every hour", "0 * * * *"),
            ("every day at 06:30", "30 6 * * *"), ("every 15 minutes", "*/15 * * * *"))  # fmt: skip


def _local_zone() -> str:
    name = getattr(dt.datetime.now().astimezone().tzinfo, "key", None)
    return name if isinstance(name, str) else "UTC"


def when(stamp: str | None) -> str:
    """An RFC 3339 time as local ``YYYY-MM-DD HH:MM`` ("" when missing)."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def confirm(parent: QWidget, title: str, text: str, then: Callable[[], None]) -> QMessageBox:
    """A non-blocking Yes/Cancel question; ``then`` runs on Yes."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent,
    )  # fmt: skip
    box.setTextFormat(Qt.TextFormat.PlainText)  # it names things a server or user named
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.accepted.connect(then)
    box.open()
    return box


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class SchedulesDock(QDockWidget):
    """Triggers, a form for a new one with a cron preview, and executions."""

    refresh_requested = Signal()
    create_requested = Signal(dict)
    pause_requested = Signal(str, bool)
    run_requested = Signal(str)
    delete_requested = Signal(str)
    selected = Signal(str)
    open_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Schedules", parent)
        self.setObjectName("schedulesDock")
        self._triggers: list[Trigger] = []
        self._executions: list[TriggerExecution] = []
        self.dialog: QWidget | None = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)

        self.triggers = _table(["Name", "Schedule", "State", "Next run", "Failures"])
        self.triggers.itemSelectionChanged.connect(self._selection)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run now")
        self.pause_button = QPushButton("Pause")
        self.delete_button = QPushButton("Delete")
        refresh = QPushButton("Refresh")
        for button in (self.run_button, self.pause_button, self.delete_button):
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        self.run_button.clicked.connect(lambda: self.run_requested.emit(self.current_id()))
        self.pause_button.clicked.connect(self._pause_clicked)
        self.delete_button.clicked.connect(self._confirm_delete)
        refresh.clicked.connect(self.refresh_requested)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.triggers)
        top_layout.addLayout(buttons)

        form_box = QWidget()
        form = QFormLayout(form_box)
        form.setContentsMargins(0, 4, 0, 4)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Morning report")
        self.agent = QComboBox()
        self.agent.setEditable(True)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("What the agent should do each time it runs")
        self.prompt.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.schedule = QComboBox()
        self.schedule.setEditable(True)
        for label, line in EXAMPLES:
            self.schedule.addItem(line, label)
        self.schedule.setCurrentText(EXAMPLES[0][1])
        self.zone = QComboBox()
        self.zone.setEditable(True)
        local = _local_zone()
        self.zone.addItems(list(dict.fromkeys((local, *ZONES))))
        self.zone.setCurrentText(local)
        self.cron_preview = plain_label(QLabel())
        self.cron_preview.setWordWrap(True)
        self.cron_preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.create_button = QPushButton("Create schedule")
        self.create_button.clicked.connect(self._create_clicked)
        form.addRow("Name", self.name)
        form.addRow("Agent", self.agent)
        form.addRow("Task", self.prompt)
        form.addRow("Schedule", self.schedule)
        form.addRow("Time zone", self.zone)
        form.addRow("", self.cron_preview)
        form.addRow("", self.create_button)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(150)
        self._preview_timer.timeout.connect(self.update_preview)
        self.schedule.editTextChanged.connect(lambda _t: self._preview_timer.start())
        self.zone.editTextChanged.connect(lambda _t: self._preview_timer.start())

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.executions_label = plain_label(QLabel("Executions"))
        self.executions = _table(["Scheduled", "Status", "Started", "Ended", "Error"])
        self.executions.setToolTip("Double-click an execution to open its transcript")
        self.executions.cellDoubleClicked.connect(self._open_row)
        bottom_layout.addWidget(self.executions_label)
        bottom_layout.addWidget(self.executions)

        self.problem = plain_label(QLabel())
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b3261e")
        self.problem.hide()
        split = QSplitter(Qt.Orientation.Vertical)
        for part in (top, form_box, bottom):
            split.addWidget(part)
        layout.addWidget(self.problem)
        layout.addWidget(split)
        self.setWidget(body)
        self.update_preview()

    # --- what the controller sets --------------------------------------------------------

    def set_agents(self, agents: list[str]) -> None:
        current = self.agent.currentText()
        self.agent.clear()
        self.agent.addItems(agents)
        if current:
            self.agent.setCurrentText(current)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_triggers(self, triggers: list[Trigger]) -> None:
        keep = self.current_id()
        self._triggers = list(triggers)
        self.triggers.setRowCount(len(triggers))
        for row, trig in enumerate(triggers):
            words = describe(trig.schedule or "") or (trig.schedule or "")
            name = trig.display_name or trig.id or ""
            failures = str(trig.consecutive_failure_count or 0)
            cells = [name, words, trig.status or "", when(trig.next_run_time), failures]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, trig.id)
                if col == 1:
                    item.setToolTip(plain_tip(f"{trig.schedule} ({trig.time_zone})"))
                self.triggers.setItem(row, col, item)
        for row, trig in enumerate(triggers):
            if trig.id == keep:
                self.triggers.selectRow(row)
        self._selection()

    def set_executions(self, trigger_id: str, executions: list[TriggerExecution]) -> None:
        if trigger_id != self.current_id():
            return
        self._executions = list(executions)
        self.executions.setRowCount(len(executions))
        for row, ex in enumerate(executions):
            cells = [when(ex.scheduled_time), (ex.status or "").replace("_", " "),
                     when(ex.start_time), when(ex.end_time), ex.error or ""]  # fmt: skip
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if ex.interaction_id:
                    item.setToolTip(
                        plain_tip(f"Interaction {ex.interaction_id} — double-click to open")
                    )
                self.executions.setItem(row, col, item)
        name = self.current_trigger()
        label = name.display_name or name.id if name else ""
        self.executions_label.setText(f"Executions of {label}" if label else "Executions")

    # --- reading it ----------------------------------------------------------------------

    def current_id(self) -> str:
        rows = self.triggers.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.triggers.item(rows[0].row(), 0)
        value: Any = item.data(Qt.ItemDataRole.UserRole) if item else ""
        return str(value or "")

    def current_trigger(self) -> Trigger | None:
        wanted = self.current_id()
        return next((t for t in self._triggers if t.id == wanted), None)

    def update_preview(self) -> None:
        shown = preview(self.schedule.currentText(), self.zone.currentText().strip())
        if not shown.ok:
            self.cron_preview.setText(f"⚠ {shown.error}")
            self.create_button.setEnabled(False)
            return
        times = "\n".join(t.strftime("  %a %Y-%m-%d %H:%M") for t in shown.next_times)
        self.cron_preview.setText(f"Runs {shown.description}. Next:\n{times}")
        self.create_button.setEnabled(True)

    def clear_form(self) -> None:
        self.name.clear()
        self.prompt.clear()

    # --- events --------------------------------------------------------------------------

    def _selection(self) -> None:
        trig = self.current_trigger()
        for button in (self.run_button, self.pause_button, self.delete_button):
            button.setEnabled(trig is not None)
        paused = trig is not None and trig.status != "active"
        self.pause_button.setText("Resume" if paused else "Pause")
        if trig is None:
            self.executions.setRowCount(0)
            self.executions_label.setText("Executions")
        self.selected.emit(trig.id if trig and trig.id else "")

    def _confirm_delete(self) -> None:
        trig = self.current_trigger()
        if trig is None or not trig.id:
            return
        trigger_id = trig.id
        self.dialog = confirm(
            self, "Delete schedule",
            f"Delete the schedule “{trig.display_name or trigger_id}”? Its past runs stay.",
            lambda: self.delete_requested.emit(trigger_id),
        )  # fmt: skip

    def _pause_clicked(self) -> None:
        trig = self.current_trigger()
        if trig is not None and trig.id:
            self.pause_requested.emit(trig.id, trig.status == "active")

    def _create_clicked(self) -> None:
        self.create_requested.emit({
            "name": self.name.text(), "agent": self.agent.currentText(),
            "prompt": self.prompt.toPlainText(), "schedule": self.schedule.currentText(),
            "time_zone": self.zone.currentText().strip(),
        })  # fmt: skip

    def _open_row(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._executions) and self._executions[row].interaction_id:
            self.open_requested.emit(self._executions[row])
