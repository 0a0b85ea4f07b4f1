"""Drives the Models dock: lists models and servers, installs, imports, switches the engine.

All slow work runs off the UI thread: pip in a child process, GGUF parsing and sha256 checks
in worker threads (``asyncio.to_thread``), probes as async requests with short timeouts.
Serving a model the running engine does not list, or running the engine on another server,
restarts the embedded engine (and says so); a restart waits until no run is in progress.

Signals:
    status_message(str): a line for the status bar.
    model_picked(str): new turns should go to this model (the composition root points the
        run settings at it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.core.errors import explain
from workbench.core.gguf_meta import GGUFReadError
from workbench.core.models_service import FoundServer, ModelRow, ModelsService
from workbench.core.pip_install import PipCancelled, PipJob, PipProgress
from workbench.core.tasks import TaskManager

from ..chat.controller import ChatController
from .dock import ModelsDock


class ModelsController(QObject):
    """The Models dock's actions, on a :class:`ModelsService`."""

    status_message = Signal(str)
    model_picked = Signal(str)

    def __init__(
        self,
        service: ModelsService,
        dock: ModelsDock,
        tasks: TaskManager,
        chat: ChatController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.service, self.dock, self.tasks, self.chat = service, dock, tasks, chat
        self.job: PipJob | None = None
        dock.refresh_requested.connect(self.refresh)
        dock.scan_requested.connect(self.scan)
        dock.use_requested.connect(self.use_model)
        dock.install_requested.connect(lambda row: self._start("install", self._install(row)))
        dock.uninstall_requested.connect(lambda row: self._start("uninstall", self._uninstall(row)))
        dock.verify_requested.connect(lambda row: self._start("verify", self._verify(row)))
        dock.import_requested.connect(lambda path: self._start("import", self._import(path)))
        dock.remove_requested.connect(self._forget)
        dock.cancel_requested.connect(self.cancel)
        dock.add_server_requested.connect(self._add_server)
        dock.use_server_requested.connect(
            lambda found, model: self._start("use-server", self._use_server(found, model))
        )
        dock.visibilityChanged.connect(self._shown)
        self._listed_once = False

    # --- helpers ----------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.dock.note.setText(text)
        self.status_message.emit(text)

    def _start(self, what: str, coro: Any) -> None:
        if self.tasks.running("models-work"):
            coro.close()
            self._say("Wait for the current model task to finish (or cancel it).")
            return
        self.tasks.start("models-work", self._guarded(what, coro))

    async def _guarded(self, what: str, coro: Any) -> None:
        self.dock.set_busy(True)
        try:
            await coro
        except Exception as exc:
            self.dock.set_progress(None, "")
            self.dock.progress.setVisible(False)
            self.dock.cancel_button.setVisible(False)
            self._say(f"{what.capitalize()} failed: {explain(exc)}")
        finally:
            self.job = None
            self.dock.set_busy(False)

    def _shown(self, visible: bool) -> None:
        if visible and not self._listed_once:
            self._listed_once = True
            self.refresh()
            self.scan()

    def connection_changed(self) -> None:
        """The app (re)connected: the served models may have changed."""
        conn = self.chat.connection
        if conn is None:
            self.dock.serving.setText("Not connected.")
        else:
            profile = conn.profile
            where = conn.label
            if profile.is_local and profile.local_backend == "openai":
                where += f" on {profile.local_openai_url}"
            default = conn.model_ids()[0] if conn.model_ids() else "—"
            self.dock.serving.setText(f"Server: {where} · default model: {default}")
        if self.dock.isVisible():
            self.refresh()

    # --- listing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tasks.start("models-list", self._list())

    async def _list(self) -> list[ModelRow]:
        conn = self.chat.connection
        served = list(conn.models) if conn is not None else []
        if conn is not None and not conn.profile.is_local:
            rows = self.service.server_rows(served)
        else:
            rows = await asyncio.to_thread(self.service.local_rows, served)
        self.dock.set_rows(rows)
        return rows

    def scan(self) -> None:
        self.dock.scan_button.setEnabled(False)
        self.tasks.start("models-scan", self._scan())

    async def _scan(self) -> list[FoundServer]:
        try:
            found = await self.service.discover()
        finally:
            self.dock.scan_button.setEnabled(True)
        self.dock.set_servers(found)
        running = sum(1 for f in found if f.ok)
        self.status_message.emit(f"Found {running} model server(s) on this computer.")
        return found

    def _add_server(self, url: str) -> None:
        try:
            base = self.service.store.add_server(url)
        except ValueError as exc:
            self._say(str(exc))
            return
        self.dock.url.clear()
        self._say(f"Added {base}; scanning…")
        self.scan()

    # --- install / uninstall / verify -------------------------------------------------------

    def _progress(self, progress: PipProgress) -> None:
        job = self.job
        self.dock.set_progress(
            progress.fraction,
            progress.describe(),
            cancel=job is not None and job.can_cancel,
            active=True,
        )

    async def _install(self, row: ModelRow) -> None:
        assert row.packaged is not None
        self.job = self.service.install_job(row.packaged, self._progress)
        self.dock.set_progress(
            None, f"Installing {row.id}: starting pip…", cancel=True, active=True
        )
        try:
            await self.job.run()
        except PipCancelled as exc:
            self.dock.set_progress(None, "")
            self._hide_progress()
            self._say(str(exc))
            return
        self.job = None
        await self._verify(row, after_install=True)

    async def _verify(self, row: ModelRow, *, after_install: bool = False) -> None:
        assert row.packaged is not None
        self.dock.set_progress(None, f"Checking the sha256 of {row.id}…", active=True)
        try:
            path = await asyncio.to_thread(self.service.verify, row.packaged)
        finally:
            self._hide_progress()
        await self._list()
        done = "Installed and verified" if after_install else "Verified"
        self._say(
            f"{done}: {row.id} (sha256 matches, {path.name}). "
            "“Use for this session” restarts the local engine to serve it."
        )

    async def _uninstall(self, row: ModelRow) -> None:
        assert row.packaged is not None
        if row.served and self.chat.connection is not None and len(self.chat.connection.models) > 0:
            conn = self.chat.connection
            if conn.model_ids() and conn.model_ids()[0] == row.id:
                self._say(f"{row.id} is the model the engine serves now: use another one first.")
                return
        self.dock.set_progress(None, f"Uninstalling {row.id}…", active=True)
        try:
            await self.service.uninstall_job(row.packaged).run()
            await asyncio.to_thread(self.service.remove_assembled, row.packaged)
        finally:
            self._hide_progress()
        await self._list()
        self._say(f"Uninstalled {row.id} and removed its joined model file.")

    def _hide_progress(self) -> None:
        self.dock.set_progress(0.0, "")
        self.dock.progress.setVisible(False)
        self.dock.cancel_button.setVisible(False)

    def cancel(self) -> None:
        job = self.job
        if job is None:
            return
        if not job.cancel():
            self._say("pip is installing the files now; it cannot be stopped safely.")

    # --- import -----------------------------------------------------------------------------

    async def _import(self, path: str) -> None:
        self.dock.set_progress(None, f"Reading {Path(path).name}…", active=True)
        try:
            row, ram_note = await asyncio.to_thread(self.service.import_gguf, Path(path))
        except (GGUFReadError, ValueError) as exc:
            self._say(str(exc))
            return
        finally:
            self._hide_progress()
        await self._list()
        self.dock.select_model(row.id)
        note = f"Imported {row.id} from {row.path} (not copied)."
        self._say(note + (f" {ram_note}" if ram_note else " “Use for this session” serves it."))

    def _forget(self, row: ModelRow) -> None:
        self.service.remove_import(row.path)
        self._say(f"Forgot {row.path} (the file itself is untouched).")
        self.refresh()

    # --- choosing ---------------------------------------------------------------------------

    def use_model(self, row: ModelRow) -> None:
        conn = self.chat.connection
        if row.missing:
            self._say(f"{row.path} is missing: import it again from where it is now.")
            return
        if row.kind == "packaged" and not row.installed:
            self._say(f"Install {row.id} first.")
            return
        if row.served or row.kind == "server" or (conn is not None and row.id in conn.model_ids()):
            self._pick(row.id)
            return
        self._start("use", self._restart_for(row))

    def _pick(self, model_id: str) -> None:
        self.model_picked.emit(model_id)
        self._say(f"New turns in this session go to {model_id}.")

    def _local_profile_update(self, **update: Any) -> bool:
        """Point the local profile at ``update`` and make it active; False while runs go on."""
        if self.chat.background_active or self.chat.busy_runs():
            self._say(
                "A run is in progress: switch models after it ends "
                "(switching restarts the local engine)."
            )
            return False
        settings = self.chat.settings
        local = next((p for p in settings.profiles if p.is_local), None)
        if local is None:
            self._say("There is no Local engine profile: add one in Settings (Ctrl+,).")
            return False
        settings.upsert_profile(local.model_copy(update=update))
        settings.active_profile = local.id
        self.chat.save_settings()
        return True

    async def _restart_for(self, row: ModelRow) -> None:
        if not self._local_profile_update(local_backend="llama", local_model=row.engine_model):
            return
        self.dock.set_progress(None, f"Restarting the local engine to serve {row.id}…", active=True)
        try:
            ok = await self.chat.connect_active(restart=True)
        finally:
            self._hide_progress()
        conn = self.chat.connection
        if ok and conn is not None and conn.model_ids():
            self._pick(conn.model_ids()[0])  # the engine serves its --model first
            self._say(f"Restarted the local engine; it now serves {conn.model_ids()[0]}.")
        else:
            self._say("The local engine did not start with that model: see the transcript.")

    async def _use_server(self, found: FoundServer, model: str) -> None:
        if not self._local_profile_update(
            local_backend="openai", local_openai_url=found.base_url, local_model=model
        ):
            return
        self.dock.set_progress(
            None, f"Restarting the local engine on {found.base_url}…", active=True
        )
        try:
            ok = await self.chat.connect_active(restart=True)
        finally:
            self._hide_progress()
        if ok:
            self._pick(model)
            self._say(
                f"The local engine now runs on {found.name} ({found.base_url}), "
                f"model {model}. Use a packaged model to go back to the built-in one."
            )
        else:
            self._say(f"The engine could not start on {found.base_url}: see the transcript.")
