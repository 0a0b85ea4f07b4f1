"""The run settings between the dock, settings.json and what the target can do.

Every change in the run-settings dock updates the settings at once and what the composer
and dock offer (capabilities of the target); settings.json is written once the user pauses
(typing in the system instruction changed the settings on every keystroke: one fsync per
key), and at shutdown.

Signals:
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from workbench.core.capabilities import capabilities_for, input_kinds
from workbench.core.connection import Connection
from workbench.core.paths import Paths
from workbench.core.settings import Settings, save_settings

from ..composer import Composer
from ..run_settings_dock import RunSettingsDock
from ..transcript import TranscriptView

SETTINGS_SAVE_MS = 500
"""How long the run settings must stay unchanged before settings.json is written."""


class SettingsSync(QObject):
    """Keeps settings.run equal to the dock and the panels to the target's capabilities."""

    status_message = Signal(str)

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        *,
        dock: RunSettingsDock,
        composer: Composer,
        transcript: TranscriptView,
        connection: Callable[[], Connection | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths, self.settings = paths, settings
        self.dock, self.composer, self.transcript = dock, composer, transcript
        self.connection = connection
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTINGS_SAVE_MS)
        self._timer.timeout.connect(self.save)
        dock.settings_changed.connect(self._changed)
        dock.load(settings.run)

    def apply_capabilities(self) -> None:
        """What the target reads and does, told to the dock, the composer and the transcript."""
        conn = self.connection()
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

    def _changed(self) -> None:
        self.settings.run = self.dock.run_settings()
        self.apply_capabilities()
        self._timer.start()

    def save(self) -> None:
        """Write settings.json now (a pending debounced write is folded into this one)."""
        self._timer.stop()
        try:
            save_settings(self.settings, self.paths.settings_file)
        except OSError as exc:
            self.status_message.emit(f"Settings not saved: {exc.strerror}")
