"""The composition root: the window's services, chat and docks are built and wired here.

Issue 14: one place knows which object talks to which. Widgets and controllers never reach
into each other or into the main window; this module connects their signals. The main
window (:mod:`.main_window`) only lays widgets out and builds menus from what
:func:`compose` returns.

Wiring a new dock or controller: build it in :func:`compose` (or in
:class:`~.docks.WorkbenchDocks` when it is a dock placed with the others), hand it
:class:`~.services.Services` and the few objects it needs, connect its signals below, and
put it on :class:`Composition` if the window's menus need it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow

from .chat.controller import ChatController
from .composer import Composer
from .docks import WorkbenchDocks
from .header import SessionHeader
from .run_settings_dock import RunSettingsDock
from .services import Services
from .sessions_panel import SessionsPanel
from .transcript import TranscriptView

SESSIONS_REFRESH_MS = 500
"""How long run changes are gathered before the sessions list is read again."""

STATUS_MS = 6000
DOCK_STATUS_MS = 8000


@dataclass
class Panels:
    """The window's own widgets the chat works on (the window lays them out)."""

    sessions: SessionsPanel
    transcript: TranscriptView
    composer: Composer
    run_dock: RunSettingsDock
    header: SessionHeader


@dataclass
class Composition:
    """What :func:`compose` built: the chat, the docks, and the timer that keeps the
    sessions list fresh."""

    chat: ChatController
    docks: WorkbenchDocks
    sessions_timer: QTimer


def compose(window: QMainWindow, services: Services, panels: Panels) -> Composition:
    """Build the chat controller and the docks on ``services`` and connect everything."""
    chat = ChatController(
        services.paths,
        services.settings,
        services.history,
        services.secrets,
        services.tasks,
        sessions=panels.sessions,
        transcript=panels.transcript,
        composer=panels.composer,
        dock=panels.run_dock,
        followers=services.followers,
        parent=window,
    )
    docks = WorkbenchDocks(window, services, chat, panels.run_dock)
    timer = _wire(window, services, panels, chat, docks)
    return Composition(chat, docks, timer)


def _wire(
    window: QMainWindow,
    services: Services,
    panels: Panels,
    chat: ChatController,
    docks: WorkbenchDocks,
) -> QTimer:
    status = window.statusBar()
    header, history = panels.header, services.history

    # The header and the status bar show what the chat reports.
    chat.connection_changed.connect(header.show_connection)
    chat.status_message.connect(lambda m: status.showMessage(m, STATUS_MS))

    def session_opened(session_id: str) -> None:
        title = "New session"
        if session_id:
            try:
                title = history.session(session_id).title or "Untitled session"
            except KeyError:
                pass
        header.show_title(title)
        header.show_tokens(panels.transcript.entries())

    chat.session_opened.connect(session_opened)
    chat.run_finished.connect(lambda _iid: header.show_tokens(panels.transcript.entries()))
    chat.busy_runs = lambda: sum(1 for r in docks.runs.tracker.runs.values() if r.running)

    # Docks ↔ chat: a background chat turn appears in Runs, a run's transcript opens in the
    # chat, the selected run's (or session's) sandbox shows in Sandbox files, and a sandbox
    # file can be attached to the next turn.
    for source in docks.status_sources:
        source.status_message.connect(lambda m: status.showMessage(m, DOCK_STATUS_MS))
    docks.notifier.shown.connect(lambda title, msg: status.showMessage(f"{title}: {msg}", 10000))
    chat.connection_changed.connect(lambda _label, ok: docks.connection_changed(ok))
    panels.run_dock.models_requested.connect(docks.show_models)
    docks.models.model_picked.connect(panels.run_dock.pick_model)
    chat.background_started.connect(docks.runs.adopt)
    chat.models_listed.connect(docks.agents.set_models)
    chat.models_listed.connect(lambda _ids: docks.models.connection_changed())
    chat.session_opened.connect(docks.files.session_opened)
    docks.runs.transcript_requested.connect(chat.open_session)
    chat.cancel_run_requested.connect(docks.runs.cancel_interaction)
    chat.background_stall_seconds = lambda: docks.runs.tracker.stall_seconds
    # "… is running in the background" is not true any more once it ended.
    docks.runs.run_ended.connect(lambda _run_id: docks.agents_dock.clear_fleeting())
    docks.runs.environment_selected.connect(docks.files.run_selected)
    docks.files.attachment_ready.connect(chat.feed.add_attachment)
    # Deep Research: a citation clicked in the transcript opens its source; uploaded files
    # are listed again for the sources picker once connected.
    panels.transcript.citation_clicked.connect(docks.research.open_citation)
    chat.connection_changed.connect(
        lambda _label, ok: docks.research.refresh_uploads() if ok else None
    )

    # A run saved into the history (its own session, a new answer): the list shows it.
    # Trailing and coalesced: fifty runs ending together refresh the list once they settle,
    # not fifty times while they stream.
    timer = QTimer(window)
    timer.setSingleShot(True)
    timer.setInterval(SESSIONS_REFRESH_MS)
    timer.timeout.connect(lambda: None if history.closed else chat.refresh_sessions())
    history.add_listener(lambda _session_id: timer.start())
    return timer


__all__ = ["Composition", "Panels", "compose"]
