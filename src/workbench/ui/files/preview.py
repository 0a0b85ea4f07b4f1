"""The preview pane: text, rendered Markdown, images, CSV as a table, or why not — and a
cited passage, highlighted in its file (or a PDF's page)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QPixmap, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from workbench.core.attachments import human_size
from workbench.core.cited_source import CitedText
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
        self.cited = QWidget()
        cited_layout = QVBoxLayout(self.cited)
        cited_layout.setContentsMargins(0, 0, 0, 0)
        self.cited_heading = QLabel()
        self.cited_heading.setObjectName("citedHeading")
        self.cited_heading.setWordWrap(True)
        self.cited_heading.setStyleSheet("font-weight: bold; padding: 2px;")
        self.cited_note = QLabel()
        self.cited_note.setWordWrap(True)
        self.cited_note.setStyleSheet("color: palette(mid); padding: 0 2px;")
        self.cited_text = QPlainTextEdit()
        self.cited_text.setReadOnly(True)
        self.cited_text.setAccessibleName("Cited source")
        self.cited_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        for widget in (self.cited_heading, self.cited_note, self.cited_text):
            cited_layout.addWidget(widget)
        cited_layout.setStretch(2, 1)
        pages = (self.message, self.text, self.markdown, image_scroll, self.table, self.cited)
        for page in pages:
            self.addWidget(page)
        self.kind = "none"
        self.highlighted: tuple[int, int] | None = None
        """The cited lines highlighted now (1-based, inclusive), for tests and screenshots."""

    def show_message(self, text: str) -> None:
        self.kind = "none"
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_cited(self, cited: CitedText) -> None:
        """A citation's source: its text, the cited lines highlighted and scrolled to."""
        self.kind = "cited"
        self.cited_heading.setText(cited.heading)
        self.cited_note.setText(cited.note)
        self.cited_note.setVisible(bool(cited.note))
        self.cited_text.setPlainText(cited.text)
        self.highlighted = None
        doc = self.cited_text.document()
        selections: list[QTextEdit.ExtraSelection] = []
        if cited.lines is not None:
            first = max(1, min(cited.lines[0], doc.blockCount()))
            last = max(first, min(cited.lines[1], doc.blockCount()))
            cursor = QTextCursor(doc.findBlockByNumber(first - 1))
            end = doc.findBlockByNumber(last - 1)
            stop = end.position() + max(0, end.length() - 1)
            cursor.setPosition(stop, QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format.setBackground(QColor(255, 213, 79, 140))
            selections.append(selection)
            self.highlighted = (first, last)
            self.cited_text.setTextCursor(QTextCursor(doc.findBlockByNumber(first - 1)))
            self.cited_text.centerCursor()
        self.cited_text.setExtraSelections(selections)
        self.setCurrentWidget(self.cited)

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
