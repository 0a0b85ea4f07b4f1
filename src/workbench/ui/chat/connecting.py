"""The chat's connection: connect the active profile, show what a starting engine does, and
hold a message sent meanwhile.

A first start of the local engine takes ~25 s (the default model is assembled once). The
window is usable at once, so users type and send during it; such a message used to be
refused with "Not connected. Check the profile in Settings", which was wrong twice (nothing
was wrong with the profile, and it made them send again). Now the engine's reported phase
shows above the composer, the message is held (shown as queued; Esc cancels) and goes out
the moment the connection is usable. A failed start says what failed: the engine's last
words when it exited, a missing key or bad URL when the profile is at fault.

Signals:
    changed(str, bool): a label for the header and whether the connection is usable.
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from workbench.core.attachments import Attachment
from workbench.core.connection import RECONNECT_HINT, Connection, ConnectionProblem, connect
from workbench.core.engine_process import EngineProgress
from workbench.core.errors import explain
from workbench.core.paths import Paths
from workbench.core.secrets import SecretStore
from workbench.core.settings import Settings

from ..composer import Composer
from ..run_settings_dock import RunSettingsDock
from ..transcript import TranscriptView

HOLD_LOCAL = "Will send when the local engine is ready — Esc cancels."


class ChatConnection(QObject):
    """Owns the chat's one connection and the message held while it is being made."""

    changed = Signal(str, bool)
    status_message = Signal(str)

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        paths: Paths,
        *,
        composer: Composer,
        dock: RunSettingsDock,
        transcript: TranscriptView,
        on_connected: Callable[[Connection], None],
        send: Callable[[str, list[Attachment]], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings, self.secrets, self.paths = settings, secrets, paths
        self.composer, self.dock, self.transcript = composer, dock, transcript
        self.on_connected = on_connected
        """Called once the new connection is open (the chat builds its runner)."""
        self.send = send
        """Sends a held message once the connection is usable."""
        self.connection: Connection | None = None
        self.problem: ConnectionProblem | None = None
        self.connecting = False
        self.held: tuple[str, list[Attachment]] | None = None
        composer.hold_cancelled.connect(self.cancel_hold)

    # --- connecting ----------------------------------------------------------------------

    async def connect_active(self, *, restart: bool = False) -> bool:
        """(Re)connect to the active profile; report problems in the transcript.

        ``restart``: start a new local engine even if one is running (new model or server).
        """
        profile = self.settings.profile()
        self.connecting, self.problem = True, None
        self.changed.emit(f"{profile.name} · connecting…", False)
        if profile.is_local:
            why = "The local engine is starting."
            self.composer.startup_bar.starting()
        else:
            why = f"Connecting to {profile.name}…"
        self.composer.set_ready(False, why, can_hold=True)
        self.dock.set_connecting(True)
        old, self.connection = self.connection, None
        try:
            if old is not None:
                await old.close()
            conn = await connect(
                profile, self.secrets, self.paths, reuse_engine=not restart,
                on_progress=self._progress,
            )  # fmt: skip
        except ConnectionProblem as exc:
            self._failed(profile.name, exc)
            return False
        except asyncio.CancelledError:  # a newer connect replaced this one
            self.connecting = False
            self.composer.startup_bar.done()
            raise
        self.connection = conn
        self.connecting = False
        self.composer.startup_bar.done()
        self.changed.emit(conn.label, True)
        notice = conn.engine_info.notice if conn.engine_info is not None else ""
        self.transcript.set_notice(f"The local engine: {notice}" if notice else "", problem=True)
        try:
            await conn.refresh_models()
        except Exception as exc:
            self.status_message.emit(f"Could not list models: {explain(exc, conn.client.base_url)}")
        self.on_connected(conn)
        self.composer.set_ready(True)
        self._release()
        return True

    def _progress(self, progress: EngineProgress) -> None:
        self.composer.startup_bar.show_progress(progress)
        fraction = progress.fraction
        share = f" {int(100 * fraction)} %" if fraction is not None else ""
        self.changed.emit(f"{self.settings.profile().name} · starting{share}…", False)

    def _failed(self, name: str, exc: ConnectionProblem) -> None:
        self.connecting, self.problem = False, exc
        self.composer.startup_bar.done()
        self.changed.emit(f"{name} · not connected", False)
        self.composer.set_ready(False, self.not_ready_words())
        self.dock.set_connecting(False)
        self.transcript.set_notice(str(exc), problem=True, details=exc.details)
        if self.held is not None:
            self.held = None
            self.composer.set_held(None)
            self.composer.refuse(
                "Not sent: the connection failed (see above). Your message is kept."
            )

    def not_ready_words(self) -> str:
        """Why a message cannot go out now, and what to do — the failure as it was."""
        if self.connecting:
            return "Still connecting; the message will be sent when it is ready."
        if self.problem is not None:
            return f"Not connected: {self.problem}"
        return f"Not connected. Choose {RECONNECT_HINT} to connect."

    def engine_gone(self) -> str | None:
        """Words for a local engine that exited after it started, or None while it runs."""
        conn = self.connection
        engine = conn.engine if conn is not None else None
        if engine is None or engine.running or engine.exit_code is None:
            return None
        said = f" Its last message: “{engine.last_line}”." if engine.last_line else ""
        return (
            f"The local engine has exited (code {engine.exit_code}).{said} Choose "
            f"{RECONNECT_HINT} to start it again."
        )

    # --- the held message ----------------------------------------------------------------

    def hold(self, text: str, attachments: list[Attachment]) -> None:
        """Keep the message until the connection is usable (the composer shows it queued)."""
        self.held = (text, list(attachments))
        profile = self.settings.profile()
        note = (
            HOLD_LOCAL
            if profile.is_local
            else (f"Will send once connected to {profile.name} — Esc cancels.")
        )
        self.composer.set_held(note)

    def cancel_hold(self) -> None:
        """Esc: the message stays in the box, editable, and is not sent."""
        if self.held is None:
            return
        self.held = None
        self.composer.set_held(None)
        self.status_message.emit("Queued message cancelled; it stays in the box.")

    def _release(self) -> None:
        held, self.held = self.held, None
        if held is None:
            return
        self.composer.set_held(None)
        self.send(*held)
