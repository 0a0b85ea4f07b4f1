"""The preview pane: text, rendered Markdown, images, CSV as a table, or why not."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QPixmap, QTextDocument
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QWidget,
)

from workbench.core.attachments import human_size
from workbench.core.sandbox_files import Preview

from ..plain import plain_label

MARKDOWN_FEATURES = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)


class PreviewPane(QStackedWidget):
    """One page per preview kind; ``show_preview`` picks it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("File preview")
        self.message = plain_label(QLabel("Select a file to preview it."))
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: palette(mid);")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.markdown = QTextBrowser()
        self.markdown.setOpenExternalLinks(False)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image_scroll = QScrollArea()
        image_scroll.setWidget(self.image)
        image_scroll.setWidgetResizable(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for page in (self.message, self.text, self.markdown, image_scroll, self.table):
            self.addWidget(page)
        self.kind = "none"

    def show_message(self, text: str) -> None:
        self.kind = "none"
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_preview(self, preview: Preview, name: str = "") -> None:
        self.kind = preview.kind
        if preview.kind == "text":
            self.text.setPlainText(preview.text)
            self.setCurrentWidget(self.text)
        elif preview.kind == "markdown":
            # A file's Markdown may carry HTML: shown as text, never as markup.
            self.markdown.document().setMarkdown(preview.text, MARKDOWN_FEATURES)
            self.setCurrentWidget(self.markdown)
        elif preview.kind == "image":
            pix = QPixmap()
            if pix.loadFromData(preview.data):
                if pix.width() > 900:
                    pix = pix.scaledToWidth(900, Qt.TransformationMode.SmoothTransformation)
                self.image.setPixmap(pix)
                self.setCurrentIndex(3)
            else:
                self.show_message(f"{name} is not an image Workbench can show.")
                self.kind = "none"
        elif preview.kind == "csv":
            rows = preview.rows or []
            header, body = (rows[0], rows[1:]) if rows else ([], [])
            self.table.clear()
            self.table.setColumnCount(max((len(r) for r in rows), default=0))
            self.table.setRowCount(len(body))
            self.table.setHorizontalHeaderLabels(header)
            for r, row in enumerate(body):
                for c, value in enumerate(row):
                    self.table.setItem(r, c, QTableWidgetItem(value))
            self.table.resizeColumnsToContents()
            self.setCurrentWidget(self.table)
        elif preview.kind == "too_big":
            self.show_message(f"{name} is too large to preview here. Use “Save as…”.")
        else:
            size = human_size(len(preview.data))
            self.show_message(f"{name} ({size}) is a binary file. Use “Save as…” to open it.")
