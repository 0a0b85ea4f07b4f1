"""A chip that shows an attachment as media: a thumbnail or poster frame, and what it is.

``MediaChip`` draws a ``core.media_info.MediaSummary`` (computed off the UI thread by its
owner, and replaced with ``set_summary`` when it arrives): the image itself or a video's
first frame scaled to a thumbnail, an icon for audio and documents, the file name, and the
summary line ("audio 0:12 · 1.1 MB", "PDF · 3 pages"), then how it travels. It never
decodes files itself beyond handing the thumbnail bytes to ``QImage``.

Audio and video picked from disk get an "Open" button: this PySide6 build has no Qt
Multimedia to play them in the app, so the system's player opens the file.

Signals:
    remove_requested(str): the chip's name, when its × is clicked.
    open_requested(str): the chip's name, when Open is clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.media_info import MediaSummary

from . import icons
from .plain import plain_label, plain_tip

THUMBNAIL = 48
CHIP_MAX_WIDTH = 340
"""The widest a chip gets (long names are elided; the full name is in the tooltip)."""


class MediaChip(QFrame):
    """One attachment shown as media, with a remove button (and Open for audio/video)."""

    remove_requested = Signal(str)
    open_requested = Signal(str)

    def __init__(
        self,
        name: str,
        summary: MediaSummary,
        parent: QWidget | None = None,
        *,
        note: str = "",
        openable: bool = False,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.note = note
        self.summary = summary
        self.setObjectName("mediaChip")
        self.setStyleSheet(
            "#mediaChip { border: 1px solid palette(mid); border-radius: 8px; "
            "background: palette(alternate-base); }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMBNAIL, THUMBNAIL)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.thumbnail)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addStretch(1)
        self.title = plain_label(QLabel())
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # it quotes file names
        self.detail = plain_label(QLabel())
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setEnabled(False)  # drawn in the palette's secondary colour
        self.how = plain_label(QLabel())  # how it travels ("sent inline (base64)")
        self.how.setTextFormat(Qt.TextFormat.PlainText)
        self.how.setEnabled(False)
        small = self.how.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.how.setFont(small)
        for label in (self.title, self.detail, self.how):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            text.addWidget(label)
        text.addStretch(1)
        layout.addLayout(text, 1)
        self.open_button: QToolButton | None = None
        if openable and summary.kind in ("audio", "video"):
            self.open_button = QToolButton()
            self.open_button.setText("Open")
            self.open_button.setToolTip(
                plain_tip(
                    f"Open {name} in the system's player (this build cannot play media itself)"
                )
            )
            self.open_button.setAccessibleName(f"Open {name}")
            self.open_button.clicked.connect(lambda: self.open_requested.emit(self.name))
            layout.addWidget(self.open_button)
        self.remove = QToolButton()
        self.remove.setIcon(icons.icon("remove"))
        self.remove.setAutoRaise(True)
        self.remove.setToolTip(plain_tip(f"Remove {name}"))
        self.remove.setAccessibleName(f"Remove {name}")
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.name))
        layout.addWidget(self.remove, 0, Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setMaximumWidth(CHIP_MAX_WIDTH)
        self.has_picture = False
        self.set_summary(summary)

    def set_summary(self, summary: MediaSummary) -> None:
        """Show ``summary`` (the real one replaces the placeholder when it is computed)."""
        self.summary = summary
        self.has_picture = self._show_picture(summary.poster)
        if not self.has_picture:  # the kind's icon (SVG: emoji are boxes without their font)
            kind = summary.kind if summary.kind in icons.NAMES else "attach"
            self.thumbnail.setPixmap(icons.pixmap(kind, 32, self.devicePixelRatioF()))
        room = CHIP_MAX_WIDTH - THUMBNAIL - (120 if self.open_button else 56)
        metrics = self.title.fontMetrics()
        self.title.setText(metrics.elidedText(self.name, Qt.TextElideMode.ElideMiddle, room))
        self.detail.setText(metrics.elidedText(summary.label, Qt.TextElideMode.ElideRight, room))
        self.how.setText(self.note)
        self.how.setVisible(bool(self.note))
        self.setToolTip(plain_tip("\n".join(x for x in (self.name, summary.label, self.note) if x)))

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
