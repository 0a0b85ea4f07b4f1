"""The composer's media widgets: an attachment's chip and the upload progress bar.

``AttachmentChip`` is a ``MediaChip`` that carries its ``Attachment``; until the real summary
(thumbnail, duration, pages) is computed off the UI thread it shows the kind's icon with the
MIME type and size. ``UploadBar`` shows a Files API upload's progress with a Cancel button.
``DropArea`` is the chat column: files dropped anywhere on it (the transcript too) are
handed to the composer.

Signals:
    UploadBar.cancel_requested(): Cancel was clicked.
    DropArea.dropped(QMimeData): files or an image were dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from workbench.core.attachments import Attachment, human_size
from workbench.core.media_info import MediaSummary

from .media_chip import MediaChip
from .plain import plain_label


def placeholder(attachment: Attachment) -> MediaSummary:
    """What a chip shows before the summary is computed: the type and the size."""
    return MediaSummary(attachment.kind, f"{attachment.mime_type} · {human_size(attachment.size)}")


class AttachmentChip(MediaChip):
    """One attachment in the composer: thumbnail, name, what it is, how it travels; removable."""

    def __init__(
        self,
        attachment: Attachment,
        summary: MediaSummary | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            attachment.name,
            summary or placeholder(attachment),
            parent,
            note=attachment.sent_as,
            openable=attachment.path is not None,
        )
        self.attachment = attachment

    @property
    def label(self) -> QLabel:
        """The line saying how the file is sent."""
        return self.how


class UploadBar(QWidget):
    """ "Uploading big.mp4 — 12.0 MB of 40.0 MB" with a progress bar and Cancel."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("uploadBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = plain_label(QLabel(self))
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.label)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName("Upload progress")
        layout.addWidget(self.bar, 1)
        self.cancel = QPushButton("Cancel upload", self)
        self.cancel.setAccessibleName("Cancel upload")
        self.cancel.clicked.connect(self.cancel_requested)
        layout.addWidget(self.cancel)
        self.hide()

    def show_progress(self, name: str, done: int, total: int, step: str = "") -> None:
        """Show ``done`` of ``total`` bytes of ``name`` sent (``step``: "1 of 2" when several)."""
        of = f" ({step})" if step else ""
        self.label.setText(f"Uploading {name}{of} — {human_size(done)} of {human_size(total)}")
        self.bar.setValue(int(1000 * done / total) if total else 0)
        self.bar.setFormat(f"{100 * done // total if total else 0} %")
        self.show()


class DropArea(QWidget):
    """A widget that takes dropped files and images for the composer."""

    dropped = Signal(QMimeData)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.dropped.emit(event.mimeData())
        event.acceptProposedAction()
