"""The Runs, Sandbox files, Agents, Schedules and Webhooks docks, their controllers, wiring.

The main window builds one :class:`WorkbenchDocks`; it places the docks (users may move
them), adds their toggles to the View menu and wires them to the chat controller: a
background chat turn appears in Runs, a run's transcript opens in the transcript, the
selected run's (or session's) sandbox shows in Sandbox files, and a sandbox file can be
attached to the next turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QMenu, QScrollArea

from workbench.core.agent_library import AgentLibrary
from workbench.core.approvals import AllowList
from workbench.core.gguf_meta import GGUFMetaCache
from workbench.core.models_service import ImportStore, ModelsService

from .agents.controller import AgentsController
from .agents.panel import AgentsDock
from .approvals_settings import AllowListEditor
from .credentials_settings import CredentialsEditor
from .files.controller import FilesController
from .files.dock import FilesDock
from .models.controller import ModelsController
from .models.dock import ModelsDock
from .runs.controller import RunsController
from .runs.dock import RunsDock
from .runs.notifier import Notifier
from .schedules.controller import SchedulesController
from .schedules.dock import SchedulesDock
from .schedules.webhooks_dock import WebhooksDock

SESSIONS_REFRESH_MS = 500
"""How long run changes are gathered before the sessions list is read again."""

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .settings_dialog import SettingsDialog


class WorkbenchDocks(QObject):
    """Owns the Runs, Sandbox files, Agents and Models docks and their controllers."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        paths = window.paths
        self.allow_list = AllowList(paths.config_dir / "approvals.json")
        self.notifier = Notifier(window)

        def connection() -> Any:
            return window.controller.connection

        self.runs_dock = RunsDock(window)
        self.files_dock = FilesDock(window)
        self.agents_dock = AgentsDock(window)
        self.schedules_dock = SchedulesDock(window)
        self.webhooks_dock = WebhooksDock(window)
        self.runs = RunsController(
            paths.data_dir / "runs.json",
            window.history,
            self.allow_list,
            window.tasks,
            self.runs_dock,
            self.notifier,
            connection,
            self,
            followers=window.followers,
            stall_limit=window.settings.stall_seconds,
        )
        self.files = FilesController(
            self.files_dock, window.tasks, window.history, connection, self
        )
        self.agents = AgentsController(
            AgentLibrary(paths.agents_dir),
            self.agents_dock,
            window.tasks,
            connection,
            self.runs.launch,
            self,
        )
        self.schedules = SchedulesController(
            self.schedules_dock, self.webhooks_dock, window.tasks, connection, self.runs, self
        )
        self.models_dock = ModelsDock(window)
        self.models = ModelsController(
            ModelsService(
                paths.engine_dir / "models",
                ImportStore(paths.config_dir / "models.json"),
                GGUFMetaCache(paths.cache_dir / "gguf-meta.json"),
            ),
            self.models_dock,
            window.tasks,
            window.controller,
            self,
        )
        self._place()
        self._wire()

    def _place(self) -> None:
        w = self.window
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for dock in (self.schedules_dock, self.webhooks_dock, self.models_dock):
            _scrolling(dock)
        w.addDockWidget(bottom, self.runs_dock)
        w.addDockWidget(bottom, self.files_dock)
        w.splitDockWidget(self.runs_dock, self.files_dock, Qt.Orientation.Horizontal)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.agents_dock)
        w.tabifyDockWidget(w.dock, self.agents_dock)
        w.tabifyDockWidget(self.runs_dock, self.schedules_dock)
        w.tabifyDockWidget(self.runs_dock, self.webhooks_dock)
        self.runs_dock.raise_()
        w.dock.raise_()
        w.resizeDocks([self.runs_dock], [300], Qt.Orientation.Vertical)
        w.addDockWidget(bottom, self.models_dock)
        w.tabifyDockWidget(self.files_dock, self.models_dock)
        self.files_dock.raise_()

    def _wire(self) -> None:
        w = self.window
        status = w.statusBar()
        for source in (self.runs, self.files, self.agents, self.schedules, self.models):
            source.status_message.connect(lambda m: status.showMessage(m, 8000))
        self.notifier.shown.connect(lambda title, msg: status.showMessage(f"{title}: {msg}", 10000))
        w.controller.connection_changed.connect(self._connection_changed)
        w.dock.models_requested.connect(self.show_models)
        w.controller.background_started.connect(self.runs.adopt)
        w.controller.models_listed.connect(self.agents.set_models)
        w.controller.models_listed.connect(lambda _ids: self.models.connection_changed())
        w.controller.session_opened.connect(self.files.session_opened)
        self.runs.transcript_requested.connect(self._open_transcript)
        # A run saved into the history (its own session, a new answer): the list shows it.
        # Coalesced: fifty runs ending together refresh the list once, not fifty times.
        self._sessions_timer = QTimer(self)
        self._sessions_timer.setSingleShot(True)
        self._sessions_timer.setInterval(SESSIONS_REFRESH_MS)
        self._sessions_timer.timeout.connect(
            lambda: None if w.history.closed else w.controller.refresh_sessions()
        )
        w.history.add_listener(lambda _session_id: self._refresh_sessions_soon())
        # "… is running in the background" is not true any more once it ended.
        self.runs.run_ended.connect(lambda _run_id: self.agents_dock.clear_fleeting())
        self.runs.environment_selected.connect(self.files.run_selected)
        self.files.attachment_ready.connect(w.controller.feed.add_attachment)

    def _refresh_sessions_soon(self) -> None:
        """Read the sessions again once runs have been quiet for a moment.

        Trailing (each change restarts the wait): while fifty runs stream, re-reading and
        re-laying out hundreds of sessions would stall the window; it happens once they settle.
        """
        self._sessions_timer.start()

    def add_menu_actions(self, view: QMenu) -> None:
        view.addSeparator()
        for dock, key in (
            (self.runs_dock, "Ctrl+Shift+R"),
            (self.files_dock, "Ctrl+Shift+F"),
            (self.agents_dock, "Ctrl+Shift+A"),
            (self.schedules_dock, "Ctrl+Shift+S"),
            (self.webhooks_dock, "Ctrl+Shift+K"),
            (self.models_dock, "Ctrl+Shift+M"),
        ):
            action = dock.toggleViewAction()
            action.setShortcut(QKeySequence(key))
            view.addAction(action)

    def add_settings(self, dialog: SettingsDialog) -> None:
        dialog.add_section(AllowListEditor(self.allow_list))
        w = self.window
        dialog.add_section(CredentialsEditor(w.tasks, lambda: w.controller.connection))

    def show_models(self) -> None:
        """Bring the Models page forward, with room for its tables."""
        dock, w = self.models_dock, self.window
        dock.show()
        dock.raise_()
        if (
            not dock.isFloating()
            and w.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
        ):
            height = max(dock.height(), int(w.height() * 0.55))
            w.resizeDocks([dock], [height], Qt.Orientation.Vertical)
            w.resizeDocks(
                [self.runs_dock, dock],
                [int(w.width() * 0.3), int(w.width() * 0.7)],
                Qt.Orientation.Horizontal,
            )

    def _connection_changed(self, _label: str, ok: bool) -> None:
        self.models.connection_changed()
        if ok:
            self.runs.reattach_all()
        self.schedules.connection_changed(ok)

    def _open_transcript(self, session_id: str, interaction_id: str) -> None:
        self.window.controller.open_session(session_id, interaction_id)

    @property
    def any_running(self) -> bool:
        return self.runs.any_running

    def shutdown(self) -> None:
        self.agents.save_now()
        self.runs.shutdown()


def _scrolling(dock: QDockWidget) -> None:
    """The dock's page in a scroll area: a tall form or a wide table tabbed in the bottom
    area must not make the window taller or wider than a 1366×768 screen."""
    page = dock.widget()
    if page is None or isinstance(page, QScrollArea):
        return
    area = QScrollArea(dock)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(page)
    dock.setWidget(area)
