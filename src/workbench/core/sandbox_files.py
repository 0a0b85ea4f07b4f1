"""Sandbox files of an environment: list, preview, save, download all (tar), upload.

Qt-free; the files dock calls these through its controller. Listing is one directory at a
time (the tree is lazy). Previews are classified by MIME type and extension: text, Markdown
(rendered), images, CSV (as a table); anything else offers "Save as". Transfers report
``progress(done, total)`` and are cancelled by cancelling the task that runs them.

A sandbox the server expired (unused for its TTL, 7 days on Gemini and the local engine)
or deleted answers 404 to every files call; :class:`SandboxGone` says which, in words.
"""

from __future__ import annotations

import csv
import io
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from workbench.client import Client, NotFoundError

PREVIEW_LIMIT = 2 * 1024 * 1024
"""Files larger than this are not previewed (save them instead)."""
CSV_ROWS = 500

Progress = Callable[[int, int], None]
T = TypeVar("T")
PreviewKind = Literal["text", "markdown", "image", "csv", "binary", "too_big"]

_TEXT_EXT = {
    ".txt", ".py", ".js", ".ts", ".json", ".toml", ".yaml", ".yml", ".sh", ".html",
    ".css", ".xml", ".ini", ".cfg", ".log", ".rs", ".go", ".c", ".h", ".cpp", ".java",
    ".sql", ".tsv",
}  # fmt: skip


class SandboxGone(ValueError):
    """The whole sandbox is gone (expired or deleted), not just one path in it.

    A ``ValueError`` so ``core.errors.explain`` shows its message as it is.
    """


@dataclass(frozen=True)
class SandboxEntry:
    """One file or directory of a sandbox listing."""

    name: str
    path: str
    is_dir: bool
    size: int | None = None
    mime_type: str = ""
    modified: str = ""


@dataclass(frozen=True)
class Preview:
    """What the preview pane shows."""

    kind: PreviewKind
    text: str = ""
    data: bytes = b""
    rows: list[list[str]] | None = None
    mime_type: str = ""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def preview_kind(path: str, mime_type: str = "") -> PreviewKind:
    """How a file will be previewed, from its name and MIME type."""
    suffix = Path(path).suffix.lower()
    guessed = mimetypes.guess_type(path)[0] or ""
    mime = mime_type.lower()
    if guessed and mime in ("", "text/plain", "application/octet-stream"):
        mime = guessed.lower()  # a generic type says less than the file's extension
    if suffix in (".md", ".markdown") or mime == "text/markdown":
        return "markdown"
    if suffix == ".csv" or mime == "text/csv":
        return "csv"
    if mime.startswith("image/") and suffix != ".svg":
        return "image"
    if mime.startswith("text/") or suffix in _TEXT_EXT or mime == "application/json":
        return "text"
    return "binary"


def make_preview(path: str, data: bytes, mime_type: str = "") -> Preview:
    kind = preview_kind(path, mime_type)
    if kind == "binary":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return Preview("binary", data=data, mime_type=mime_type)
        return Preview("text", text=text, mime_type=mime_type)
    if kind == "image":
        return Preview("image", data=data, mime_type=mime_type)
    text = data.decode("utf-8", errors="replace")
    if kind == "csv":
        reader = csv.reader(io.StringIO(text))
        rows = []
        for i, row in enumerate(reader):
            if i >= CSV_ROWS:
                break
            rows.append(row)
        return Preview("csv", text=text, rows=rows, mime_type=mime_type)
    return Preview(kind, text=text, mime_type=mime_type)


class SandboxFiles:
    """The files API of one server, for the files dock."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def _checked(self, environment_id: str, call: Awaitable[T]) -> T:
        """``call``'s result; a 404 becomes :class:`SandboxGone` when the sandbox itself went."""
        try:
            return await call
        except NotFoundError as exc:
            gone = await self.gone(environment_id)
            if gone is None:
                raise
            raise gone from exc

    async def gone(self, environment_id: str) -> SandboxGone | None:
        """Why the sandbox cannot be used any more, or None while it is active."""
        try:
            env = await self.client.environments.get(environment_id)
        except NotFoundError:
            return SandboxGone(
                f"The server no longer has this sandbox ({environment_id}): it was deleted, "
                "or it expired and was removed. A new run starts with a fresh sandbox"
            )
        if (env.status or "active").lower() == "expired":
            return SandboxGone(
                f"This sandbox ({environment_id}) expired: it went unused for longer than the "
                "server keeps sandboxes (7 days by default), so its files are gone. A new run "
                "starts with a fresh sandbox"
            )
        return None

    async def list_dir(self, environment_id: str, path: str = ".") -> list[SandboxEntry]:
        files = await self._checked(
            environment_id, self.client.environments.files.list(environment_id, path or ".")
        )
        out = []
        base = (path or ".").strip("/")
        for f in files:
            p = (f.path or f.name or "").strip("/")
            if not p or (f.type == "directory" and base not in ("", ".") and p == base):
                continue  # the listed directory itself
            out.append(
                SandboxEntry(
                    name=f.name or p.rsplit("/", 1)[-1],
                    path=p,
                    is_dir=f.type == "directory",
                    size=_int(f.size_bytes),
                    mime_type=f.mime_type or "",
                    modified=str(f.modified or ""),
                )
            )
        out.sort(key=lambda e: (not e.is_dir, e.name.lower()))
        return out

    async def preview(self, environment_id: str, entry: SandboxEntry) -> Preview:
        if entry.size is not None and entry.size > PREVIEW_LIMIT:
            return Preview("too_big", mime_type=entry.mime_type)
        data = await self.read(environment_id, entry.path)
        return make_preview(entry.path, data, entry.mime_type)

    async def read(self, environment_id: str, path: str) -> bytes:
        return await self._checked(
            environment_id, self.client.environments.files.download(environment_id, path)
        )

    async def save_as(
        self, environment_id: str, path: str, destination: Path, progress: Progress | None = None
    ) -> int:
        return await self._checked(
            environment_id,
            self.client.environments.files.download_to(
                environment_id, path, destination, progress=progress
            ),
        )

    async def download_all(
        self, environment_id: str, destination: Path, progress: Progress | None = None
    ) -> int:
        return await self._checked(
            environment_id,
            self.client.environments.download_tar_to(
                environment_id, destination, progress=progress
            ),
        )

    async def upload(
        self,
        environment_id: str,
        local: Path,
        target_dir: str,
        progress: Progress | None = None,
    ) -> list[SandboxEntry]:
        target = f"{target_dir.strip('/')}/{local.name}".lstrip("/")
        mime = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
        files = await self._checked(
            environment_id,
            self.client.environments.files.upload(
                environment_id, target, local, mime_type=mime, overwrite=True, progress=progress
            ),
        )
        return [
            SandboxEntry(
                name=f.name or "",
                path=(f.path or "").lstrip("/"),
                is_dir=f.type == "directory",
                size=_int(f.size_bytes),
            )
            for f in files
        ]
