"""What goes into the composer: files checked and attached, and each session's draft.

The chat controller owns one. Files are read in an executor, checked (size, type, what the
current target reads) and attached — or refused in plain words right away, never after Send.
The unsent text and chips are kept per session, so Ctrl+N or opening another session never
carries attachments into a conversation they were not meant for (issue 19).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from workbench.core.attachments import (
    Attachment,
    AttachmentError,
    check_total,
    from_bytes,
    load_file,
)
from workbench.core.capabilities import refusal
from workbench.core.connection import Connection
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
        composer.files_requested.connect(self.attach_files)
        composer.data_pasted.connect(self.attach_data)

    # --- attachments -----------------------------------------------------------------------

    def refusal(self, att: Attachment) -> str | None:
        """Why the current target cannot read ``att`` (None when it can)."""
        conn, run = self._target()
        if conn is None:
            return None
        return refusal(att.kind, att.name, run.target, conn.models, run.target_kind)

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
        self.composer.add_attachment(att)

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
