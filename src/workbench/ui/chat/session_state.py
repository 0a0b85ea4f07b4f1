"""Which session and branch the chat shows, and the actions that change it.

Holds the chat's position (session, leaf turn, the branch point the next message continues
from) and puts that path in the transcript. Opening, creating, renaming, pinning and
deleting sessions, and branching, editing and switching turns all move that position, so
they live here; sending (``sending.py``) reads and advances it.

Signals:
    session_opened(str): the session now shown ("" for a new, unsaved one).
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from workbench.core.attachments import human_size
from workbench.core.conversation import ConversationTree
from workbench.core.export import turn_markdown
from workbench.core.history import HistoryStore
from workbench.core.media_info import sent_line
from workbench.core.transcript import read_turn

from ..composer import Composer
from ..composer_feed import ComposerFeed
from ..sessions_panel import SessionsPanel
from ..transcript import TranscriptView, TurnEntry
from .live import LiveFollow

UNSET: Any = object()
"""``send_parent`` when no branch point was chosen: the next message follows the leaf."""
BUSY = "Stop the running response first (Esc)."


class SessionState(QObject):
    """The shown session's position in its tree, and what moves it."""

    session_opened = Signal(str)
    status_message = Signal(str)

    def __init__(
        self,
        history: HistoryStore,
        *,
        sessions: SessionsPanel,
        transcript: TranscriptView,
        composer: Composer,
        feed: ComposerFeed,
        live: LiveFollow,
        busy: Callable[[], bool],
        on_leave: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.history = history
        self.sessions, self.transcript, self.composer = sessions, transcript, composer
        self.feed, self.live, self.busy = feed, live, busy
        self.on_leave = on_leave
        """Called before another session is shown (a queued message and typed function
        results belong to the session they were written in)."""
        self.session_id: str | None = None
        self.leaf_id: str | None = None
        self.send_parent: Any = UNSET  # a branch point chosen by Edit / Branch from here
        self.fresh_session: str | None = None  # made by the send in flight, nothing saved yet
        sessions.session_selected.connect(self.open_session)
        sessions.new_session_requested.connect(self.new_session)
        sessions.search_changed.connect(self.refresh_sessions)
        sessions.rename_requested.connect(self.rename_session)
        sessions.pin_requested.connect(self.pin_session)
        sessions.delete_requested.connect(self.delete_session)
        transcript.branch_requested.connect(self.branch_from)
        transcript.edit_requested.connect(self.edit_turn)
        transcript.switch_requested.connect(self.switch_branch)
        transcript.copy_markdown_requested.connect(self.copy_markdown)

    @property
    def parent_for_send(self) -> str | None:
        """The turn the next message continues from."""
        return self.leaf_id if self.send_parent is UNSET else self.send_parent

    # --- sessions ------------------------------------------------------------------------

    def refresh_sessions(self, query: str | None = None) -> None:
        text = self.sessions.search.text() if query is None else query
        self.sessions.set_sessions(self.history.sessions(text), self.session_id)

    def new_session(self) -> None:
        if self.busy():
            self.status_message.emit(BUSY)
            return
        self.on_leave()
        self.feed.switch(self.session_id, None)
        self.live.stop()
        self.session_id, self.leaf_id, self.send_parent = None, None, UNSET
        self.transcript.set_notice("")
        self.transcript.set_live(None)
        self.transcript.set_entries([])
        self.sessions.list.clearSelection()
        self.composer.edit.setFocus()
        self.session_opened.emit("")

    def open_session(self, session_id: str, leaf_id: str | None = None) -> None:
        if self.busy() and session_id != self.session_id:
            self.status_message.emit(BUSY)
            self.sessions.select(self.session_id or "")
            return
        try:
            info = self.history.session(session_id)
        except KeyError:
            return
        self.on_leave()
        self.feed.switch(self.session_id, session_id)
        self.live.stop()
        self.session_id = session_id
        self.leaf_id = leaf_id or info.leaf_id
        self.send_parent = UNSET
        self.transcript.set_notice("")
        self.transcript.set_live(None)
        self.show_path()
        if self.sessions.model.row_of(session_id) < 0:  # made elsewhere (a run): list it
            self.refresh_sessions()
        self.sessions.select(session_id)
        self.session_opened.emit(session_id)

    def start_session(self, title: str, profile_id: str) -> str:
        """A new session for the message being sent (deleted again if nothing is saved)."""
        self.session_id = self.history.create_session(title, profile_id).id
        self.fresh_session = self.session_id
        self.refresh_sessions()
        self.session_opened.emit(self.session_id)
        return self.session_id

    def tree(self) -> ConversationTree:
        return ConversationTree(self.history.interactions(self.session_id or ""))

    def show_path(self, upto: str | None = None) -> None:
        """Put the path to the leaf (or to ``upto``) in the transcript."""
        if self.session_id is None:
            self.transcript.set_entries([])
            return
        tree = self.tree()
        path = tree.path(upto or self.leaf_id)
        if path and upto is None:
            self.leaf_id = path[-1].id
        entries = []
        for rec in path:
            pos = tree.position(rec.id)
            entry = TurnEntry(
                interaction_id=rec.id,
                input_steps=rec.input,
                data=rec.data,
                metrics=rec.metrics,
                target=rec.target,
                branch_index=pos.index,
                branch_count=pos.count,
                attachments=[
                    self.sent_line(a.name, a.mime_type, a.size, a.sha256) for a in rec.attachments
                ],
            )
            if rec is path[-1] and upto is None and not self.busy() and self.live.running(rec.id):
                if self.live.interaction_id != rec.id:
                    self.live.start(rec.id, entry)  # a running run: its snapshots stream in
                continue
            entries.append(entry)
        self.transcript.set_entries(entries)

    def live_ended(self, session_id: str) -> None:
        """The run shown live ended and is saved: show it as the history has it."""
        if session_id == self.session_id and not self.busy():
            self.show_path()

    def sent_line(self, name: str, mime: str, size: int, sha256: str) -> str:
        """What the transcript says of a sent file ("memo.wav · audio 0:12 · 1.1 MB")."""
        known = self.composer.summaries.get(sha256)
        detail = known.label if known else f"{mime} · {human_size(size)}"
        return sent_line(name, detail)

    def rename_session(self, session_id: str, title: str) -> None:
        self.history.rename_session(session_id, title)
        self.refresh_sessions()

    def pin_session(self, session_id: str, pinned: bool) -> None:
        self.history.set_pinned(session_id, pinned)
        self.refresh_sessions()

    def delete_session(self, session_id: str) -> None:
        if self.busy() and session_id == self.session_id:
            self.status_message.emit("Stop the running response before deleting this session.")
            return
        self.history.delete_session(session_id)
        if session_id == self.session_id:
            self.new_session()
        self.refresh_sessions()
        self.status_message.emit("Session deleted.")

    # --- branches ------------------------------------------------------------------------

    def branch_from(self, interaction_id: str) -> None:
        """The next message continues from ``interaction_id``; later turns stay as a branch."""
        if self.busy():
            return
        self.send_parent = interaction_id
        self.show_path(upto=interaction_id)
        self.transcript.set_notice(
            "Branching from here: your next message starts a new branch. "
            "The other branch is kept — switch with ‹ ›."
        )
        self.composer.edit.setFocus()

    def edit_turn(self, interaction_id: str) -> None:
        """Put a turn's text back in the composer; sending makes a new version of it."""
        rec = self.history.interaction(interaction_id)
        if rec is None or self.busy():
            return
        self.send_parent = rec.parent_id
        if rec.parent_id:
            self.show_path(upto=rec.parent_id)
        else:
            self.transcript.set_entries([])
        self.composer.set_text(read_turn(rec.data, rec.input).user_text)
        self.transcript.set_notice(
            "Editing: send to create a new version of this turn. The old one is kept (‹ 1/2 ›)."
        )
        self.composer.edit.setFocus()

    def switch_branch(self, interaction_id: str, step: int) -> None:
        if self.busy() or self.session_id is None:
            return
        self.leaf_id = self.tree().switch(interaction_id, step)
        self.history.set_leaf(self.session_id, self.leaf_id)
        self.send_parent = UNSET
        self.transcript.set_notice("")
        self.show_path()

    def copy_markdown(self, interaction_id: str) -> None:
        rec = self.history.interaction(interaction_id)
        if rec is None:
            return
        view = read_turn(rec.data, rec.input, rec.metrics)
        QGuiApplication.clipboard().setText(turn_markdown(view, rec, usage=False))
        self.status_message.emit("Answer copied as Markdown.")
