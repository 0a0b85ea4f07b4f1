"""The transcript widget: a QTextBrowser repainted on a timer from turn snapshots.

Signals:
    branch_requested(str): "Branch from here" on an interaction id.
    edit_requested(str): edit-and-resend of the turn with this interaction id.
    switch_requested(str, int): show the previous (-1) or next (+1) sibling branch.
    copy_markdown_requested(str): copy one answer as Markdown.
    answer_requested(str): give the results of the pending function calls of a turn.
"""

from __future__ import annotations

import base64
import binascii
import html
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPalette, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget

from workbench.core.capabilities import kinds_words
from workbench.core.transcript import read_turn

from .render import (
    DARK,
    IMAGE_SCHEME,
    NOTICE_DETAILS,
    RenderState,
    Theme,
    TurnHtmlInput,
    error_html,
    turn_html,
)

REPAINT_MS = 40


@dataclass
class TurnEntry:
    """One turn to show: what was sent, the last snapshot, and where it sits in its branch."""

    interaction_id: str | None
    input_steps: list[Any]
    data: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    branch_index: int = 1
    branch_count: int = 1
    attachments: list[str] = field(default_factory=list)
    live: bool = False
    error: str | None = None


def _theme_for(widget: QWidget) -> Theme:
    base = widget.palette().color(QPalette.ColorRole.Base)
    return DARK if base.lightness() < 128 else Theme()


class TranscriptView(QTextBrowser):
    """Rendered turns; cheap to update many times a second (repaints are coalesced)."""

    branch_requested = Signal(str)
    edit_requested = Signal(str)
    switch_requested = Signal(str, int)
    copy_markdown_requested = Signal(str)
    answer_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Transcript")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_link)
        self.document().setDocumentMargin(14)
        self._entries: list[TurnEntry] = []
        self._live: TurnEntry | None = None
        self._notice = ""
        self._notice_problem = False
        self._notice_details = ""
        self._accepts = "images, audio, video, PDF or text files"
        self._cache: dict[str, str] = {}
        self._state = RenderState()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._repaint)
        self.repaints = 0
        self._schedule()

    # --- what to show --------------------------------------------------------------------

    def set_entries(self, entries: list[TurnEntry]) -> None:
        self._entries = list(entries)
        self._cache.clear()
        self._schedule()

    def set_live(self, entry: TurnEntry | None) -> None:
        """The running turn (drawn after the others); call as often as snapshots arrive."""
        self._live = entry
        self._schedule()

    def set_notice(self, text: str, *, problem: bool = False, details: str = "") -> None:
        """A line under the turns: a hint, or (``problem``) an error with what to do.

        ``details`` (status codes, field paths, the server's exact words) go in a fold
        under the plain words, closed until the user opens it.
        """
        self._notice = text
        self._notice_problem = problem
        self._notice_details = details
        self._state.expanded.discard(NOTICE_DETAILS)
        self._schedule()

    def set_accepts(self, kinds: set[str]) -> None:
        """What the target reads, for the empty state's invitation to attach files."""
        words = kinds_words(kinds & {"image", "audio", "video", "document", "text"})
        words = words.replace("PDF and office documents", "PDF")
        if words != self._accepts:
            self._accepts = words
            self._schedule()

    def entries(self) -> list[TurnEntry]:
        return list(self._entries)

    def flush(self) -> None:
        """Repaint now (tests, and before grabbing a screenshot)."""
        self._timer.stop()
        self._repaint()

    # --- painting ------------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _turn(self, entry: TurnEntry, theme: Theme) -> str:
        view = read_turn(entry.data, entry.input_steps, entry.metrics)
        if entry.interaction_id and not view.interaction_id:
            view.interaction_id = entry.interaction_id
        return turn_html(
            TurnHtmlInput(
                view=view,
                target=entry.target,
                metrics=entry.metrics,
                branch_index=entry.branch_index,
                branch_count=entry.branch_count,
                live=entry.live,
                error=entry.error,
                attachments=entry.attachments,
            ),
            self._state,
            theme,
        )

    def _repaint(self) -> None:
        theme = _theme_for(self)
        parts: list[str] = []
        for entry in self._entries:
            key = entry.interaction_id or ""
            cached = self._cache.get(key) if key else None
            if cached is None:
                cached = self._turn(entry, theme)
                if key:
                    self._cache[key] = cached
            parts.append(cached)
        if self._live is not None:
            parts.append(self._turn(self._live, theme))
        if not parts and not self._notice:
            parts.append(self._welcome(theme))
        if self._notice and self._notice_problem:
            parts.append(error_html(self._notice, theme, self._notice_details, self._state))
        elif self._notice:
            parts.append(f'<p style="color:{theme.muted}"><i>{html.escape(self._notice)}</i></p>')
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        old = bar.value()
        self.setHtml(
            f'<div style="color:{theme.text}; font-size:{self.font().pointSize() + 1}pt">'
            + "".join(parts)
            + "</div>"
        )
        bar.setValue(bar.maximum() if at_bottom else old)
        self.repaints += 1

    def loadResource(self, type_: int, name: QUrl | str) -> Any:
        """Images a tool returned (``wb-image:`` names from the renderer), decoded here."""
        url = QUrl(name) if isinstance(name, str) else name
        if url.scheme() == IMAGE_SCHEME and type_ == QTextDocument.ResourceType.ImageResource:
            found = self._state.images.get(url.path())
            if found is not None:
                try:
                    return QImage.fromData(base64.b64decode(found[1]))
                except (binascii.Error, ValueError):
                    return QImage()
        return super().loadResource(type_, name)

    def _welcome(self, theme: Theme) -> str:
        return (
            f'<div style="color:{theme.muted}; margin-top:40px" align="center">'
            '<p style="font-size:large">Start a conversation</p>'
            "<p>Type below and press <b>Enter</b> to send · <b>Shift+Enter</b> for a new line"
            f" · <b>Esc</b> stops a response.<br>Attach {html.escape(self._accepts)}"
            " with <b>+</b>, drag-and-drop or paste.</p></div>"
        )

    # --- actions -------------------------------------------------------------------------

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        if not text.startswith("wb:"):
            return
        action, _, arg = text[3:].partition("/")
        if action == "toggle":
            if arg in self._state.expanded:
                self._state.expanded.discard(arg)
            else:
                self._state.expanded.add(arg)
            if arg != NOTICE_DETAILS:
                self._cache.pop(arg.rsplit("-", 1)[0], None)
            self._schedule()
        elif action == "copy-code":
            QGuiApplication.clipboard().setText(self._state.code.get(arg, ""))
        elif action == "copy":
            QGuiApplication.clipboard().setText(self._answer_text(arg))
        elif action == "copy-md":
            self.copy_markdown_requested.emit(arg)
        elif action == "answer":
            self.answer_requested.emit(arg)
        elif action == "branch":
            self.branch_requested.emit(arg)
        elif action == "edit":
            self.edit_requested.emit(arg)
        elif action in ("prev", "next"):
            self.switch_requested.emit(arg, -1 if action == "prev" else 1)

    def _answer_text(self, interaction_id: str) -> str:
        for entry in self._entries:
            if entry.interaction_id == interaction_id:
                return read_turn(entry.data, entry.input_steps, entry.metrics).answer_text
        return ""

    def toggle(self, key: str) -> None:
        """Open or close a thought or tool card (``<interaction id>-<block number>``)."""
        self._on_link(QUrl(f"wb:toggle/{key}"))
