"""The composer: a multi-line editor, attachment chips, Send/Stop.

The text field and its keys are ``composer_edit``. The widget never reads files itself:
dropped, pasted or picked files are announced with ``files_requested`` and the controller
answers with ``add_attachment`` or ``refuse``. Chips show media as media
(``composer_media``); their summaries are computed by the feed off the UI thread
(``summary_wanted`` → ``set_summary``) and kept by content hash, so a restored draft does
not decode again. While big attachments upload, ``upload_bar`` shows the progress; while the
local engine starts, ``startup_bar`` does, and a message sent meanwhile is *held* (shown as
queued, read-only; Esc cancels) until the controller can send it.

Signals:
    send_requested(str, list): the text and the attachments to send.
    stop_requested(): Esc or the Stop button while a response runs.
    hold_cancelled(): Esc or Cancel while a message is held for the engine.
    files_requested(list): local file paths to check and attach.
    data_pasted(str, bytes, str): name, bytes and MIME type of pasted media.
    summary_wanted(object): an Attachment whose media summary is not known yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.attachments import KINDS_ALL, Attachment, name_filters
from workbench.core.media_info import MediaSummary

from .chat.stall_bar import StallBar
from .chat.startup_bar import StartupBar
from .composer_edit import ComposerEdit
from .composer_media import AttachmentChip, UploadBar
from .flow_layout import wrapping_container
from .media_chip import CHIP_MAX_WIDTH
from .plain import plain_label, plain_tip

__all__ = ["CHIP_MAX_WIDTH", "PLACEHOLDER", "AttachmentChip", "Composer", "Draft"]
PLACEHOLDER = "Message… (Enter sends, Shift+Enter new line, Esc stops; drop or paste files)"


@dataclass
class Draft:
    """What the composer holds for one session: its unsent text and attachments."""

    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)


class Composer(QWidget):
    """Where the user writes the next turn."""

    send_requested = Signal(str, list)
    stop_requested = Signal()
    hold_cancelled = Signal()
    files_requested = Signal(list)
    data_pasted = Signal(str, bytes, str)
    summary_wanted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.summaries: dict[str, MediaSummary] = {}
        """Media summaries by content hash (computed once per file, kept across drafts)."""
        self._uploading = False
        self._running = False
        self._ready = True
        self._can_hold = False
        self._held = False
        self._not_ready_why = ""
        self._accepts: set[str] = set(KINDS_ALL)
        self._chips: list[AttachmentChip] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 4, 10, 10)
        outer.setSpacing(4)

        self.startup_bar = StartupBar(self)
        outer.addWidget(self.startup_bar)
        self.stall_bar = StallBar(self)
        outer.addWidget(self.stall_bar)

        self.message = plain_label(QLabel(self))
        self.message.setObjectName("composerMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # it quotes file names
        self.message.setStyleSheet("color: #cf222e;")
        self.message.hide()
        outer.addWidget(self.message)

        self.chip_box, self.chip_row = wrapping_container(self)
        self.chip_box.setObjectName("chipRow")
        self.chip_box.hide()
        outer.addWidget(self.chip_box)

        self.upload_bar = UploadBar(self)
        outer.addWidget(self.upload_bar)

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
        self.edit.setPlaceholderText(PLACEHOLDER)
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
        self._update_send()

    def set_ready(self, ready: bool, why: str = "", *, can_hold: bool = False) -> None:
        """Whether a message can go out now (not while connecting); ``why`` says why not.

        ``can_hold``: the connection is on its way, so Send still emits ``send_requested``
        and the controller holds the message (``set_held``) instead of refusing it.
        """
        self._ready, self._not_ready_why, self._can_hold = ready, why, can_hold
        self._update_send()

    def set_held(self, note: str | None) -> None:
        """Show the message as queued (``note`` says until when) or, with None, editable again."""
        self._held = note is not None
        self.edit.setReadOnly(self._held)
        self.add_button.setEnabled(not self._held)
        self.chip_box.setEnabled(not self._held)  # the files go with the queued message
        if note is None:
            self.clear_message()
        else:
            self.message.setStyleSheet("color: palette(text); font-style: italic;")
            self.message.setText(note)
            self.message.show()
        self._update_send()

    @property
    def held(self) -> bool:
        return self._held

    @property
    def ready(self) -> bool:
        return self._ready

    def set_uploading(self, uploading: bool) -> None:
        """Attachments are being uploaded before the send: no second Send meanwhile."""
        self._uploading = uploading
        if not uploading:
            self.upload_bar.hide()
        self._update_send()

    @property
    def uploading(self) -> bool:
        return self._uploading

    def _update_send(self) -> None:
        if self._uploading:
            self.send_button.setEnabled(False)
            self.send_button.setToolTip("Uploading attachments… (Cancel upload to stop)")
            return
        if self._running:
            self.send_button.setEnabled(True)
            self.send_button.setToolTip("Stop the response (Esc)")
            return
        if self._held:
            self.send_button.setText("Cancel")
            self.send_button.setEnabled(True)
            self.send_button.setToolTip("Cancel the queued message (Esc)")
            return
        self.send_button.setText("Send")
        if self._can_hold:
            self.send_button.setEnabled(True)
            self.send_button.setToolTip(
                plain_tip(f"{self._not_ready_why} Send queues the message.")
            )
            return
        self.send_button.setEnabled(self._ready)
        self.send_button.setToolTip(
            plain_tip("Send (Enter)" if self._ready else self._not_ready_why)
        )

    def set_accepts(self, kinds: set[str]) -> None:
        """The attachment kinds the current target reads (the file dialog offers those)."""
        self._accepts = set(kinds)

    def take_draft(self) -> Draft:
        """Empty the composer and return what it held (kept per session by the controller)."""
        draft = Draft(self.text(), self.attachments())
        self.clear()
        return draft

    def restore_draft(self, draft: Draft | None) -> None:
        self.clear()
        if draft is None:
            return
        self.set_text(draft.text)
        for att in draft.attachments:
            self.add_attachment(att)

    @property
    def running(self) -> bool:
        return self._running

    def add_attachment(self, attachment: Attachment) -> None:
        summary = self.summaries.get(attachment.sha256)
        chip = AttachmentChip(attachment, summary, self)
        chip.remove_requested.connect(lambda _name, c=chip: self._remove_chip(c))
        chip.open_requested.connect(lambda _name, c=chip: self._open(c.attachment))
        self._chips.append(chip)
        self.chip_row.addWidget(chip)
        self.chip_box.show()
        self.chip_box.updateGeometry()
        self.clear_message()
        if summary is None:
            self.summary_wanted.emit(attachment)

    def set_summary(self, sha256: str, summary: MediaSummary) -> None:
        """The media summary of the file with this hash (computed by the feed)."""
        self.summaries[sha256] = summary
        for chip in self._chips:
            if chip.attachment.sha256 == sha256:
                chip.set_summary(summary)

    def _open(self, attachment: Attachment) -> None:
        if attachment.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(attachment.path)))

    def refuse(self, message: str) -> None:
        """Show why a file was not attached; the text and other chips stay as they are."""
        self.message.setStyleSheet("color: #cf222e;")
        self.message.setText(message)
        self.message.show()

    def inform(self, message: str) -> None:
        """Show how an attachment will be read (not a problem: in the secondary colour)."""
        self.message.setStyleSheet("color: palette(placeholder-text);")
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
        if self._running or self._uploading or self._held:
            return
        if not self._ready and not self._can_hold:
            self.refuse(self._not_ready_why or "Not connected yet.")
            return
        text = self.text().strip()
        if not text and not self._chips:
            return
        self.send_requested.emit(text, self.attachments())

    def _send_or_stop(self) -> None:
        if self._running:
            self.stop_requested.emit()
        elif self._held:
            self.hold_cancelled.emit()
        else:
            self.submit()

    def _escape(self) -> None:
        if self._running:
            self.stop_requested.emit()
        elif self._held:
            self.hold_cancelled.emit()

    def _remove_chip(self, chip: AttachmentChip) -> None:
        if chip in self._chips:
            self._chips.remove(chip)
        self.chip_row.removeWidget(chip)
        chip.hide()
        chip.deleteLater()
        self.chip_box.setVisible(bool(self._chips))
        self.chip_box.updateGeometry()

    def pick_files(self) -> None:
        dialog = QFileDialog(self, "Attach files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(name_filters(self._accepts))
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

    def take_mime(self, mime: QMimeData) -> bool:
        """Attach what ``mime`` carries (local files, image data); False if nothing usable."""
        if mime.hasUrls() and any(u.isLocalFile() for u in mime.urls()):
            self._mime(mime)
            return True
        if mime.hasImage():
            self._mime(mime)
            return True
        if mime.hasUrls():
            self.refuse(
                "Only files on this computer can be attached; save the linked file first, "
                "then drop it here."
            )
        return False

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.take_mime(event.mimeData()):
            event.acceptProposedAction()
