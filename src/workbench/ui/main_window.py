"""The main window: lays out the panels and builds the menus and shortcuts.

The objects behind it (services, the chat controller, the docks) are built and wired by
:func:`.composition.compose`; the window keeps them as attributes for its menus and tests.

Signals:
    quit_finished(): shutdown is complete (the app's loop may stop).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
)

from workbench.core.atomic import write_atomic
from workbench.core.connection import connect
from workbench.core.errors import explain
from workbench.core.export import session_json, session_markdown
from workbench.core.history import HistoryStore
from workbench.core.paths import Paths
from workbench.core.profiles import Profile
from workbench.core.secrets import SecretStore
from workbench.core.settings import Settings

from .composer import Composer
from .composer_media import DropArea
from .composition import Panels, compose
from .header import SessionHeader
from .run_settings_dock import RunSettingsDock
from .services import Services
from .sessions_panel import SessionsPanel
from .settings_dialog import SettingsDialog
from .transcript import TranscriptView
from .transcript.find import FindBar
from .window_extras import WindowExtras


class MainWindow(QMainWindow):
    """Sessions | transcript + composer | run settings."""

    quit_finished = Signal()

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        history: HistoryStore,
        secrets: SecretStore,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Workbench")
        self._fit_to_screen(1360, 860)
        self.services = Services.create(
            paths, settings, history, secrets, on_task_failure=self._task_failed
        )
        self.paths, self.settings, self.history, self.secrets = paths, settings, history, secrets
        self.tasks = self.services.tasks
        self.followers = self.services.followers
        self._closing = False
        self._may_close = False

        self.sessions = SessionsPanel()
        self.transcript = TranscriptView()
        self.composer = Composer()
        self.header = SessionHeader()
        self.connection_label = self.header.connection_label
        self.dock = RunSettingsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)

        center = DropArea()  # files dropped on the transcript are attached too
        center.dropped.connect(self.composer.take_mime)
        col = QVBoxLayout(center)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.header)
        col.addWidget(self.transcript, 1)
        col.addWidget(self.composer)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.sessions)
        splitter.addWidget(center)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 800])
        self.setCentralWidget(splitter)

        self.parts = compose(
            self,
            self.services,
            Panels(self.sessions, self.transcript, self.composer, self.dock, self.header),
        )
        self.controller = self.parts.chat
        self.docks = self.parts.docks
        self.extras = WindowExtras(self)  # Compare, palette, shortcut sheet, saved layout
        self._menus()
        self.settings_dialog: SettingsDialog | None = None
        self.composer.edit.setFocus()
        if settings.load_problem:
            self.statusBar().showMessage(settings.load_problem, 15000)
        self.history_box: QMessageBox | None = None
        if history.recovery_note:
            self.statusBar().showMessage(history.recovery_note, 60000)
            box = QMessageBox(
                QMessageBox.Icon.Warning, "History moved aside", history.recovery_note, parent=self
            )
            box.setTextFormat(Qt.TextFormat.PlainText)  # it names a file path
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            box.destroyed.connect(lambda: setattr(self, "history_box", None))
            box.open()
            self.history_box = box

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The default size, shrunk to the screen's free area (title bar and panels included)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, free.width() - 16), min(height, free.height() - 48)
        self.resize(width, height)

    def _menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self.new_action = self._action(file, "&New session", self.controller.new_session, "Ctrl+N")
        file.addSeparator()
        self.export_md_action = self._action(
            file, "Export session as &Markdown…", lambda: self.pick_export("md")
        )
        self.export_json_action = self._action(
            file, "Export session as &JSON trace…", lambda: self.pick_export("json")
        )
        file.addSeparator()
        self._action(file, "&Reconnect", self._reconnect, "F5")
        self._action(file, "&Settings…", self.open_settings, "Ctrl+,")
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))

        edit = self.menuBar().addMenu("&Edit")
        self._action(edit, "&Search sessions", self._focus_search)
        self._action(edit, "&Rename session", self.sessions.rename_current, "F2")
        self._action(edit, "Copy last answer as &Markdown", self._copy_last)
        edit.addSeparator()
        self.find_bar = FindBar(self.transcript)
        self._action(edit, "&Find in transcript…", self.find_bar.open_bar, "Ctrl+F")
        self._action(
            edit, "&Get code…", lambda: self.controller.open_get_code(self), "Ctrl+Shift+G"
        )
        self._action(edit, "Send &message", self.composer.submit, "Ctrl+Return")
        self._action(edit, "&Compare runs or branches…", self.extras.compare_current)

        view = self.menuBar().addMenu("&View")
        toggle = self.dock.toggleViewAction()
        toggle.setShortcut(QKeySequence("Ctrl+B"))
        view.addAction(toggle)
        self._action(view, "&Command palette…", self.extras.open_palette, "Ctrl+K")
        self._action(view, "&Target picker", self._focus_target, "Ctrl+L")
        self.docks.add_menu_actions(view)

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.extras.show_shortcuts, "Ctrl+/")

    def _action(self, menu: object, text: str, slot: object, shortcut: object = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))  # type: ignore[call-overload]
        action.triggered.connect(slot)
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    # --- start and stop ------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, list sessions; the composer keeps the focus."""
        self.controller.refresh_sessions()
        await self.controller.connect_active()
        self.composer.edit.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            event.accept()
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop (a test tearing down): nothing async left to stop
            event.accept()
            return
        event.ignore()
        if self._closing:
            return
        if self.controller.background_active or self.docks.any_running:
            self._ask_about_background()
        else:
            self._begin_shutdown(stop_engine=True)

    def _ask_about_background(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Background run in progress",
            "A background run is still going. Keep the local engine running so it can finish? "
            "Workbench will show the result next time.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        keep = box.addButton("Keep it running and quit", QMessageBox.ButtonRole.AcceptRole)
        stop = box.addButton("Stop everything and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def done(_result: int) -> None:
            clicked = box.clickedButton()
            if clicked is keep:
                self._begin_shutdown(stop_engine=False)
            elif clicked is stop:
                self._begin_shutdown(stop_engine=True)

        box.finished.connect(done)
        box.open()
        self.background_box = box

    def _begin_shutdown(self, *, stop_engine: bool) -> None:
        self._closing = True
        self.statusBar().showMessage("Closing…")
        asyncio.get_running_loop().create_task(self._shutdown(stop_engine))

    async def _shutdown(self, stop_engine: bool) -> None:
        try:
            await self.controller.shutdown(stop_engine=stop_engine)
            self.docks.shutdown()
        finally:
            self._may_close = True
            self.close()
            self.quit_finished.emit()

    def _reconnect(self) -> None:
        if self.controller.link.connecting:
            self.statusBar().showMessage("Already connecting…", 4000)
            return
        self.tasks.start("connect", self.controller.connect_active())

    def _task_failed(self, name: str, exc: BaseException) -> None:
        self.statusBar().showMessage(f"{name} failed: {explain(exc)}", 15000)

    # --- header and small actions --------------------------------------------------------

    def _focus_search(self) -> None:
        self.sessions.search.setFocus()
        self.sessions.search.selectAll()

    def _focus_target(self) -> None:
        self.dock.show()
        self.dock.target.setFocus()

    def _copy_last(self) -> None:
        entries = self.transcript.entries()
        if entries and entries[-1].interaction_id:
            self.controller.copy_markdown(entries[-1].interaction_id)

    # --- export --------------------------------------------------------------------------

    def pick_export(self, fmt: str) -> None:
        if self.controller.session_id is None:
            self.statusBar().showMessage("Open or start a session to export it.", 6000)
            return
        suffix = ".md" if fmt == "md" else ".json"
        dialog = QFileDialog(self, "Export session")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(suffix[1:])
        dialog.selectFile(f"session{suffix}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.fileSelected.connect(lambda path: self.export_to(fmt, Path(path)))
        dialog.open()

    def export_to(self, fmt: str, path: Path) -> None:
        sid = self.controller.session_id
        if sid is None:
            return
        info = self.history.session(sid)
        if fmt == "md":
            text = session_markdown(self.history, info)
        else:
            text = session_json(self.history, info)
        try:
            write_atomic(path, text)
        except OSError as exc:
            self.statusBar().showMessage(f"Export failed: {exc.strerror}", 10000)
            return
        self.statusBar().showMessage(f"Exported to {path}", 8000)

    # --- settings ------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return self.settings_dialog
        dialog = SettingsDialog(
            self.settings.profiles, self.settings.active_profile, self.secrets, self
        )
        dialog.settings_accepted.connect(self._settings_accepted)
        dialog.test_requested.connect(self._test_profile)
        self.docks.add_settings(dialog)
        dialog.destroyed.connect(lambda: setattr(self, "settings_dialog", None))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_accepted(self, profiles: list[Profile], active: str) -> None:
        before = self.settings.profile().model_dump()
        self.settings.profiles = profiles
        self.settings.active_profile = active
        self.controller.save_settings()
        if self.settings.profile().model_dump() != before or self.controller.connection is None:
            self.tasks.start("connect", self.controller.connect_active())

    def _test_profile(self, profile: Profile) -> None:
        self.tasks.start("test-connection", self._run_test(profile))

    async def _run_test(self, profile: Profile) -> None:
        ok, message = False, ""
        current = self.controller.connection
        try:
            if current is not None and current.profile.id == profile.id and profile.is_local:
                models = await current.refresh_models()
            elif profile.is_local:
                raise RuntimeError("make this the active profile to start its engine")
            else:
                conn = await connect(profile, self.secrets, self.paths)
                try:
                    models = await conn.refresh_models()
                finally:
                    await conn.close()
            ok, message = True, f"Connected. The server offers {len(models)} model(s)."
        except Exception as exc:
            message = explain(exc, profile.base_url or profile.name)
        dialog = self.settings_dialog
        if dialog is not None:
            dialog.show_test_result(ok, message)
