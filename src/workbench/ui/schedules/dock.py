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

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QWidget

from workbench.core.schedules import describe, preview
from workbench.protocol import Trigger, TriggerExecution

from ..plain import plain_label, plain_tip
from .list_detail import ListDetailDock, cell, list_table, when

ZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
         "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney")  # fmt: skip
EXAMPLES = (("every weekday at 09:00", "0 9 * * 1-5"), ("every hour", "0 * * * *"),
            ("every day at 06:30", "30 6 * * *"), ("every 15 minutes", "*/15 * * * *"))  # fmt: skip


def _local_zone() -> str:
    name = getattr(dt.datetime.now().astimezone().tzinfo, "key", None)
    return name if isinstance(name, str) else "UTC"


class SchedulesDock(ListDetailDock[Trigger]):
    """Triggers, a form for a new one with a cron preview, and executions."""

    create_requested = Signal(dict)
    pause_requested = Signal(str, bool)
    run_requested = Signal(str)
    open_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Schedules", "schedulesDock", parent)
        self._executions: list[TriggerExecution] = []

        self.triggers = list_table(["Name", "Schedule", "State", "Next run", "Failures"])
        self.run_button = QPushButton("Run now")
        self.pause_button = QPushButton("Pause")
        self.delete_button = QPushButton("Delete")
        top = self._list_panel(self.triggers, (self.run_button, self.pause_button,
                                               self.delete_button))  # fmt: skip
        self.run_button.clicked.connect(lambda: self.run_requested.emit(self.current_id()))
        self.pause_button.clicked.connect(self._pause_clicked)
        self.delete_button.clicked.connect(self._confirm_delete)

        form_box, form = self._form_panel()
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

        self.executions_label = plain_label(QLabel("Executions"))
        self.executions = list_table(["Scheduled", "Status", "Started", "Ended", "Error"])
        self.executions.setToolTip("Double-click an execution to open its transcript")
        self.executions.cellDoubleClicked.connect(self._open_row)
        self._stack(top, form_box, self._log_panel(self.executions_label, self.executions))
        self.update_preview()

    # --- what the controller sets --------------------------------------------------------

    def set_agents(self, agents: list[str]) -> None:
        current = self.agent.currentText()
        self.agent.clear()
        self.agent.addItems(agents)
        if current:
            self.agent.setCurrentText(current)

    def set_triggers(self, triggers: list[Trigger]) -> None:
        rows = []
        for trig in triggers:
            words = describe(trig.schedule or "") or (trig.schedule or "")
            name = trig.display_name or trig.id or ""
            failures = str(trig.consecutive_failure_count or 0)
            cells = [name, words, trig.status or "", when(trig.next_run_time), failures]
            row = [cell(text, trig.id or "") for text in cells]
            row[1].setToolTip(plain_tip(f"{trig.schedule} ({trig.time_zone})"))
            rows.append(row)
        self._set_items(triggers, rows)

    def set_executions(self, trigger_id: str, executions: list[TriggerExecution]) -> None:
        if trigger_id != self.current_id():
            return
        self._executions = list(executions)
        self.executions.setRowCount(len(executions))
        for row, ex in enumerate(executions):
            cells = [when(ex.scheduled_time), (ex.status or "").replace("_", " "),
                     when(ex.start_time), when(ex.end_time), ex.error or ""]  # fmt: skip
            tip = f"Interaction {ex.interaction_id} — double-click to open"
            for col, text in enumerate(cells):
                shown = cell(text, tip=plain_tip(tip) if ex.interaction_id else "")
                self.executions.setItem(row, col, shown)
        name = self.current()
        label = name.display_name or name.id if name else ""
        self.executions_label.setText(f"Executions of {label}" if label else "Executions")

    # --- reading it ----------------------------------------------------------------------

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

    def _show_selection(self, trig: Trigger | None) -> None:
        paused = trig is not None and trig.status != "active"
        self.pause_button.setText("Resume" if paused else "Pause")
        if trig is None:
            self.executions.setRowCount(0)
            self.executions_label.setText("Executions")

    def _confirm_delete(self) -> None:
        self._ask_to_delete(
            "Delete schedule",
            lambda t: f"Delete the schedule “{t.display_name or t.id}”? Its past runs stay.",
        )

    def _pause_clicked(self) -> None:
        trig = self.current()
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
