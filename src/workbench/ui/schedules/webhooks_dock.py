"""The Webhooks dock: registered webhooks, a form to add one, and the delivery log.

A new webhook's signing secret (and a rotated one) is shown once, in a dialog the user can
copy it from; it is never kept by the app.

Signals:
    refresh_requested(): read the webhooks again.
    register_requested(str, list, str): uri, events, name.
    ping_requested(str), rotate_requested(str), delete_requested(str): a webhook id.
    enable_requested(str, bool): webhook id, enabled?
    selected(str): the webhook whose deliveries to show ("" for none).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.schedules import EVENTS
from workbench.protocol import Webhook, WebhookDelivery

from ..plain import plain_label, plain_tip
from .dock import _table, confirm, when

STATES = {
    "enabled": "enabled",
    "disabled": "disabled",
    "disabled_due_to_failed_deliveries": "disabled (deliveries failed)",
}


def _item(text: str, row_id: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, row_id)
    item.setToolTip(plain_tip(text))
    return item


class SecretDialog(QDialog):
    """Shows a signing secret once, selectable, with a plain warning."""

    def __init__(self, title: str, secret: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Copy this signing secret into your receiver now: it is shown only this once. "
            "Receivers verify each delivery's webhook-signature with it (Standard Webhooks)."
        )
        note.setWordWrap(True)
        self.field = QLineEdit(secret)
        self.field.setReadOnly(True)
        self.field.selectAll()
        self.field.setMinimumWidth(self.fontMetrics().horizontalAdvance(secret) + 24)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout.addWidget(note)
        layout.addWidget(self.field)
        layout.addWidget(buttons)


class WebhooksDock(QDockWidget):
    """Webhooks | register form | deliveries of the selected one."""

    refresh_requested = Signal()
    register_requested = Signal(str, list, str)
    ping_requested = Signal(str)
    rotate_requested = Signal(str)
    delete_requested = Signal(str)
    enable_requested = Signal(str, bool)
    selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Webhooks", parent)
        self.setObjectName("webhooksDock")
        self._hooks: list[Webhook] = []
        self.dialog: QWidget | None = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        self.problem = plain_label(QLabel())
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b3261e")
        self.problem.hide()

        self.hooks = _table(["Name", "URL", "Events", "State", "Secret"])
        self.hooks.itemSelectionChanged.connect(self._selection)
        buttons = QHBoxLayout()
        self.ping_button = QPushButton("Ping")
        self.rotate_button = QPushButton("Rotate secret")
        self.enable_button = QPushButton("Disable")
        self.delete_button = QPushButton("Delete")
        refresh = QPushButton("Refresh")
        for button in (self.ping_button, self.rotate_button, self.enable_button,
                       self.delete_button):  # fmt: skip
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        self.ping_button.clicked.connect(lambda: self.ping_requested.emit(self.current_id()))
        self.rotate_button.clicked.connect(lambda: self.rotate_requested.emit(self.current_id()))
        self.delete_button.clicked.connect(self._confirm_delete)
        self.enable_button.clicked.connect(self._enable_clicked)
        refresh.clicked.connect(self.refresh_requested)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.hooks)
        top_layout.addLayout(buttons)

        form_box = QWidget()
        form = QFormLayout(form_box)
        form.setContentsMargins(0, 4, 0, 4)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. CI notifier")
        self.uri = QLineEdit()
        self.uri.setPlaceholderText("http://127.0.0.1:8080/hooks/gemini")
        events = QHBoxLayout()
        self.event_boxes: dict[str, QCheckBox] = {}
        for event in EVENTS:
            box = QCheckBox(event.removeprefix("interaction."))
            box.setToolTip(event)
            box.setChecked(event != "interaction.requires_action")
            self.event_boxes[event] = box
            events.addWidget(box)
        events.addStretch(1)
        self.register_button = QPushButton("Register webhook")
        self.register_button.clicked.connect(self._register_clicked)
        form.addRow("Name", self.name)
        form.addRow("URL", self.uri)
        form.addRow("Events", events)
        form.addRow("", self.register_button)

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.deliveries_label = QLabel("Delivery log")
        self.deliveries = _table(["Sent", "Event", "State", "Attempts", "Last answer"])
        bottom_layout.addWidget(self.deliveries_label)
        bottom_layout.addWidget(self.deliveries)
        split = QSplitter(Qt.Orientation.Vertical)
        for part in (top, form_box, bottom):
            split.addWidget(part)
        layout.addWidget(self.problem)
        layout.addWidget(split)
        self.setWidget(body)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_webhooks(self, hooks: list[Webhook]) -> None:
        keep = self.current_id()
        self._hooks = list(hooks)
        self.hooks.setRowCount(len(hooks))
        for row, hook in enumerate(hooks):
            secrets = hook.signing_secrets or []
            shown = secrets[0].truncated_secret or "" if secrets else ""
            events = ", ".join(e.removeprefix("interaction.") for e in hook.subscribed_events or [])
            cells = [hook.name or hook.id or "", hook.uri or "", events,
                     STATES.get(hook.state or "", hook.state or ""), shown]  # fmt: skip
            for col, text in enumerate(cells):
                item = _item(text, hook.id or "")
                self.hooks.setItem(row, col, item)
        for row, hook in enumerate(hooks):
            if hook.id == keep:
                self.hooks.selectRow(row)
        self._selection()

    def set_deliveries(self, webhook_id: str, deliveries: list[WebhookDelivery]) -> None:
        if webhook_id != self.current_id():
            return
        self.deliveries.setRowCount(len(deliveries))
        for row, d in enumerate(deliveries):
            answer = d.last_error or (f"HTTP {d.last_status}" if d.last_status else "")
            cells = [when(d.create_time), d.event_type or "", d.state or "",
                     str(d.attempts or 0), answer]  # fmt: skip
            for col, text in enumerate(cells):
                self.deliveries.setItem(row, col, _item(text, d.id or ""))

    def current_id(self) -> str:
        rows = self.hooks.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.hooks.item(rows[0].row(), 0)
        value: Any = item.data(Qt.ItemDataRole.UserRole) if item else ""
        return str(value or "")

    def current(self) -> Webhook | None:
        wanted = self.current_id()
        return next((h for h in self._hooks if h.id == wanted), None)

    def clear_form(self) -> None:
        self.name.clear()
        self.uri.clear()

    def _selection(self) -> None:
        hook = self.current()
        for button in (self.ping_button, self.rotate_button, self.enable_button,
                       self.delete_button):  # fmt: skip
            button.setEnabled(hook is not None)
        self.enable_button.setText("Disable" if hook and hook.state == "enabled" else "Enable")
        if hook is None:
            self.deliveries.setRowCount(0)
        self.selected.emit(hook.id if hook and hook.id else "")

    def _confirm_delete(self) -> None:
        hook = self.current()
        if hook is None or not hook.id:
            return
        webhook_id = hook.id
        self.dialog = confirm(
            self, "Delete webhook",
            f"Delete the webhook “{hook.name or hook.uri}”? Its deliveries stop at once.",
            lambda: self.delete_requested.emit(webhook_id),
        )  # fmt: skip

    def _enable_clicked(self) -> None:
        hook = self.current()
        if hook is not None and hook.id:
            self.enable_requested.emit(hook.id, hook.state != "enabled")

    def _register_clicked(self) -> None:
        events = [e for e, box in self.event_boxes.items() if box.isChecked()]
        self.register_requested.emit(self.uri.text(), events, self.name.text())
