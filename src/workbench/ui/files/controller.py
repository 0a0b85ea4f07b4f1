"""Runs the files dock's requests against the current server (through core.sandbox_files).

Signals:
    attachment_ready(object): an Attachment for the composer ("attach to next turn").
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from workbench.core.attachments import AttachmentError, from_bytes
from workbench.core.citations import Citation
from workbench.core.cited_source import from_bytes as cited_from_bytes
from workbench.core.cited_source import local_path, passage_only, read_local
from workbench.core.connection import Connection
from workbench.core.errors import explain
from workbench.core.history import HistoryStore
from workbench.core.sandbox_files import SandboxEntry, SandboxFiles
from workbench.core.tasks import TaskManager

from .dock import FilesDock

TRANSFER = "files-transfer"


class FilesController(QObject):
    """Lists, previews, saves, downloads and uploads sandbox files as named tasks."""

    attachment_ready = Signal(object)
    status_message = Signal(str)

    def __init__(
        self,
        dock: FilesDock,
        tasks: TaskManager,
        history: HistoryStore,
        connection: Callable[[], Connection | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.dock, self.tasks, self.history = dock, tasks, history
        self._connection = connection
        self._waiting_for = ""
        self._cited: Citation | None = None
        """A citation whose sandbox file is being found in the tree: its preview is the
        cited passage, highlighted, instead of the plain file."""
        dock.model.fetch_requested.connect(self.fetch)
        dock.refresh_requested.connect(self.refresh)
        dock.preview_requested.connect(self.preview)
        dock.save_requested.connect(lambda e, p: self.save_as(e, Path(p)))
        dock.download_all_requested.connect(lambda p: self.download_all(Path(p)))
        dock.upload_requested.connect(lambda files, d: self.upload([Path(f) for f in files], d))
        dock.attach_requested.connect(self.attach)
        dock.cancel_requested.connect(self.cancel_transfer)

    @property
    def environment_id(self) -> str:
        return self.dock.model.environment_id

    def _files(self) -> SandboxFiles | None:
        conn = self._connection()
        if conn is None:
            self.dock.show_problem("Not connected: connect to the run's server to see its files.")
            return None
        return SandboxFiles(conn.client)

    def set_environment(self, environment_id: str, label: str = "") -> None:
        if environment_id == self.environment_id:
            return
        self.dock.set_environment(environment_id, label)
        if environment_id:
            self.dock.model.fetchMore(self.dock.model.index(-1, -1))

    def run_selected(self, environment_id: str, run_id: str) -> None:
        """Show the selected run's sandbox — or say it has none yet, never another run's."""
        if not run_id:
            return  # nothing selected: keep what is shown
        if environment_id:
            self.set_environment(environment_id, "from the selected run")
        elif self.environment_id or self._waiting_for != run_id:
            self.dock.set_environment("")
            self.dock.where.setText(
                "The selected run has no sandbox yet: it appears here as soon as the server "
                "reports one."
            )
        self._waiting_for = "" if environment_id else run_id

    def session_opened(self, session_id: str) -> None:
        """Show the sandbox the session's latest agent turn used, if any."""
        if not session_id:
            return
        for rec in reversed(self.history.interactions(session_id)):
            env = rec.data.get("environment_id")
            if isinstance(env, str) and env:
                self.set_environment(env, "from this session")
                return

    def refresh(self) -> None:
        """List the sandbox again, keeping the folders that were open (and the selection)."""
        env = self.environment_id
        label = self.dock.where_label
        keep = self.dock.open_state()
        self.dock.set_environment("")
        self.set_environment(env, label)
        self.dock.reopen(keep)

    def fetch(self, path: str) -> None:
        self.tasks.start(f"files-list:{path}", self._fetch(self.environment_id, path))

    async def _fetch(self, env: str, path: str) -> None:
        files = self._files()
        if files is None or not env:
            self.dock.model.fetch_failed(path)
            return
        try:
            entries = await files.list_dir(env, path)
        except Exception as exc:
            self.dock.model.fetch_failed(path)
            self.dock.show_problem(f"Could not list {path}: {explain(exc)}")
            return
        if env == self.environment_id:
            self.dock.show_problem("")
            self.dock.model.set_children(path, entries)

    def preview(self, entry: SandboxEntry) -> None:
        cite = self._cited
        found = cite.sandbox_file() if cite is not None else None
        if cite is not None and found is not None and found[1] == entry.path:
            self.tasks.start("files-preview", self._preview_cited(found[0], entry, cite))
            return
        self._cited = None
        self.tasks.start("files-preview", self._preview(self.environment_id, entry))

    def show_citation(self, cite: Citation) -> None:
        """Open what a citation cites: the sandbox file (selected in the tree) at the cited
        lines or PDF page — or a local source, or the passage the server quoted."""
        self.dock.show()
        self.dock.raise_()
        found = cite.sandbox_file()
        if found is None:
            self._cited = None
            self.tasks.start("files-preview", self._show_outside(cite))
            return
        env, path = found
        self._cited = cite
        opened, _selected = self.dock.open_state() if env == self.environment_id else (set(), "")
        parts = path.split("/")[:-1]
        opened |= {"/".join(parts[: n + 1]) for n in range(len(parts))}
        self.dock.preview.show_message(f"Opening {path}…")
        self.dock.set_environment("")
        self.set_environment(env, "cited in the report")
        self.dock.reopen((opened, path))

    async def _show_outside(self, cite: Citation) -> None:
        if local_path(cite) is not None:
            cited = await asyncio.to_thread(read_local, cite)
        else:
            cited = passage_only(cite)
        self.dock.preview.show_cited(cited)

    async def _preview_cited(self, env: str, entry: SandboxEntry, cite: Citation) -> None:
        files = self._files()
        if files is None:
            return
        try:
            data = await files.read(env, entry.path)
        except Exception as exc:
            self.dock.preview.show_message(f"Could not open {entry.name}: {explain(exc)}")
            return
        cited = await asyncio.to_thread(cited_from_bytes, cite, entry.name, data)
        self.dock.preview.show_cited(cited)

    async def _preview(self, env: str, entry: SandboxEntry) -> None:
        files = self._files()
        if files is None:
            return
        try:
            preview = await files.preview(env, entry)
        except Exception as exc:
            self.dock.preview.show_message(f"Could not open {entry.name}: {explain(exc)}")
            return
        self.dock.preview.show_preview(preview, entry.name)

    def _progress(self, what: str) -> Callable[[int, int], None]:
        return lambda done, total: self.dock.set_progress(what, done, total)

    def save_as(self, entry: SandboxEntry, destination: Path) -> None:
        self.tasks.start(
            TRANSFER, self._transfer(f"Saving {entry.name}", "save", entry, destination)
        )

    def download_all(self, destination: Path) -> None:
        self.tasks.start(
            TRANSFER, self._transfer("Downloading the sandbox", "tar", None, destination)
        )

    async def _transfer(
        self, what: str, kind: str, entry: SandboxEntry | None, destination: Path
    ) -> None:
        files, env = self._files(), self.environment_id
        if files is None:
            return
        self.dock.set_progress(what, 0, -1)
        try:
            if kind == "save" and entry is not None:
                size = await files.save_as(env, entry.path, destination, self._progress(what))
            else:
                size = await files.download_all(env, destination, self._progress(what))
            self.status_message.emit(f"Saved {destination.name} ({size:,} bytes).")
        except Exception as exc:
            self.dock.show_problem(f"{what} failed: {explain(exc)}")
        finally:
            self.dock.transfer_done()

    def upload(self, paths: list[Path], target_dir: str) -> None:
        self.tasks.start(TRANSFER, self._upload(paths, target_dir))

    async def _upload(self, paths: list[Path], target_dir: str) -> None:
        files, env = self._files(), self.environment_id
        if files is None:
            return
        try:
            for path in paths:
                what = f"Uploading {path.name}"
                self.dock.set_progress(what, 0, -1)
                await files.upload(env, path, target_dir, self._progress(what))
            self.status_message.emit(f"Uploaded {len(paths)} file(s).")
        except Exception as exc:
            self.dock.show_problem(f"Upload failed: {explain(exc)}")
        finally:
            self.dock.transfer_done()
        self.refresh()

    def cancel_transfer(self) -> None:
        if self.tasks.cancel(TRANSFER):
            self.dock.transfer_done()
            self.status_message.emit("Transfer cancelled.")

    def attach(self, entry: SandboxEntry) -> None:
        self.tasks.start("files-attach", self._attach(self.environment_id, entry))

    async def _attach(self, env: str, entry: SandboxEntry) -> None:
        files = self._files()
        if files is None:
            return
        try:
            data = await files.read(env, entry.path)
            att = from_bytes(entry.name, data, entry.mime_type or None)
        except AttachmentError as exc:
            self.dock.show_problem(str(exc))
            return
        except Exception as exc:
            self.dock.show_problem(f"Could not attach {entry.name}: {explain(exc)}")
            return
        self.attachment_ready.emit(att)
        self.status_message.emit(f"{entry.name} will be sent with your next message.")
