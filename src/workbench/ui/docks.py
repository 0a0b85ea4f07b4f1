"""The Runs, Sandbox files, Agents, Schedules, Webhooks and Models docks and their controllers.

:mod:`.composition` builds one :class:`WorkbenchDocks` on the window's services and wires it
to the chat; this module only makes the docks, places them (users may move them), and gives
the View menu and the Settings dialog their parts. It knows the window only as a
``QMainWindow`` to place docks in.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QMenu, QScrollArea

from workbench.core.agent_library import AgentLibrary
from workbench.core.gguf_meta import GGUFMetaCache
from workbench.core.models_service import ImportStore, ModelsService

from .agents.controller import AgentsController
from .agents.panel import AgentsDock
from .approvals_settings import AllowListEditor
from .chat.controller import ChatController
from .credentials_settings import CredentialsEditor
from .files.controller import FilesController
from .files.dock import FilesDock
from .models.controller import ModelsController
from .models.dock import ModelsDock
from .research.controller import ResearchController
from .research.panel import ResearchDock
from .run_settings_dock import RunSettingsDock
from .runs.controller import RunsController
from .runs.dock import RunsDock
from .runs.notifier import Notifier
from .schedules.controller import SchedulesController
from .schedules.dock import SchedulesDock
from .schedules.webhooks_dock import WebhooksDock
from .services import Services
from .settings_dialog import SettingsDialog


class WorkbenchDocks(QObject):
    """Owns the Runs, Sandbox files, Agents, Schedules, Webhooks and Models docks."""

    def __init__(
        self,
        host: QMainWindow,
        services: Services,
        chat: ChatController,
        run_dock: RunSettingsDock,
    ) -> None:
        super().__init__(host)
        self.host, self.run_dock, self.chat = host, run_dock, chat
        paths, tasks = services.paths, services.tasks
        self.tasks = tasks
        self.allow_list = services.allow_list
        self.notifier = Notifier(host)

        def connection() -> Any:
            return chat.connection

        self.runs_dock = RunsDock(host)
        self.files_dock = FilesDock(host)
        self.agents_dock = AgentsDock(host)
        self.schedules_dock = SchedulesDock(host)
        self.webhooks_dock = WebhooksDock(host)
        self.runs = RunsController(
            paths.data_dir / "runs.json",
            services.history,
            self.allow_list,
            tasks,
            self.runs_dock,
            self.notifier,
            connection,
            self,
            followers=services.followers,
            stall_limit=services.settings.stall_seconds,
        )
        self.files = FilesController(self.files_dock, tasks, services.history, connection, self)
        self.agents = AgentsController(
            AgentLibrary(paths.agents_dir),
            self.agents_dock,
            tasks,
            connection,
            self.runs.launch,
            self,
        )
        self.schedules = SchedulesController(
            self.schedules_dock, self.webhooks_dock, tasks, connection, self.runs, self
        )
        self.models_dock = ModelsDock(host)
        self.models = ModelsController(
            ModelsService(
                paths.engine_dir / "models",
                ImportStore(paths.config_dir / "models.json"),
                GGUFMetaCache(paths.cache_dir / "gguf-meta.json"),
            ),
            self.models_dock,
            tasks,
            chat,
            self,
        )
        self.research_dock = ResearchDock(host)
        self.research = ResearchController(
            self.research_dock, self.runs, self.files, tasks, connection, self
        )
        self._place()

    def _place(self) -> None:
        w = self.host
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for dock in (
            self.schedules_dock,
            self.webhooks_dock,
            self.models_dock,
            self.research_dock,
            self.agents_dock,
        ):
            _scrolling(dock)
        w.addDockWidget(bottom, self.runs_dock)
        w.addDockWidget(bottom, self.files_dock)
        w.splitDockWidget(self.runs_dock, self.files_dock, Qt.Orientation.Horizontal)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.agents_dock)
        w.tabifyDockWidget(self.run_dock, self.agents_dock)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.research_dock)
        w.tabifyDockWidget(self.agents_dock, self.research_dock)
        w.tabifyDockWidget(self.runs_dock, self.schedules_dock)
        w.tabifyDockWidget(self.runs_dock, self.webhooks_dock)
        self.runs_dock.raise_()
        self.run_dock.raise_()
        w.resizeDocks([self.runs_dock], [300], Qt.Orientation.Vertical)
        w.addDockWidget(bottom, self.models_dock)
        w.tabifyDockWidget(self.files_dock, self.models_dock)
        self.files_dock.raise_()

    @property
    def status_sources(self) -> tuple[Any, ...]:
        """The controllers with a ``status_message(str)`` signal for the status bar."""
        return (self.runs, self.files, self.agents, self.schedules, self.models, self.research)

    def add_menu_actions(self, view: QMenu) -> None:
        view.addSeparator()
        for dock, key in (
            (self.runs_dock, "Ctrl+Shift+R"),
            (self.files_dock, "Ctrl+Shift+F"),
            (self.agents_dock, "Ctrl+Shift+A"),
            (self.schedules_dock, "Ctrl+Shift+S"),
            (self.webhooks_dock, "Ctrl+Shift+K"),
            (self.models_dock, "Ctrl+Shift+M"),
            (self.research_dock, "Ctrl+Shift+D"),
        ):
            action = dock.toggleViewAction()
            action.setShortcut(QKeySequence(key))
            view.addAction(action)

    def add_settings(self, dialog: SettingsDialog) -> None:
        dialog.add_section(AllowListEditor(self.allow_list))
        chat = self.chat
        dialog.add_section(CredentialsEditor(self.tasks, lambda: chat.connection))

    def show_models(self) -> None:
        """Bring the Models page forward, with room for its tables."""
        dock, w = self.models_dock, self.host
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

    def connection_changed(self, ok: bool) -> None:
        """A new connection (or none): pages re-read, runs re-attach, schedules resume."""
        self.models.connection_changed()
        if ok:
            self.runs.reattach_all()
        self.schedules.connection_changed(ok)

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
