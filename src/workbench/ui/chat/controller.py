"""The chat controller: builds the chat's parts and wires the panels to them.

Each part has one job (issue 14 item 3): ``connecting`` (the connection and a message held
while it is made), ``session_state`` (which session and branch is shown), ``sending`` (a
turn from the composer to the stream), ``function_results`` (results the user types),
``settings_sync`` (run settings, debounced writes, capabilities), ``live`` (a run someone
else streams). This object only composes them and keeps the chat's small public surface
for the main window and the tests.

Signals:
    connection_changed(str, bool): a label for the header and whether it is usable.
    status_message(str): a short message for the status bar.
    run_started(): a turn began.
    run_finished(str): a turn ended (its interaction id, or "" if none was created).
    session_opened(str): the session now shown ("" for a new, unsaved one).
    background_started(str, dict, str): a background turn's interaction id, its request
        body and its session id (the Runs dock follows it).
    models_listed(list): the model ids the server offers (after connecting).
    cancel_run_requested(str): the interaction id of a stalled background run shown live
        whose stall bar's Cancel was clicked (the Runs dock's controller cancels it).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from workbench.core.attachments import Attachment
from workbench.core.connection import Connection
from workbench.core.follower import Followers
from workbench.core.history import HistoryStore
from workbench.core.paths import Paths
from workbench.core.secrets import SecretStore
from workbench.core.settings import Settings
from workbench.core.stall import stall_seconds
from workbench.core.tasks import TaskManager
from workbench.core.turns import TurnRunner

from ..composer import Composer
from ..composer_feed import ComposerFeed
from ..run_settings_dock import RunSettingsDock
from ..sessions_panel import SessionsPanel
from ..transcript import TranscriptView, TurnEntry
from .connecting import ChatConnection
from .function_results import FunctionResults
from .get_code import GetCodeDialog, composed_request, open_get_code
from .live import LiveFollow
from .sending import TurnSender
from .session_state import SessionState
from .settings_sync import SettingsSync


class ChatController(QObject):
    """Connects the panels to the history, the client and the task manager."""

    connection_changed = Signal(str, bool)
    status_message = Signal(str)
    run_started = Signal()
    run_finished = Signal(str)
    session_opened = Signal(str)
    background_started = Signal(str, dict, str)
    models_listed = Signal(list)
    cancel_run_requested = Signal(str)

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
        self.paths, self.settings, self.history, self.tasks = paths, settings, history, tasks
        self.sessions, self.transcript, self.composer, self.dock = (
            sessions,
            transcript,
            composer,
            dock,
        )
        self.followers = followers if followers is not None else Followers()
        self.background_stall_seconds: Callable[[], float] = lambda: stall_seconds(
            settings.stall_seconds
        )
        """The stall limit of the runs a transcript shows live (the main window sets it)."""
        self.live = LiveFollow(
            self.followers,
            transcript,
            lambda sid: self.state.live_ended(sid),
            lambda stalled: composer.stall_bar.set_stalled(
                stalled, self.background_stall_seconds(), "background run"
            ),
        )
        self.link = ChatConnection(
            settings,
            secrets,
            paths,
            composer=composer,
            dock=dock,
            transcript=transcript,
            on_connected=self._connected,
            send=lambda text, atts: self.sending.send(text, atts),
            parent=self,
        )
        self.feed = ComposerFeed(composer, tasks, lambda: (self.connection, dock.run_settings()))
        self.state = SessionState(
            history,
            sessions=sessions,
            transcript=transcript,
            composer=composer,
            feed=self.feed,
            live=self.live,
            busy=lambda: self.busy,
            on_leave=self._leaving,
            parent=self,
        )
        self.results = FunctionResults(
            history, self.state, transcript=transcript, composer=composer
        )
        self.sending = TurnSender(
            history,
            settings,
            tasks,
            state=self.state,
            results=self.results,
            link=self.link,
            feed=self.feed,
            composer=composer,
            transcript=transcript,
            dock=dock,
            parent=self,
        )
        self.run_settings = SettingsSync(
            paths,
            settings,
            dock=dock,
            composer=composer,
            transcript=transcript,
            connection=lambda: self.connection,
            parent=self,
        )
        for part in (self.link, self.state, self.sending, self.run_settings):
            part.status_message.connect(self.status_message)
        self.link.changed.connect(self.connection_changed)
        self.state.session_opened.connect(self.session_opened)
        self.sending.run_started.connect(self.run_started)
        self.sending.run_finished.connect(self.run_finished)
        self.sending.background_started.connect(self.background_started)
        composer.send_requested.connect(self.sending.send)
        composer.stop_requested.connect(self.sending.stop)
        composer.stall_bar.cancel_requested.connect(self._stall_cancel)
        composer.stall_bar.keep_waiting_requested.connect(self._stall_keep_waiting)
        transcript.answer_requested.connect(self.answer_calls)

    # --- the connection ------------------------------------------------------------------

    @property
    def connection(self) -> Connection | None:
        return self.link.connection

    @connection.setter
    def connection(self, conn: Connection | None) -> None:
        self.link.connection = conn

    @property
    def runner(self) -> TurnRunner | None:
        return self.sending.runner

    async def connect_active(self, *, restart: bool = False) -> bool:
        """(Re)connect to the active profile; a message sent meanwhile is held and sent
        once it is usable (``connecting.py``)."""
        self.sending.runner = None
        return await self.link.connect_active(restart=restart)

    def _connected(self, conn: Connection) -> None:
        self.sending.runner = TurnRunner(
            conn.client,
            self.history,
            followers=self.followers,
            stall_limit=self.settings.stall_seconds,
        )
        models = conn.model_ids()
        self.dock.set_connecting(False)
        self.dock.set_targets(models, conn.agents)
        self.models_listed.emit(models)
        if not self.dock.run_settings().target:
            fallback = conn.profile.default_target or (models[0] if models else "")
            self.dock.target.setEditText(fallback)
        self.run_settings.apply_capabilities()

    # --- the shown session ---------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        return self.state.session_id

    @property
    def leaf_id(self) -> str | None:
        return self.state.leaf_id

    def _leaving(self) -> None:
        self.link.cancel_hold()  # a queued message belongs to the session it was written in
        self.results.reset()

    def refresh_sessions(self, query: str | None = None) -> None:
        self.state.refresh_sessions(query)

    def new_session(self) -> None:
        self.state.new_session()

    def open_session(self, session_id: str, leaf_id: str | None = None) -> None:
        self.state.open_session(session_id, leaf_id)

    def rename_session(self, session_id: str, title: str) -> None:
        self.state.rename_session(session_id, title)

    def pin_session(self, session_id: str, pinned: bool) -> None:
        self.state.pin_session(session_id, pinned)

    def delete_session(self, session_id: str) -> None:
        self.state.delete_session(session_id)

    def branch_from(self, interaction_id: str) -> None:
        self.state.branch_from(interaction_id)

    def edit_turn(self, interaction_id: str) -> None:
        self.state.edit_turn(interaction_id)

    def switch_branch(self, interaction_id: str, step: int) -> None:
        self.state.switch_branch(interaction_id, step)

    def copy_markdown(self, interaction_id: str) -> None:
        self.state.copy_markdown(interaction_id)

    def answer_calls(self, interaction_id: str) -> None:
        """Ask for the results of a turn's pending function calls (``function_results``)."""
        if not self.busy:
            self.results.start(interaction_id)

    def loaded_entries(self) -> list[TurnEntry]:
        return self.transcript.entries()

    # --- turns ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.sending.busy

    @property
    def background_active(self) -> bool:
        return bool(self.sending.background)

    @property
    def busy_runs(self) -> Callable[[], int]:
        """Background runs the local engine is working on (set by the main window)."""
        return self.sending.busy_runs

    @busy_runs.setter
    def busy_runs(self, count: Callable[[], int]) -> None:
        self.sending.busy_runs = count

    def send(self, text: str, attachments: list[Attachment]) -> None:
        self.sending.send(text, attachments)

    def _stall_cancel(self) -> None:
        """The stall bar's Cancel: this chat's own turn, or the background run shown live."""
        iid = self.live.interaction_id
        if self.live.stalled and iid and not self.busy:
            self.composer.stall_bar.set_stalled(False)
            self.status_message.emit("Cancelling the background run…")
            self.cancel_run_requested.emit(iid)
        else:
            self.sending.stop()

    def _stall_keep_waiting(self) -> None:
        if self.live.stalled and not self.busy:
            if self.live.keep_waiting():
                self.status_message.emit("Waiting for the background run.")
        else:
            self.sending.keep_waiting()

    def stop(self) -> None:
        self.sending.stop()

    def open_get_code(self, parent: QWidget) -> GetCodeDialog | None:
        """Show the request being composed as code; say why not when it cannot be built."""
        conn = self.connection
        engine_url = conn.engine_info.url if conn and conn.engine_info else None
        try:
            body = composed_request(
                self.composer.text(),
                self.composer.attachments(),
                self.dock.run_settings(),
                self.state.parent_for_send,
            )
            token_file = self.paths.engine_dir / "engine.json"
            return open_get_code(self.settings, body, engine_url, token_file, parent)
        except ValueError as exc:
            self.status_message.emit(f"No code to show: {exc}.")
            return None

    # --- settings and shutdown -----------------------------------------------------------

    def save_settings(self) -> None:
        """Write settings.json now (a pending debounced write is folded into this one)."""
        self.run_settings.save()

    async def shutdown(self, *, stop_engine: bool = True) -> None:
        runner = self.sending.runner
        if runner is not None and not stop_engine:
            runner.detach_background = True  # keep background turns going on the server
        await self.tasks.cancel_all()
        if self.link.connection is not None:
            await self.link.connection.close(stop_engine=stop_engine)
            self.link.connection = None
        self.save_settings()
