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

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.schedules import EVENTS
from workbench.protocol import Webhook, WebhookDelivery

from ..plain import plain_tip
from .list_detail import ListDetailDock, cell, list_table, when

STATES = {
    "enabled": "enabled",
    "disabled": "disabled",
    "disabled_due_to_failed_deliveries": "disabled (deliveries failed)",
}


def _item(text: str, row_id: str) -> QTableWidgetItem:
    return cell(text, row_id, plain_tip(text))


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


class WebhooksDock(ListDetailDock[Webhook]):
    """Webhooks | register form | deliveries of the selected one."""

    register_requested = Signal(str, list, str)
    ping_requested = Signal(str)
    rotate_requested = Signal(str)
    enable_requested = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Webhooks", "webhooksDock", parent)
        self.hooks = list_table(["Name", "URL", "Events", "State", "Secret"])
        self.ping_button = QPushButton("Ping")
        self.rotate_button = QPushButton("Rotate secret")
        self.enable_button = QPushButton("Disable")
        self.delete_button = QPushButton("Delete")
        top = self._list_panel(self.hooks, (self.ping_button, self.rotate_button,
                                            self.enable_button, self.delete_button))  # fmt: skip
        self.ping_button.clicked.connect(lambda: self.ping_requested.emit(self.current_id()))
        self.rotate_button.clicked.connect(lambda: self.rotate_requested.emit(self.current_id()))
        self.delete_button.clicked.connect(self._confirm_delete)
        self.enable_button.clicked.connect(self._enable_clicked)

        form_box, form = self._form_panel()
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

        self.deliveries_label = QLabel("Delivery log")
        self.deliveries = list_table(["Sent", "Event", "State", "Attempts", "Last answer"])
        self._stack(top, form_box, self._log_panel(self.deliveries_label, self.deliveries))

    def set_webhooks(self, hooks: list[Webhook]) -> None:
        rows = []
        for hook in hooks:
            secrets = hook.signing_secrets or []
            shown = secrets[0].truncated_secret or "" if secrets else ""
            events = ", ".join(e.removeprefix("interaction.") for e in hook.subscribed_events or [])
            cells = [hook.name or hook.id or "", hook.uri or "", events,
                     STATES.get(hook.state or "", hook.state or ""), shown]  # fmt: skip
            rows.append([_item(text, hook.id or "") for text in cells])
        self._set_items(hooks, rows)

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

    def clear_form(self) -> None:
        self.name.clear()
        self.uri.clear()

    def _show_selection(self, hook: Webhook | None) -> None:
        self.enable_button.setText("Disable" if hook and hook.state == "enabled" else "Enable")
        if hook is None:
            self.deliveries.setRowCount(0)

    def _confirm_delete(self) -> None:
        self._ask_to_delete(
            "Delete webhook",
            lambda h: f"Delete the webhook “{h.name or h.uri}”? Its deliveries stop at once.",
        )

    def _enable_clicked(self) -> None:
        hook = self.current()
        if hook is not None and hook.id:
            self.enable_requested.emit(hook.id, hook.state != "enabled")

    def _register_clicked(self) -> None:
        events = [e for e, box in self.event_boxes.items() if box.isChecked()]
        self.register_requested.emit(self.uri.text(), events, self.name.text())
