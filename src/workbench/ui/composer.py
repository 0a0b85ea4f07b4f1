"""The composer: a multi-line editor, attachment chips, Send/Stop.

The widget never reads files itself: dropped, pasted or picked files are announced with
``files_requested`` and the controller answers with ``add_attachment`` or ``refuse``.

Signals:
    send_requested(str, list): the text and the attachments to send.
    stop_requested(): Esc or the Stop button while a response runs.
    files_requested(list): local file paths to check and attach.
    data_pasted(str, bytes, str): name, bytes and MIME type of pasted media.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.attachments import Attachment, human_size

_KIND_ICONS = {"image": "🖼", "audio": "🎵", "video": "🎬", "document": "📄", "text": "📝"}


class ComposerEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter inserts a line, Esc stops; pasted media becomes chips."""

    submitted = Signal()
    escaped = Signal()
    media_pasted = Signal(QMimeData)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if not (mods & Qt.KeyboardModifier.AltModifier):
                self.submitted.emit()
                return
        if key == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasImage() or (source.hasUrls() and any(u.isLocalFile() for u in source.urls())):
            self.media_pasted.emit(source)
            return
        super().insertFromMimeData(source)


class AttachmentChip(QWidget):
    """One attachment: type, name, size and how it will be sent, with a remove button."""

    remove_requested = Signal(object)

    def __init__(self, attachment: Attachment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attachment = attachment
        self.setObjectName("chip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 2, 2)
        icon = _KIND_ICONS.get(attachment.kind, "📎")
        label = QLabel(
            f"{icon} <b>{attachment.name}</b> · {attachment.mime_type} · "
            f"{human_size(attachment.size)} · {attachment.sent_as}"
        )
        label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(label)
        remove = QToolButton(self)
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setToolTip(f"Remove {attachment.name}")
        remove.setAccessibleName(f"Remove {attachment.name}")
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        layout.addWidget(remove)
        self.setStyleSheet(
            "#chip { border: 1px solid palette(mid); border-radius: 10px; "
            "background: palette(alternate-base); }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.label = label


class Composer(QWidget):
    """Where the user writes the next turn."""

    send_requested = Signal(str, list)
    stop_requested = Signal()
    files_requested = Signal(list)
    data_pasted = Signal(str, bytes, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._running = False
        self._chips: list[AttachmentChip] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 4, 10, 10)
        outer.setSpacing(4)

        self.message = QLabel(self)
        self.message.setObjectName("composerMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #cf222e;")
        self.message.hide()
        outer.addWidget(self.message)

        self.chip_row = QHBoxLayout()
        self.chip_row.setSpacing(6)
        self.chip_row.addStretch(1)
        outer.addLayout(self.chip_row)

        row = QHBoxLayout()
        self.add_button = QToolButton(self)
        self.add_button.setText("+")
        self.add_button.setToolTip("Attach files (images, audio, video, PDF, text)")
        self.add_button.setAccessibleName("Attach files")
        self.add_button.setMinimumSize(34, 34)
        self.add_button.clicked.connect(self.pick_files)
        row.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignBottom)

        self.edit = ComposerEdit(self)
        self.edit.setObjectName("composer")
        self.edit.setAccessibleName("Message")
        self.edit.setPlaceholderText(
            "Message… (Enter sends, Shift+Enter new line, Esc stops; drop or paste files)"
        )
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(64)
        self.edit.textChanged.connect(self._fit_height)
        self.edit.submitted.connect(self.submit)
        self.edit.escaped.connect(self._escape)
        self.edit.media_pasted.connect(self._mime)
        row.addWidget(self.edit, 1)

        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send")
        self.send_button.setMinimumHeight(34)
        self.send_button.clicked.connect(self._send_or_stop)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addLayout(row)
        self._dialog: QFileDialog | None = None

    def _fit_height(self) -> None:
        """Grow with the text (up to about eight lines), shrink back when it is sent."""
        lines = max(1, self.edit.document().size().height())
        line_px = self.edit.fontMetrics().lineSpacing()
        wanted = int(min(max(64, lines * line_px + 16), 8 * line_px + 16))
        if wanted != self.edit.height():
            self.edit.setFixedHeight(wanted)

    # --- state ---------------------------------------------------------------------------

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)
        self.edit.moveCursor(self.edit.textCursor().MoveOperation.End)

    def attachments(self) -> list[Attachment]:
        return [c.attachment for c in self._chips]

    def set_running(self, running: bool) -> None:
        self._running = running
        self.send_button.setText("Stop" if running else "Send")
        self.send_button.setToolTip("Stop the response (Esc)" if running else "Send (Enter)")

    @property
    def running(self) -> bool:
        return self._running

    def add_attachment(self, attachment: Attachment) -> None:
        chip = AttachmentChip(attachment, self)
        chip.remove_requested.connect(self._remove_chip)
        self._chips.append(chip)
        self.chip_row.insertWidget(self.chip_row.count() - 1, chip)
        self.clear_message()

    def refuse(self, message: str) -> None:
        """Show why a file was not attached; the text and other chips stay as they are."""
        self.message.setText(message)
        self.message.show()

    def clear_message(self) -> None:
        self.message.clear()
        self.message.hide()

    def clear(self) -> None:
        self.edit.clear()
        for chip in list(self._chips):
            self._remove_chip(chip)
        self.clear_message()

    # --- actions -------------------------------------------------------------------------

    def submit(self) -> None:
        if self._running:
            return
        text = self.text().strip()
        if not text and not self._chips:
            return
        self.send_requested.emit(text, self.attachments())

    def _send_or_stop(self) -> None:
        if self._running:
            self.stop_requested.emit()
        else:
            self.submit()

    def _escape(self) -> None:
        if self._running:
            self.stop_requested.emit()

    def _remove_chip(self, chip: AttachmentChip) -> None:
        if chip in self._chips:
            self._chips.remove(chip)
        self.chip_row.removeWidget(chip)
        chip.deleteLater()

    def pick_files(self) -> None:
        dialog = QFileDialog(self, "Attach files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.filesSelected.connect(lambda files: self.files_requested.emit(list(files)))
        self._dialog = dialog
        dialog.open()

    def _mime(self, mime: QMimeData) -> None:
        if mime.hasUrls():
            files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if files:
                self.files_requested.emit(files)
                return
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                data = QByteArray()
                buf = QBuffer(data)
                buf.open(QIODevice.OpenModeFlag.WriteOnly)
                image.save(buf, "PNG")  # type: ignore[call-overload]
                buf.close()
                self.data_pasted.emit("pasted image.png", bytes(data.data()), "image/png")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self._mime(event.mimeData())
        event.acceptProposedAction()
