"""A chip that shows an attachment as media: a thumbnail or poster frame, and what it is.

``MediaChip`` draws a ``core.media_info.MediaSummary`` (computed off the UI thread by its
owner): the image itself or a video's first frame scaled to a thumbnail, an icon for audio and
documents, the file name, and the summary line ("audio 0:12 · 1.1 MB", "PDF · 3 pages"). It
never decodes files itself beyond handing the thumbnail bytes to ``QImage``.

Signals:
    remove_requested(str): the chip's name, when its × is clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from workbench.core.media_info import MediaSummary

THUMBNAIL = 64
ICONS = {"image": "🖼", "audio": "🎵", "video": "🎬", "document": "📄", "text": "📝"}


class MediaChip(QFrame):
    """One attachment shown as media, with a remove button."""

    remove_requested = Signal(str)

    def __init__(self, name: str, summary: MediaSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.summary = summary
        self.setObjectName("mediaChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMBNAIL, THUMBNAIL)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.has_picture = self._show_picture(summary.poster)
        if not self.has_picture:
            self.thumbnail.setText(ICONS.get(summary.kind, "📎"))
            font = self.thumbnail.font()
            font.setPointSize(font.pointSize() * 2)
            self.thumbnail.setFont(font)
        layout.addWidget(self.thumbnail)
        text = QVBoxLayout()
        self.title = QLabel(name)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel(summary.label)
        self.detail.setEnabled(False)  # drawn in the palette's secondary colour
        text.addWidget(self.title)
        text.addWidget(self.detail)
        layout.addLayout(text)
        self.remove = QToolButton()
        self.remove.setText("×")
        self.remove.setToolTip(f"Remove {name}")
        self.remove.setAccessibleName(f"Remove {name}")
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.name))
        layout.addWidget(self.remove)
        self.setToolTip(f"{name}\n{summary.label}")

    def _show_picture(self, data: bytes | None) -> bool:
        if not data:
            return False
        image = QImage.fromData(QByteArray(data))
        if image.isNull():
            return False
        scaled = QPixmap.fromImage(image).scaled(
            THUMBNAIL,
            THUMBNAIL,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.thumbnail.setPixmap(scaled)
        return True
