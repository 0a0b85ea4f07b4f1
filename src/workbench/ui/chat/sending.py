"""Sending a turn: build the request, upload what must be uploaded, stream, finish.

The one place a message leaves the composer. A message sent before the connection is
usable is held by ``connecting.py`` and comes back here once it is; typed function results
(``function_results.py``) are sent as the turn's input. Whatever goes wrong before the
server confirms the message, the text and files are given back to the composer.

Signals:
    run_started(): a turn began.
    run_finished(str): a turn ended (its interaction id, or "" if none was created).
    background_started(str, dict, str): a background turn's interaction id, its request
        body and its session id (the Runs dock follows it).
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.core.attachments import Attachment
from workbench.core.history import AttachmentInfo, HistoryStore
from workbench.core.run_records import run_title
from workbench.core.run_settings import RunSettings, build_request, user_turn
from workbench.core.settings import Settings
from workbench.core.tasks import TaskManager
from workbench.core.turns import TurnRunner, TurnUpdate

from ..composer import Composer
from ..composer_feed import ComposerFeed
from ..run_settings_dock import RunSettingsDock
from ..transcript import TranscriptView, TurnEntry
from .connecting import ChatConnection
from .function_results import FunctionResults
from .session_state import UNSET, SessionState


class TurnSender(QObject):
    """Runs one turn at a time through the task manager (task name ``turn``)."""

    run_started = Signal()
    run_finished = Signal(str)
    background_started = Signal(str, dict, str)
    status_message = Signal(str)

    def __init__(
        self,
        history: HistoryStore,
        settings: Settings,
        tasks: TaskManager,
        *,
        state: SessionState,
        results: FunctionResults,
        link: ChatConnection,
        feed: ComposerFeed,
        composer: Composer,
        transcript: TranscriptView,
        dock: RunSettingsDock,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.history, self.settings, self.tasks = history, settings, tasks
        self.state, self.results, self.link, self.feed = state, results, link, feed
        self.composer, self.transcript, self.dock = composer, transcript, dock
        self.runner: TurnRunner | None = None
        """Set once a connection is usable (None while connecting or not connected)."""
        self.live: TurnUpdate | None = None
        """The running turn's latest snapshot."""
        self.background: set[str] = set()
        self.busy_runs: Callable[[], int] = lambda: 0
        """Background runs the local engine is working on (set by the main window)."""
        self._last_sent: tuple[str, list[Attachment]] | None = None
        self._live_names: list[str] = []  # the running turn's attachments, as shown

    @property
    def busy(self) -> bool:
        return self.tasks.running("turn")

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
        if unreadable and not self.results.active:
            self.composer.refuse(unreadable[0])  # the target changed after it was attached
            return
        if self.results.active:
            results = self.results.take(text)
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
        state = self.state
        parent = state.parent_for_send if run.store else None  # nothing to chain to otherwise
        try:
            body = build_request(run, input_steps, parent)
        except ValueError as exc:
            self.transcript.set_notice(f"{exc}.", problem=True)
            return
        session_id = state.session_id
        if session_id is None:
            title = run_title(text) or (attachments[0].name if attachments else "")
            session_id = state.start_session(title, self.settings.active_profile)
        infos = [
            AttachmentInfo(a.name, a.mime_type, a.size, a.sha256, a.sent_as) for a in attachments
        ]
        self._last_sent = (text, list(attachments))
        self.composer.clear()
        state.live.stop()
        self.composer.set_running(True)
        self.transcript.set_notice("")
        state.send_parent = UNSET
        self.live = TurnUpdate(session_id, None, parent, input_steps)
        self._live_names = [
            state.sent_line(a.name, a.mime_type, a.size, a.sha256) for a in attachments
        ]
        self._show_live(run, self._live_names)
        self.run_started.emit()
        notes: dict[str, Any] = {}
        conn = self.link.connection
        shared = self.busy_runs() if conn and conn.profile.is_local else 0
        if shared:
            notes["shared_runs"] = shared
        self.tasks.start("turn", self._run(session_id, body, input_steps, infos, run, notes))

    async def _upload_then_send(self, text: str, attachments: list[Attachment]) -> None:
        blocks = await self.feed.upload_all(attachments)
        if blocks is not None:
            self.send(text, attachments, blocks)

    def _show_live(self, run: RunSettings, attachments: list[str] | None = None) -> None:
        up = self.live
        stalled = bool(up and up.stalled and not up.done)
        limit = self.runner.stall_seconds if self.runner is not None else 0.0
        self.composer.stall_bar.set_stalled(stalled, limit)
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
            self.live = update
            iid = update.interaction_id
            if run.background and iid and not update.done and iid not in self.background:
                self.background.add(iid)
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
            if result is None and self.live is not None:
                result = self.live
            self._finish(session_id, result, stopped=stopped)

    def _finish(self, session_id: str, result: TurnUpdate | None, *, stopped: bool = False) -> None:
        state = self.state
        self.composer.set_running(False)
        self.composer.stall_bar.set_stalled(False)
        self.live = None
        self.transcript.set_live(None)
        iid = result.interaction_id if result else None
        if iid:
            self.background.discard(iid)
        fresh, state.fresh_session = state.fresh_session, None
        if iid is None and fresh == session_id and not self.history.interactions(session_id):
            # Refused before anything was saved: no session holding only an error.
            self.history.delete_session(session_id)
            if state.session_id == session_id:
                state.session_id, state.leaf_id = None, None
                state.session_opened.emit("")
            session_id = ""
        if session_id == state.session_id:
            if iid:
                state.leaf_id = iid
            state.show_path()
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
        state.refresh_sessions()
        self.composer.edit.setFocus()
        self.run_finished.emit(iid or "")

    def stop(self) -> None:
        if self.tasks.cancel("turn"):
            self.status_message.emit("Stopped.")

    def keep_waiting(self) -> None:
        """The stalled turn gets another period before the app asks again."""
        if self.runner is not None:
            self.runner.keep_waiting()
        self.composer.stall_bar.set_stalled(False)
        self.status_message.emit("Waiting for the response.")
