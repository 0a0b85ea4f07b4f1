"""A Markdown editor with a rendered preview (Edit | Preview tabs).

Signals:
    text_changed(): the text was edited by the user.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from workbench.core.agents import skill_front_matter


class MarkdownEditor(QWidget):
    """Plain-text Markdown with a preview; front matter is shown as a small table."""

    text_changed = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.edit = QPlainTextEdit()
        self.edit.setAccessibleName(name)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setTabChangesFocus(True)
        self.preview = QTextBrowser()
        self.preview.setAccessibleName(f"{name} preview")
        self.tabs.addTab(self.edit, "Edit")
        self.tabs.addTab(self.preview, "Preview")
        layout.addWidget(self.tabs)
        self._loading = False
        self.edit.textChanged.connect(self._edited)
        self.tabs.currentChanged.connect(lambda i: self.render_preview() if i == 1 else None)

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        if text == self.edit.toPlainText():
            return
        self._loading = True
        try:
            self.edit.setPlainText(text)
        finally:
            self._loading = False
        if self.tabs.currentIndex() == 1:
            self.render_preview()

    def render_preview(self) -> None:
        text = self.edit.toPlainText()
        front, _problem = skill_front_matter(text)
        body = text
        if text.startswith("---"):
            end = text.find("\n---", 3)
            body = text[end + 4 :] if end >= 0 else text
        head = ""
        if front:
            rows = "".join(f"| {k} | {v} |\n" for k, v in front.items())
            head = f"| field | value |\n|---|---|\n{rows}\n"
        self.preview.setMarkdown(head + body)

    def _edited(self) -> None:
        if not self._loading:
            self.text_changed.emit()
