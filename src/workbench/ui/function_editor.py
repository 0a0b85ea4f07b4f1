"""A JSON editor for function declarations that says what is wrong as you type.

Signals:
    functions_changed(list): the valid declarations (emitted only when the text is valid).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from workbench.core.functions import FunctionProblem, parse_functions

from .plain import plain_label

EXAMPLE = """[
  {
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
      "type": "object",
      "properties": {"city": {"type": "string"}},
      "required": ["city"]
    }
  }
]"""


class FunctionEditor(QWidget):
    """JSON text of ``[{name, description, parameters}]`` with live validation."""

    functions_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName("functionEditor")
        self.edit.setAccessibleName("Function declarations (JSON)")
        self.edit.setPlaceholderText('[{"name": "get_weather", "parameters": {"type": "object"}}]')
        self.edit.setToolTip("A JSON array of function declarations, for example:\n" + EXAMPLE)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(90)
        layout.addWidget(self.edit)
        self.status = plain_label(QLabel(self))
        self.status.setObjectName("functionStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.problems: list[FunctionProblem] = []
        self._valid: list[dict[str, Any]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.validate)
        self.edit.textChanged.connect(self._timer.start)
        self._show()

    def set_functions(self, functions: list[dict[str, Any]]) -> None:
        import json

        self.edit.blockSignals(True)
        self.edit.setPlainText(json.dumps(functions, indent=2) if functions else "")
        self.edit.blockSignals(False)
        self.validate()

    def functions(self) -> list[dict[str, Any]]:
        return list(self._valid)

    def validate(self) -> list[FunctionProblem]:
        self._timer.stop()
        decls, self.problems = parse_functions(self.edit.toPlainText())
        if not self.problems:
            changed = decls != self._valid
            self._valid = decls
            if changed:
                self.functions_changed.emit(decls)
        self._show()
        return self.problems

    def _show(self) -> None:
        if self.problems:
            self.status.setStyleSheet("color: #cf222e;")
            lines = [str(p) for p in self.problems[:4]]
            if len(self.problems) > 4:
                lines.append(f"…and {len(self.problems) - 4} more")
            self.status.setText("\n".join(lines) + "\nThe last valid declarations stay in use.")
        elif self._valid:
            self.status.setStyleSheet("color: palette(mid);")
            names = ", ".join(d["name"] for d in self._valid)
            self.status.setText(f"✓ {len(self._valid)} function(s): {names}")
        else:
            self.status.setStyleSheet("color: palette(mid);")
            self.status.setText("No functions. Paste a JSON array of declarations.")
