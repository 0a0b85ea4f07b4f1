"""What goes into the composer: files checked and attached, uploads, and each session's draft.

The chat controller owns one. Files are read in an executor, checked (size, type, what the
current target reads) and attached — or refused in plain words right away, never after Send;
how a text-only local model will read a picture, a recording or a video is said then too.
Each chip's media summary (thumbnail, poster frame, duration, pages) is computed in an
executor. Before a send, attachments marked ``upload`` go through the Files API
(``upload_all``) with the composer's progress bar; Cancel or a failure leaves the text and
every chip where they were. The unsent text and chips are kept per session, so Ctrl+N or
opening another session never carries attachments into a conversation they were not meant
for (issue 19).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from workbench.core.attachments import (
    Attachment,
    AttachmentError,
    check_total,
    from_bytes,
    load_file,
    place,
)
from workbench.core.capabilities import reading_note, refusal
from workbench.core.connection import Connection
from workbench.core.errors import ClientError, explain
from workbench.core.media_info import summarize
from workbench.core.media_upload import content_for, needs_upload
from workbench.core.run_settings import RunSettings
from workbench.core.tasks import TaskManager

from .composer import Composer, Draft


class ComposerFeed(QObject):
    """Attachments and drafts for one composer (no signals: it answers the composer's)."""

    def __init__(
        self,
        composer: Composer,
        tasks: TaskManager,
        target: Callable[[], tuple[Connection | None, RunSettings]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.composer, self.tasks, self._target = composer, tasks, target
        self._drafts: dict[str, Draft] = {}  # "" is the new, unsaved session
        self._uploaded: dict[tuple[str, str], dict[str, Any]] = {}  # (server, sha) → block
        composer.files_requested.connect(self.attach_files)
        composer.data_pasted.connect(self.attach_data)
        composer.summary_wanted.connect(self.summarize)
        composer.upload_bar.cancel_requested.connect(self.cancel_upload)

    # --- attachments -----------------------------------------------------------------------

    def refusal(self, att: Attachment) -> str | None:
        """Why the current target cannot read ``att`` (None when it can)."""
        conn, run = self._target()
        if conn is None:
            return None
        local = conn.profile.is_local
        return refusal(att.kind, att.name, run.target, conn.models, run.target_kind, local=local)

    def note(self, att: Attachment) -> str | None:
        """How the current target will read ``att`` when not as the medium itself."""
        conn, run = self._target()
        if conn is None:
            return None
        local = conn.profile.is_local
        return reading_note(
            att.kind, att.name, run.target, conn.models, run.target_kind, local=local
        )

    def summarize(self, att: Attachment) -> None:
        """Compute ``att``'s media summary off the UI thread, then show it on its chip."""
        self.tasks.start(f"summary-{att.sha256}", self._summarize(att))

    async def _summarize(self, att: Attachment) -> None:
        summary = await asyncio.get_running_loop().run_in_executor(None, summarize, att)
        self.composer.set_summary(att.sha256, summary)

    def attach_files(self, files: list[str]) -> None:
        self.tasks.start("attach", self._attach_files(files))

    async def _attach_files(self, files: list[str]) -> None:
        loop = asyncio.get_running_loop()
        for name in files:
            try:
                att = await loop.run_in_executor(None, load_file, Path(name))
                check_total(self.composer.attachments(), att)
            except AttachmentError as exc:
                self.composer.refuse(str(exc))
                continue
            self.add_attachment(att)

    def attach_data(self, name: str, data: bytes, mime: str) -> None:
        try:
            att = from_bytes(name, data, mime)
            check_total(self.composer.attachments(), att)
        except AttachmentError as exc:
            self.composer.refuse(str(exc))
            return
        self.add_attachment(att)

    def add_attachment(self, att: Attachment) -> None:
        """Attach ``att`` unless the current target cannot read it (then say so, now)."""
        why = self.refusal(att)
        if why:
            self.composer.refuse(why)
            return
        self.composer.add_attachment(place(self.composer.attachments(), att))
        note = self.note(att)
        if note:
            self.composer.inform(note)

    # --- uploads ---------------------------------------------------------------------------

    @staticmethod
    def needs_upload(attachments: list[Attachment]) -> bool:
        return any(needs_upload(a) for a in attachments)

    def cancel_upload(self) -> None:
        self.tasks.cancel("upload")

    async def upload_all(self, attachments: list[Attachment]) -> dict[str, dict[str, Any]] | None:
        """Content blocks (by hash) of the attachments to upload; None when one failed or the
        upload was cancelled (the composer then says so; its text and chips stay)."""
        conn, _run = self._target()
        if conn is None:
            self.composer.refuse("Not connected: nothing was uploaded. Connect, then send again.")
            return None
        todo = [a for a in attachments if needs_upload(a)]
        blocks: dict[str, dict[str, Any]] = {}
        bar = self.composer.upload_bar
        self.composer.clear_message()
        self.composer.set_uploading(True)
        try:
            for n, att in enumerate(todo, 1):
                key = (conn.client.base_url, att.sha256)
                if key in self._uploaded:
                    blocks[att.sha256] = self._uploaded[key]
                    continue
                step = f"{n} of {len(todo)}" if len(todo) > 1 else ""
                bar.show_progress(att.name, 0, att.size, step)

                def progress(done: int, total: int, a: Attachment = att, step: str = step) -> None:
                    bar.show_progress(a.name, done, total or a.size, step)

                block = await content_for(conn.client, att, progress=progress)
                self._uploaded[key] = blocks[att.sha256] = block
        except asyncio.CancelledError:
            self.composer.refuse(
                "Upload cancelled; nothing was sent. Your message and attachments are still here."
            )
            raise
        except AttachmentError as exc:
            self.composer.refuse(f"{exc} Nothing was sent; your message is still here.")
            return None
        except (ClientError, OSError) as exc:
            if isinstance(exc, ClientError):
                words = explain(exc)
            elif isinstance(exc, TimeoutError):
                words = f"{exc}."
            else:
                words = f"the file cannot be read ({exc.strerror or exc})."
            self.composer.refuse(
                f"The upload failed: {words} Nothing was sent; your message and attachments "
                "are still here."
            )
            return None
        finally:
            self.composer.set_uploading(False)
        return blocks

    # --- drafts ----------------------------------------------------------------------------

    def switch(self, old: str | None, new: str | None) -> None:
        """Put away the draft of session ``old`` and bring back the one of ``new``."""
        before, after = old or "", new or ""
        if before == after and new is not None:
            return
        draft = self.composer.take_draft()
        if draft.text or draft.attachments:
            self._drafts[before] = draft
        else:
            self._drafts.pop(before, None)
        self.composer.restore_draft(self._drafts.pop(after, None) if after else None)
