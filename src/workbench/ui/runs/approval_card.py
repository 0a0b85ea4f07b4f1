"""An inline card that asks whether Workbench may run a client-side function call.

It shows the full arguments (editable JSON), and for functions Workbench has no handler
for, a box for the result to send. Never a modal dialog.

Signals:
    decided(str, str, object, object): call id, decision ("once", "run", "always", "deny"),
        the (edited) arguments dict, and the typed result (or None).
"""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.approvals import Decision
from workbench.core.runs import PendingCall

from ..plain import plain_label


class ApprovalCard(QFrame):
    """Allow once / Allow for this run / Always for this tool / Deny."""

    decided = Signal(str, str, object, object)

    def __init__(self, call: PendingCall, *, has_handler: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.call = call
        self.setObjectName("approvalCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#approvalCard { border: 1px solid #bf8700; border-radius: 6px; "
            "background: rgba(191,135,0,0.08); }"
        )
        self.setAccessibleName(f"Approve call to {call.name}")
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>{html.escape(call.name)}</b> wants to run on this computer")
        title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(title)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        layout.addWidget(QLabel("Arguments (you can edit them):"))
        self.args = QPlainTextEdit(json.dumps(call.arguments, indent=2, ensure_ascii=False))
        self.args.setFont(mono)
        self.args.setAccessibleName("Arguments")
        self.args.setMaximumHeight(110)
        self.args.setTabChangesFocus(True)
        layout.addWidget(self.args)
        self.result: QPlainTextEdit | None = None
        if not has_handler:
            layout.addWidget(
                QLabel("Workbench has no implementation of this function: type its result.")
            )
            self.result = QPlainTextEdit()
            self.result.setFont(mono)
            self.result.setPlaceholderText('{"temp_c": 21}  — JSON or plain text')
            self.result.setAccessibleName("Result")
            self.result.setMaximumHeight(70)
            self.result.setTabChangesFocus(True)
            layout.addWidget(self.result)
        self.problem = plain_label(QLabel())
        self.problem.setStyleSheet("color: #cf222e;")
        self.problem.hide()
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        self.buttons: dict[Decision, QPushButton] = {}
        for decision, label in (
            (Decision.ONCE, "Allow once"),
            (Decision.RUN, "Allow for this run"),
            (Decision.ALWAYS, "Always for this tool"),
            (Decision.DENY, "Deny"),
        ):
            button = QPushButton(label)
            button.setObjectName(f"approve_{decision.value}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, d=decision: self._decide(d))
            self.buttons[decision] = button
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)

    def _decide(self, decision: Decision) -> None:
        try:
            args = json.loads(self.args.toPlainText() or "{}")
        except ValueError as exc:
            self._complain(f"The arguments are not valid JSON: {exc}")
            return
        if not isinstance(args, dict):
            self._complain("The arguments must be a JSON object.")
            return
        result: Any = None
        if self.result is not None and decision != Decision.DENY:
            text = self.result.toPlainText().strip()
            if not text:
                self._complain("Type the result to send back first.")
                return
            try:
                result = json.loads(text)
            except ValueError:
                result = text
        self.problem.hide()
        for button in self.buttons.values():
            button.setEnabled(False)
        self.decided.emit(self.call.call_id, decision.value, args, result)

    def _complain(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
