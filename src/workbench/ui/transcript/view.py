"""The transcript widget: a QTextBrowser repainted on a timer from turn snapshots.

Signals:
    branch_requested(str): "Branch from here" on an interaction id.
    edit_requested(str): edit-and-resend of the turn with this interaction id.
    switch_requested(str, int): show the previous (-1) or next (+1) sibling branch.
    copy_markdown_requested(str): copy one answer as Markdown.
    answer_requested(str): give the results of the pending function calls of a turn.
    citation_clicked(object): a ``[n]`` citation link of an answer (a core ``Citation``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QImage, QTextDocument, QTextFrame
from PySide6.QtWidgets import QTextBrowser, QWidget

from workbench.core.capabilities import kinds_words
from workbench.core.transcript import read_turn

from .entry import (
    TurnEntry,
    earlier_body,
    entry_body,
    notice_body,
    theme_for,
    welcome_body,
    wrap,
)
from .frames import FrameDocument
from .render import IMAGE_SCHEME, NOTICE_DETAILS, RenderState, Theme

REPAINT_MS = 40


class TranscriptView(QTextBrowser):
    """Rendered turns; cheap to update many times a second (repaints are coalesced).

    Each turn is rendered to HTML once and kept in its own frame of the document; a repaint
    replaces only what changed: the live tail (the running turn and the notice) while
    streaming, one turn when a fold opens, the new turn at the end of a turn. Only the last
    ``PAGE`` turns of a long session are put in the document when it opens; older pages
    come in when the user scrolls to the top (or clicks "Show earlier turns"), so opening a
    500-turn session costs what opening a 40-turn one does.
    """

    branch_requested = Signal(str)
    edit_requested = Signal(str)
    switch_requested = Signal(str, int)
    copy_markdown_requested = Signal(str)
    answer_requested = Signal(str)
    citation_clicked = Signal(object)

    PAGE = 40
    """Turns kept ready above the newest one; older ones come in on scrolling to the top."""
    OPENING = 8
    """Turns drawn before a session is shown; the rest of the page follows between events."""

    def __init__(self, parent: QWidget | None = None, *, editing: bool = True) -> None:
        super().__init__(parent)
        self.editing = editing
        """Whether turns offer Edit and Branch from here (False: a read-only copy)."""
        self.setObjectName("transcript")
        self.setAccessibleName("Transcript")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_link)
        self.document().setDocumentMargin(14)
        self.document().setUndoRedoEnabled(False)  # read-only: an undo stack only grows
        self._doc = FrameDocument(self.document())
        self._entries: list[TurnEntry] = []
        self._live: TurnEntry | None = None
        self._notice = ""
        self._notice_problem = False
        self._notice_details = ""
        self._accepts = "images, audio, video, PDF or text files"
        self._html: dict[str, tuple[TurnEntry, str]] = {}  # finished turns, rendered once
        self._state = RenderState()
        self._theme: Theme | None = None
        # What the document holds: entries[_first:] in _frames, a head and a tail frame.
        self._first = 0
        self._shown: list[TurnEntry] = []
        self._frames: list[QTextFrame] = []
        self._head: QTextFrame | None = None
        self._tail: QTextFrame | None = None
        self._dirty_entries = True
        self._dirty_tail = True
        self._dirty_turns: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._repaint)
        self._prefetch = QTimer(self)  # the rest of the first page, between user events
        self._prefetch.setSingleShot(True)
        self._prefetch.setInterval(0)
        self._prefetch.timeout.connect(self._fill_page)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.repaints = 0
        self.turns_rendered = 0
        """How many times a turn was converted to HTML (the cache's hit rate, for tests)."""
        self._schedule()

    # --- what to show --------------------------------------------------------------------

    def set_entries(self, entries: list[TurnEntry]) -> None:
        self._entries = list(entries)
        self._dirty_entries = True
        self._dirty_tail = True  # the welcome text depends on whether there are turns
        self._schedule()

    def set_live(self, entry: TurnEntry | None) -> None:
        """The running turn (drawn after the others); call as often as snapshots arrive."""
        self._live = entry
        self._dirty_tail = True
        self._schedule()

    def set_notice(self, text: str, *, problem: bool = False, details: str = "") -> None:
        """A line under the turns: a hint, or (``problem``) an error with what to do.

        ``details`` (status codes, field paths, the server's exact words) go in a fold
        under the plain words, closed until the user opens it.
        """
        if (text, problem, details) == (
            self._notice,
            self._notice_problem,
            self._notice_details,
        ):
            return
        self._notice = text
        self._notice_problem = problem
        self._notice_details = details
        self._state.expanded.discard(NOTICE_DETAILS)
        self._dirty_tail = True
        self._schedule()

    def set_accepts(self, kinds: set[str]) -> None:
        """What the target reads, for the empty state's invitation to attach files."""
        words = kinds_words(kinds & {"image", "audio", "video", "document", "text"})
        words = words.replace("PDF and office documents", "PDF")
        if words != self._accepts:
            self._accepts = words
            self._dirty_tail = True
            self._schedule()

    def entries(self) -> list[TurnEntry]:
        return list(self._entries)

    def flush(self) -> None:
        """Repaint now (tests, and before grabbing a screenshot)."""
        self._timer.stop()
        self._repaint()

    @property
    def filling(self) -> bool:
        """Whether the turns above the opening page are still being drawn."""
        return self._prefetch.isActive()

    def show_all(self) -> None:
        """Put every turn of the session in the document (Find searches all of them)."""
        self.flush()
        while self._first > 0:
            self._load_earlier(keep_view=False)

    # --- painting ------------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _turn(self, entry: TurnEntry, theme: Theme) -> str:
        self.turns_rendered += 1
        return self._wrap(entry_body(entry, self._state, theme, editing=self.editing), theme)

    def _wrap(self, body: str, theme: Theme) -> str:
        return wrap(body, theme, self.font().pointSize() + 1)

    def _finished(self, entry: TurnEntry, theme: Theme) -> str:
        """A finished turn's HTML, from the cache while the entry is unchanged."""
        key = entry.interaction_id or ""
        hit = self._html.get(key) if key else None
        if hit is not None and hit[0] == entry:
            return hit[1]
        html_ = self._turn(entry, theme)
        if key:
            if len(self._html) > 4 * self.PAGE + len(self._entries):
                self._html.clear()  # another session's turns: let them go
            self._html[key] = (entry, html_)
        return html_

    def _repaint(self) -> None:
        theme = theme_for(self)
        if theme != self._theme:  # light/dark switch: every cached turn is stale
            self._theme = theme
            self._html.clear()
            self._rebuild()
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        old = bar.value()
        if self._dirty_entries:
            self._sync_entries(theme)
        for key in self._dirty_turns:
            self._redraw_turn(key, theme)
        self._dirty_turns.clear()
        if self._dirty_tail:
            self._draw_tail(theme)
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

    def _rebuild(self) -> None:
        self._doc.clear()
        self._shown, self._frames = [], []
        self._head = self._tail = None
        self._first = 0
        self._dirty_entries = self._dirty_tail = True

    def _sync_entries(self, theme: Theme) -> None:
        """Make the document show ``_entries``, keeping every frame that is still right."""
        self._dirty_entries = False
        new = self._entries
        keep = 0
        if len(new) >= self._first and self._shown:
            limit = min(len(self._shown), len(new) - self._first)
            while keep < limit and new[self._first + keep] == self._shown[keep]:
                keep += 1
        if keep == 0 or len(new) - self._first - keep > self.PAGE:
            # Another session (or an edit near the top): start again with the newest page.
            self._rebuild()
            self._dirty_entries = False
            self._first = max(0, len(new) - self.OPENING)
            keep = 0
            if self._first > 0:
                self._prefetch.start()
        for frame in self._frames[keep:]:
            self._doc.remove(frame)
        del self._frames[keep:], self._shown[keep:]
        for entry in new[self._first + keep :]:
            html_ = self._finished(entry, theme)
            frame = (
                self._doc.insert_before(self._tail, html_)
                if self._tail is not None
                else self._doc.append(html_)
            )
            self._frames.append(frame)
            self._shown.append(entry)
        self._draw_head(theme)

    def _draw_head(self, theme: Theme) -> None:
        """The "Show earlier turns" line above the first page, while there is one."""
        if self._first == 0:
            if self._head is not None:
                self._doc.remove(self._head)
                self._head = None
            return
        body = self._wrap(earlier_body(self._first, theme), theme)
        if self._head is None:
            anchor = self._frames[0] if self._frames else self._tail
            self._head = (
                self._doc.insert_before(anchor, body)
                if anchor is not None
                else self._doc.append(body)
            )
        else:
            self._doc.replace(self._head, body)

    def _fill_page(self) -> None:
        if self._dirty_entries:
            return  # the repaint about to happen decides what the document shows
        self._load_earlier(self.OPENING)
        if self._first > 0 and len(self._shown) < self.PAGE:
            self._prefetch.start()

    def _load_earlier(self, count: int = 0, *, keep_view: bool = True) -> None:
        """Put the ``count`` turns (a page) above the first one shown into the document."""
        if self._first == 0 or not self._frames:
            return
        theme = self._theme or theme_for(self)
        bar = self.verticalScrollBar()
        before = bar.maximum() - bar.value()  # distance from the bottom stays the same
        start = max(0, self._first - (count or self.PAGE))
        anchor = self._frames[0]
        frames = [
            self._doc.insert_before(anchor, self._finished(entry, theme))
            for entry in self._entries[start : self._first]
        ]
        self._frames[:0] = frames
        self._shown[:0] = self._entries[start : self._first]
        self._first = start
        self._draw_head(theme)
        if keep_view:
            bar.setValue(bar.maximum() - before)

    def _scrolled(self, value: int) -> None:
        if value == 0 and self._first > 0 and not self._timer.isActive():
            QTimer.singleShot(0, self._load_earlier)

    def _redraw_turn(self, iid: str, theme: Theme) -> None:
        for n, entry in enumerate(self._shown):
            if entry.interaction_id == iid:
                self._html.pop(iid, None)
                self._doc.replace(self._frames[n], self._finished(entry, theme))
                return
        if self._live is not None and self._live.interaction_id == iid:
            self._dirty_tail = True

    def _draw_tail(self, theme: Theme) -> None:
        """The running turn and the notice (or the welcome text): redrawn per snapshot."""
        self._dirty_tail = False
        parts: list[str] = []
        if self._live is not None:
            parts.append(self._turn(self._live, theme))
        if not self._entries and self._live is None and not self._notice:
            parts.append(self._wrap(welcome_body(theme, self._accepts), theme))
        if self._notice:
            notice = notice_body(
                self._notice,
                theme,
                problem=self._notice_problem,
                details=self._notice_details,
                state=self._state,
            )
            parts.append(self._wrap(notice, theme))
        body = "".join(parts)
        if self._tail is None:
            self._tail = self._doc.append(body)
        else:
            self._doc.replace(self._tail, body)

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
            if arg == NOTICE_DETAILS:
                self._dirty_tail = True
            else:
                self._dirty_turns.add(arg.rsplit("-", 1)[0])
            self._schedule()
        elif action == "earlier":
            self._load_earlier()
        elif action == "copy-code":
            QGuiApplication.clipboard().setText(self._state.code.get(arg, ""))
        elif action == "copy":
            QGuiApplication.clipboard().setText(self._answer_text(arg))
        elif action == "copy-md":
            self.copy_markdown_requested.emit(arg)
        elif action == "answer":
            self.answer_requested.emit(arg)
        elif action == "cite" and arg in self._state.citations:
            self.citation_clicked.emit(self._state.citations[arg])
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
