"""The chat controller: sessions, turns, branches and the connection, between panels and core.

Panels emit requests; this object runs them through the one task manager and pushes facts
back. It never blocks the loop: network work is awaited, and snapshots are handed to the
transcript, which repaints on its own timer.

Signals:
    connection_changed(str, bool): a label for the header and whether it is usable.
    status_message(str): a short message for the status bar.
    run_started(): a turn began.
    run_finished(str): a turn ended (its interaction id, or "" if none was created).
    session_opened(str): the session now shown ("" for a new, unsaved one).
    background_started(str, dict, str): a background turn's interaction id, its request
        body and its session id (the Runs dock follows it).
    models_listed(list): the model ids the server offers (after connecting).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from workbench.core.attachments import Attachment, human_size
from workbench.core.capabilities import capabilities_for, input_kinds
from workbench.core.connection import Connection
from workbench.core.conversation import ConversationTree
from workbench.core.export import turn_markdown
from workbench.core.follower import Followers
from workbench.core.history import AttachmentInfo, HistoryStore
from workbench.core.media_info import sent_line
from workbench.core.paths import Paths
from workbench.core.request_code import request_code, server_for
from workbench.core.run_settings import RunSettings, build_request, user_turn
from workbench.core.secrets import SecretStore
from workbench.core.settings import Settings, save_settings
from workbench.core.tasks import TaskManager
from workbench.core.transcript import read_turn
from workbench.core.turns import TurnRunner, TurnUpdate

from .chat.connecting import ChatConnection
from .chat.get_code import GetCodeDialog
from .chat.live import LiveFollow
from .composer import PLACEHOLDER, Composer
from .composer_feed import ComposerFeed
from .run_settings_dock import RunSettingsDock
from .sessions_panel import SessionsPanel
from .transcript import TranscriptView, TurnEntry

log = logging.getLogger(__name__)

_UNSET = object()
SETTINGS_SAVE_MS = 500
"""How long the run settings must stay unchanged before settings.json is written."""


class ChatController(QObject):
    """Connects the panels to the history, the client and the task manager."""

    connection_changed = Signal(str, bool)
    status_message = Signal(str)
    run_started = Signal()
    run_finished = Signal(str)
    session_opened = Signal(str)
    background_started = Signal(str, dict, str)
    models_listed = Signal(list)

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        history: HistoryStore,
        secrets: SecretStore,
        tasks: TaskManager,
        *,
        sessions: SessionsPanel,
        transcript: TranscriptView,
        composer: Composer,
        dock: RunSettingsDock,
        followers: Followers | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.followers = followers if followers is not None else Followers()
        self.live = LiveFollow(self.followers, transcript, self._live_ended)
        self.paths, self.settings, self.history = paths, settings, history
        self.secrets, self.tasks = secrets, tasks
        self.sessions, self.transcript, self.composer, self.dock = (
            sessions,
            transcript,
            composer,
            dock,
        )
        self.link = ChatConnection(
            settings,
            secrets,
            paths,
            composer=composer,
            dock=dock,
            transcript=transcript,
            on_connected=self._connected,
            send=lambda text, atts: self.send(text, atts),
            parent=self,
        )
        self.link.changed.connect(self.connection_changed)
        self.link.status_message.connect(self.status_message)
        self.runner: TurnRunner | None = None
        self.session_id: str | None = None
        self.leaf_id: str | None = None
        self._send_parent: Any = _UNSET  # a branch point chosen by Edit / Branch from here
        self._live: TurnUpdate | None = None
        self._background: set[str] = set()
        self._last_sent: tuple[str, list[Attachment]] | None = None
        self._live_names: list[str] = []  # the running turn's attachments, as shown
        self._fresh_session: str | None = None  # made by the send in flight, nothing saved yet
        self.busy_runs: Callable[[], int] = lambda: 0
        """Background runs the local engine is working on (set by the main window)."""
        # Function calls waiting for results the user types: (turn id, pending, results so far)
        self._answering: tuple[str, list[dict[str, Any]], list[dict[str, Any]]] | None = None

        sessions.session_selected.connect(self.open_session)
        sessions.new_session_requested.connect(self.new_session)
        sessions.search_changed.connect(self.refresh_sessions)
        sessions.rename_requested.connect(self.rename_session)
        sessions.pin_requested.connect(self.pin_session)
        sessions.delete_requested.connect(self.delete_session)
        composer.send_requested.connect(self.send)
        composer.stop_requested.connect(self.stop)
        self.feed = ComposerFeed(composer, tasks, lambda: (self.connection, dock.run_settings()))
        transcript.branch_requested.connect(self.branch_from)
        transcript.edit_requested.connect(self.edit_turn)
        transcript.switch_requested.connect(self.switch_branch)
        transcript.copy_markdown_requested.connect(self.copy_markdown)
        transcript.answer_requested.connect(self.answer_calls)
        # Typing in the system instruction changes the settings on every keystroke: write
        # them once the user pauses (and at shutdown), not one fsync per key.
        self._settings_timer = QTimer(self)
        self._settings_timer.setSingleShot(True)
        self._settings_timer.setInterval(SETTINGS_SAVE_MS)
        self._settings_timer.timeout.connect(self.save_settings)
        dock.settings_changed.connect(self._dock_changed)
        dock.load(settings.run)

    # --- connection ----------------------------------------------------------------------

    @property
    def connection(self) -> Connection | None:
        return self.link.connection

    @connection.setter
    def connection(self, conn: Connection | None) -> None:
        self.link.connection = conn

    async def connect_active(self) -> bool:
        """(Re)connect to the active profile (``chat/connecting.py``); a message sent
        meanwhile is held and sent once it is usable."""
        self.runner = None
        return await self.link.connect_active()

    def _connected(self, conn: Connection) -> None:
        self.runner = TurnRunner(conn.client, self.history, followers=self.followers)
        models = conn.model_ids()
        self.dock.set_connecting(False)
        self.dock.set_targets(models, conn.agents)
        self.models_listed.emit(models)
        if not self.dock.run_settings().target:
            fallback = conn.profile.default_target or (models[0] if models else "")
            self.dock.target.setEditText(fallback)
        self._apply_capabilities()

    def _apply_capabilities(self) -> None:
        conn = self.connection
        run = self.dock.run_settings()
        caps = capabilities_for(
            conn.profile if conn else None,
            conn.models if conn else [],
            run.target,
            run.target_kind,
            run.store,
        )
        self.dock.apply_capabilities(caps)
        kinds = input_kinds(
            conn.models if conn else [],
            run.target,
            run.target_kind,
            local=bool(conn and conn.profile.is_local),
        )
        self.composer.set_accepts(kinds)
        self.transcript.set_accepts(kinds)

    def _dock_changed(self) -> None:
        self.settings.run = self.dock.run_settings()
        self._apply_capabilities()
        self._settings_timer.start()

    def save_settings(self) -> None:
        """Write settings.json now (a pending debounced write is folded into this one)."""
        self._settings_timer.stop()
        try:
            save_settings(self.settings, self.paths.settings_file)
        except OSError as exc:
            self.status_message.emit(f"Settings not saved: {exc.strerror}")

    # --- sessions ------------------------------------------------------------------------

    def refresh_sessions(self, query: str | None = None) -> None:
        text = self.sessions.search.text() if query is None else query
        self.sessions.set_sessions(self.history.sessions(text), self.session_id)

    def new_session(self) -> None:
        if self.busy:
            self.status_message.emit("Stop the running response first (Esc).")
            return
        self.link.cancel_hold()  # a queued message belongs to the session it was written in
        self.feed.switch(self.session_id, None)
        self.live.stop()
        self.session_id, self.leaf_id, self._send_parent = None, None, _UNSET
        self._answering = None
        self.transcript.set_notice("")
        self.transcript.set_live(None)
        self.transcript.set_entries([])
        self.sessions.list.clearSelection()
        self.composer.edit.setFocus()
        self.session_opened.emit("")

    def open_session(self, session_id: str, leaf_id: str | None = None) -> None:
        if self.busy and session_id != self.session_id:
            self.status_message.emit("Stop the running response first (Esc).")
            self.sessions.select(self.session_id or "")
            return
        try:
            info = self.history.session(session_id)
        except KeyError:
            return
        if session_id != self.session_id:
            self.link.cancel_hold()
        self.feed.switch(self.session_id, session_id)
        self.live.stop()
        self.session_id = session_id
        self.leaf_id = leaf_id or info.leaf_id
        self._send_parent = _UNSET
        self._answering = None
        self.transcript.set_notice("")
        self.transcript.set_live(None)
        self._show_path()
        if self.sessions.model.row_of(session_id) < 0:  # made elsewhere (a run): list it
            self.refresh_sessions()
        self.sessions.select(session_id)
        self.session_opened.emit(session_id)

    def _tree(self) -> ConversationTree:
        return ConversationTree(self.history.interactions(self.session_id or ""))

    def _show_path(self, upto: str | None = None) -> None:
        if self.session_id is None:
            self.transcript.set_entries([])
            return
        tree = self._tree()
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
                    self._sent_line(a.name, a.mime_type, a.size, a.sha256) for a in rec.attachments
                ],
            )
            if rec is path[-1] and upto is None and not self.busy and self.live.running(rec.id):
                if self.live.interaction_id != rec.id:
                    self.live.start(rec.id, entry)  # a running run: its snapshots stream in
                continue
            entries.append(entry)
        self.transcript.set_entries(entries)

    def _live_ended(self, session_id: str) -> None:
        """The run shown live ended and is saved: show it as the history has it."""
        if session_id == self.session_id and not self.busy:
            self._show_path()

    def rename_session(self, session_id: str, title: str) -> None:
        self.history.rename_session(session_id, title)
        self.refresh_sessions()

    def pin_session(self, session_id: str, pinned: bool) -> None:
        self.history.set_pinned(session_id, pinned)
        self.refresh_sessions()

    def delete_session(self, session_id: str) -> None:
        if self.busy and session_id == self.session_id:
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
        if self.busy:
            return
        self._send_parent = interaction_id
        self._show_path(upto=interaction_id)
        self.transcript.set_notice(
            "Branching from here: your next message starts a new branch. "
            "The other branch is kept — switch with ‹ ›."
        )
        self.composer.edit.setFocus()

    def edit_turn(self, interaction_id: str) -> None:
        """Put a turn's text back in the composer; sending makes a new version of it."""
        rec = self.history.interaction(interaction_id)
        if rec is None or self.busy:
            return
        self._send_parent = rec.parent_id
        if rec.parent_id:
            self._show_path(upto=rec.parent_id)
        else:
            self.transcript.set_entries([])
        self.composer.set_text(read_turn(rec.data, rec.input).user_text)
        self.transcript.set_notice(
            "Editing: send to create a new version of this turn. The old one is kept (‹ 1/2 ›)."
        )
        self.composer.edit.setFocus()

    def switch_branch(self, interaction_id: str, step: int) -> None:
        if self.busy or self.session_id is None:
            return
        self.leaf_id = self._tree().switch(interaction_id, step)
        self.history.set_leaf(self.session_id, self.leaf_id)
        self._send_parent = _UNSET
        self.transcript.set_notice("")
        self._show_path()

    def copy_markdown(self, interaction_id: str) -> None:
        rec = self.history.interaction(interaction_id)
        if rec is None:
            return
        view = read_turn(rec.data, rec.input, rec.metrics)
        QGuiApplication.clipboard().setText(turn_markdown(view, rec, usage=False))
        self.status_message.emit("Answer copied as Markdown.")

    # --- function results ----------------------------------------------------------------

    def answer_calls(self, interaction_id: str) -> None:
        """Ask for the result of each pending function call of a turn, one per Enter."""
        rec = self.history.interaction(interaction_id)
        if rec is None or self.busy:
            return
        steps = rec.data.get("steps") or []
        answered = {s.get("call_id") for s in steps if s.get("type") == "function_result"}
        pending = [
            s for s in steps if s.get("type") == "function_call" and s.get("id") not in answered
        ]
        if not pending:
            return
        self.leaf_id = interaction_id
        self._answering = (interaction_id, pending, [])
        self._prompt_next_call()

    def _prompt_next_call(self) -> None:
        assert self._answering is not None
        _iid, pending, results = self._answering
        call = pending[len(results)]
        count = f" ({len(results) + 1} of {len(pending)})" if len(pending) > 1 else ""
        self.transcript.set_notice(
            f"Type the result of {call.get('name')}{count} — JSON or plain text — and press "
            "Enter. Start it with “error:” to report a failure."
        )
        self.composer.edit.setPlaceholderText(f"Result of {call.get('name')}…")
        self.composer.edit.setFocus()

    def _take_answer(self, text: str) -> list[dict[str, Any]] | None:
        """Record one typed result; the function_result steps once every call has one."""
        import json

        assert self._answering is not None
        iid, pending, results = self._answering
        call = pending[len(results)]
        is_error = text.lower().startswith("error:")
        raw = text[6:].strip() if is_error else text
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        step: dict[str, Any] = {
            "type": "function_result",
            "call_id": call.get("id"),
            "name": call.get("name"),
            "result": value,
        }
        if is_error:
            step["is_error"] = True
        results.append(step)
        self.composer.clear()
        if len(results) < len(pending):
            self._prompt_next_call()
            return None
        self._answering = None
        self.composer.edit.setPlaceholderText(PLACEHOLDER)
        self._send_parent = iid
        return results

    # --- turns ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.tasks.running("turn")

    @property
    def background_active(self) -> bool:
        return bool(self._background)

    def send(
        self,
        text: str,
        attachments: list[Attachment],
        uploaded: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Send a turn; attachments to upload go first (``uploaded``: their blocks by hash)."""
        if self.busy or (uploaded is None and self.tasks.running("upload")):
            return
        if self.runner is None:
            if self.link.connecting:
                self.link.hold(text, attachments)  # sent the moment the connection is usable
            else:
                self.transcript.set_notice(self.link.not_ready_words(), problem=True)
            return
        run = self.dock.run_settings()
        unreadable = [why for a in attachments if (why := self.feed.refusal(a))]
        if unreadable and self._answering is None:
            self.composer.refuse(unreadable[0])  # the target changed after it was attached
            return
        if self._answering is not None:
            results = self._take_answer(text)
            if results is None:
                return
            input_steps: list[dict[str, Any]] = results
        else:
            if uploaded is None and self.feed.needs_upload(attachments):
                self.composer.set_uploading(True)
                task = self.tasks.start("upload", self._upload_then_send(text, attachments))
                task.add_done_callback(lambda _t: self.composer.set_uploading(False))
                return
            ready = uploaded or {}
            content: list[dict[str, Any]] = []
            if text:
                content.append({"type": "text", "text": text})
            content += [ready.get(a.sha256) or a.to_content() for a in attachments]
            input_steps = user_turn(content)
        parent = self.leaf_id if self._send_parent is _UNSET else self._send_parent
        if not run.store:
            parent = None  # nothing to chain to on the server
        try:
            body = build_request(run, input_steps, parent)
        except ValueError as exc:
            self.transcript.set_notice(f"{exc}.", problem=True)
            return
        if self.session_id is None:
            title = " ".join(text.split())[:60] or (attachments[0].name if attachments else "")
            self.session_id = self.history.create_session(title, self.settings.active_profile).id
            self._fresh_session = self.session_id
            self.refresh_sessions()
            self.session_opened.emit(self.session_id)
        infos = [
            AttachmentInfo(a.name, a.mime_type, a.size, a.sha256, a.sent_as) for a in attachments
        ]
        self._last_sent = (text, list(attachments))
        self.composer.clear()
        self.live.stop()
        self.composer.set_running(True)
        self.transcript.set_notice("")
        self._send_parent = _UNSET
        self._live = TurnUpdate(self.session_id, None, parent, input_steps)
        self._live_names = self._labels(attachments)
        self._show_live(run, self._live_names)
        self.run_started.emit()
        notes: dict[str, Any] = {}
        shared = self.busy_runs() if self.connection and self.connection.profile.is_local else 0
        if shared:
            notes["shared_runs"] = shared
        self.tasks.start("turn", self._run(self.session_id, body, input_steps, infos, run, notes))

    async def _upload_then_send(self, text: str, attachments: list[Attachment]) -> None:
        blocks = await self.feed.upload_all(attachments)
        if blocks is not None:
            self.send(text, attachments, blocks)

    def _labels(self, attachments: list[Attachment]) -> list[str]:
        """What the transcript says of each sent file ("memo.wav · audio 0:12 · 1.1 MB")."""
        return [self._sent_line(a.name, a.mime_type, a.size, a.sha256) for a in attachments]

    def _sent_line(self, name: str, mime: str, size: int, sha256: str) -> str:
        known = self.composer.summaries.get(sha256)
        detail = known.label if known else f"{mime} · {human_size(size)}"
        return sent_line(name, detail)

    def _show_live(self, run: RunSettings, attachments: list[str] | None = None) -> None:
        up = self._live
        if up is None:
            self.transcript.set_live(None)
            return
        self.transcript.set_live(
            TurnEntry(
                interaction_id=up.interaction_id,
                input_steps=up.input_steps,
                data=up.data,
                metrics=up.metrics,
                target=run.target,
                attachments=attachments or [],
                live=not up.done,
                error=up.error,
            )
        )

    async def _run(
        self,
        session_id: str,
        body: dict[str, Any],
        input_steps: list[Any],
        infos: list[AttachmentInfo],
        run: RunSettings,
        notes: dict[str, Any] | None = None,
    ) -> None:
        assert self.runner is not None
        names = self._live_names or [f"{a.name} ({a.mime_type})" for a in infos]

        def on_update(update: TurnUpdate) -> None:
            self._live = update
            iid = update.interaction_id
            if run.background and iid and not update.done and iid not in self._background:
                self._background.add(iid)
                self.background_started.emit(iid, body, session_id)
            self._show_live(run, names)

        result: TurnUpdate | None = None
        stopped = False
        try:
            result = await self.runner.run(
                session_id, body, input_steps, infos, on_update, notes=notes
            )
        except asyncio.CancelledError:
            stopped = True
            raise
        finally:
            if result is None and self._live is not None:
                result = self._live
            self._finish(session_id, result, stopped=stopped)

    def _finish(self, session_id: str, result: TurnUpdate | None, *, stopped: bool = False) -> None:
        self.composer.set_running(False)
        self._live = None
        self.transcript.set_live(None)
        iid = result.interaction_id if result else None
        if iid:
            self._background.discard(iid)
        fresh, self._fresh_session = self._fresh_session, None
        if iid is None and fresh == session_id and not self.history.interactions(session_id):
            # Refused before anything was saved: no session holding only an error.
            self.history.delete_session(session_id)
            if self.session_id == session_id:
                self.session_id, self.leaf_id = None, None
                self.session_opened.emit("")
            session_id = ""
        if session_id == self.session_id:
            if iid:
                self.leaf_id = iid
            self._show_path()
        if iid is None and self._last_sent is not None and (stopped or (result and result.error)):
            # The server never confirmed the message: give it back so nothing is lost.
            text, atts = self._last_sent
            if not self.composer.text():
                self.composer.set_text(text)
            for att in atts:
                self.composer.add_attachment(att)
            if stopped:
                self.transcript.set_notice(
                    "Stopped before the server answered. Your message is back in the box."
                )
        if iid is None and result is not None and result.error and not stopped:
            # The refused turn stays in view, above the problem; its text is back in the box.
            entry = TurnEntry(None, result.input_steps, {}, target=self.dock.run_settings().target)
            self.transcript.set_live(entry)
        if result is not None and result.error and (iid is None or result.status == "failed"):
            gone = self.link.engine_gone()  # "could not reach" says less than why
            words = (gone or result.error) + (
                " Your message is back in the box." if iid is None else ""
            )
            self.transcript.set_notice(words, problem=True, details=result.error_details)
        self.refresh_sessions()
        self.composer.edit.setFocus()
        self.run_finished.emit(iid or "")

    def stop(self) -> None:
        if self.tasks.cancel("turn"):
            self.status_message.emit("Stopped.")

    # --- get code ------------------------------------------------------------------------

    def current_request(self) -> dict[str, Any]:
        """The create body Send would post now (the composer's text, or a placeholder)."""
        content: list[dict[str, Any]] = [
            {"type": "text", "text": self.composer.text().strip() or "Your message"}
        ]
        content += [a.to_content() for a in self.composer.attachments()]
        run = self.dock.run_settings()
        parent = self.leaf_id if self._send_parent is _UNSET else self._send_parent
        return build_request(run, user_turn(content), parent if run.store else None)

    def open_get_code(self, parent: QWidget) -> GetCodeDialog | None:
        """Show the request being composed as code; say why not when it cannot be built."""
        conn = self.connection
        engine_url = conn.engine_info.url if conn and conn.engine_info else None
        try:
            server = server_for(self.settings.profile(), engine_url)
            samples = request_code(self.current_request(), server)
        except ValueError as exc:
            self.status_message.emit(f"No code to show: {exc}.")
            return None
        token_file = self.paths.engine_dir / "engine.json" if server.local else None
        dialog = GetCodeDialog(samples, server, token_file, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        return dialog

    # --- shutdown ------------------------------------------------------------------------

    async def shutdown(self, *, stop_engine: bool = True) -> None:
        if self.runner is not None and not stop_engine:
            self.runner.detach_background = True  # keep background turns going on the server
        await self.tasks.cancel_all()
        if self.link.connection is not None:
            await self.link.connection.close(stop_engine=stop_engine)
            self.link.connection = None
        self.save_settings()

    def loaded_entries(self) -> list[TurnEntry]:
        return self.transcript.entries()
