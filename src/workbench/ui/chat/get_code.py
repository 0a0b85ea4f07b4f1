"""The "Get code" dialog: the request being composed as Python, curl and raw JSON.

The samples come from ``core/request_code.py`` (a pure function of the create body); this
dialog only shows them, one tab each, with a Copy button, and says which environment variable
must hold the key, since the key itself is never in the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.request_code import CodeSamples, Server, request_code, server_for
from workbench.core.run_settings import RunSettings, build_request, user_turn
from workbench.core.settings import Settings

from ..plain import plain_label

TABS = (("Python (google-genai)", "python"), ("curl", "curl"), ("JSON", "json"))


class GetCodeDialog(QDialog):
    """Three read-only tabs and a Copy button for the one shown."""

    def __init__(
        self,
        samples: CodeSamples,
        server: Server,
        token_file: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get code")
        self.resize(760, 560)
        self.samples = samples
        layout = QVBoxLayout(self)
        where = "the local engine" if server.local else server.base_url
        where_token = f" (“token” in {token_file})" if token_file else ""
        key_note = (
            f"Export the engine's token{where_token} as ${server.key_env} first; it changes "
            "each time the engine starts."
            if server.local
            else f"Set ${server.key_env} to your API key first (it is never put in the code)."
        )
        self.note = plain_label(
            QLabel(f"The message being written, as a request to {where}. {key_note}", self)
        )
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.tabs = QTabWidget(self)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editors: dict[str, QPlainTextEdit] = {}
        for title, key in TABS:
            edit = QPlainTextEdit(self)
            edit.setReadOnly(True)
            edit.setFont(mono)
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            edit.setPlainText(getattr(samples, key))
            edit.setAccessibleName(f"{title} code")
            self.editors[key] = edit
            self.tabs.addTab(edit, title)
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the code in this tab")
        self.copy_button.clicked.connect(self.copy_current)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def current_text(self) -> str:
        return getattr(self.samples, TABS[self.tabs.currentIndex()][1])  # type: ignore[no-any-return]

    def copy_current(self) -> None:
        QGuiApplication.clipboard().setText(self.current_text())
        self.copy_button.setText("Copied")


def composed_request(
    text: str, attachments: list[Any], run: RunSettings, parent: str | None
) -> Any:
    """The create body Send would post now (the composer's text, or a placeholder)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text.strip() or "Your message"}]
    content += [a.to_content() for a in attachments]
    return build_request(run, user_turn(content), parent if run.store else None)


def open_get_code(
    settings: Settings,
    body: dict[str, Any],
    engine_url: str | None,
    token_file: Path,
    parent: QWidget,
) -> GetCodeDialog:
    """Open the dialog for ``body``; ValueError (plain words) when there is nothing to show."""
    server = server_for(settings.profile(), engine_url)
    samples = request_code(body, server)
    dialog = GetCodeDialog(samples, server, token_file if server.local else None, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.open()
    return dialog
