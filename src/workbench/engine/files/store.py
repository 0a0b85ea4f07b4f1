"""The Files API store: resumable uploads, files by id, processing, expiry.

Layout under ``<data_dir>/files/``::

    meta/<id>.json        the FileRecord (written atomically)
    blobs/<id>            the bytes
    uploads/<sid>.json    an upload session (survives restarts)
    uploads/<sid>.part    the bytes received so far (its size is the resume offset)

Everything is kept in memory too (a few hundred bytes per file) and rebuilt from ``meta/`` and
``uploads/`` at startup, so a restarted engine still knows every file and can resume every
upload. Files expire ``FILE_TTL_SECONDS`` (48 h) after creation and upload sessions after the
same time idle; ``sweep`` removes both and runs at startup and then every few minutes.

Processing (``checks.check_file``) runs in a worker thread after the last chunk; the file is
``PROCESSING`` until then. ``resolve`` (called from the worker thread that builds a model
request) waits for it, so an interaction sent right after an upload just works.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import AsyncIterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic
from .checks import check_file, video_seconds
from .records import ACTIVE, FAILED, FILE_ID, PROCESSING, FileRecord

FILE_TTL_SECONDS = 48 * 3600.0
MAX_FILE_BYTES = 2 * 1024**3
"""Gemini's per-file limit (2 GB)."""
MAX_TOTAL_BYTES = 20 * 1024**3
"""Gemini's per-project storage (20 GB)."""
PROCESSING_WAIT_SECONDS = 120.0


class FilesError(Exception):
    """A Files API request failed: HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class UploadState:
    """A resumable upload in progress (persisted as ``uploads/<id>.json``)."""

    id: str
    file_id: str
    display_name: str
    mime_type: str
    total: int
    created: float
    touched: float


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_json_atomic(path, data)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class FileStore:
    """All files and upload sessions of one engine (``root`` is ``<data_dir>/files``)."""

    def __init__(self, root: Path, *, ttl_seconds: float = FILE_TTL_SECONDS) -> None:
        self.root = root
        self.ttl = ttl_seconds
        self.meta_dir = root / "meta"
        self.blob_dir = root / "blobs"
        self.upload_dir = root / "uploads"
        self._files: dict[str, FileRecord] = {}
        self._uploads: dict[str, UploadState] = {}
        self._upload_locks: dict[str, asyncio.Lock] = {}
        self._processed: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Load files and sessions, sweep expired ones, re-check files left processing."""
        await asyncio.to_thread(self._load)
        await self.sweep()
        for record in list(self._files.values()):
            if record.state == PROCESSING:
                self._schedule(record)

    def _load(self) -> None:
        for folder in (self.meta_dir, self.blob_dir, self.upload_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in self.meta_dir.glob("*.json"):
            data = _read_json(path)
            if data is None:
                continue
            try:
                record = FileRecord.from_json(data)
            except TypeError:
                continue
            if (self.blob_dir / record.id).is_file():
                self._files[record.id] = record
                event = threading.Event()
                if record.state != PROCESSING:
                    event.set()
                self._processed[record.id] = event
        for blob in self.blob_dir.iterdir():
            if blob.name not in self._files:  # a crash between placing the bytes and the record
                with contextlib.suppress(OSError):
                    blob.unlink()
        for path in self.upload_dir.glob("*.json"):
            data = _read_json(path)
            if data is None:
                continue
            with contextlib.suppress(TypeError):
                state = UploadState(**data)
                if (self.upload_dir / f"{state.id}.part").is_file():
                    self._uploads[state.id] = state

    async def close(self) -> None:
        """Stop processing tasks (their files stay ``PROCESSING`` and are re-checked)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def sweep(self) -> int:
        """Remove expired files and idle upload sessions; returns how many went."""
        now = time.time()
        gone = 0
        for record in list(self._files.values()):
            if record.expires <= now:
                await asyncio.to_thread(self._remove, record.id)
                gone += 1
        for state in list(self._uploads.values()):
            if now - state.touched > self.ttl:
                await asyncio.to_thread(self._end_upload, state.id)
                gone += 1
        return gone

    # -- uploads -----------------------------------------------------------------------------

    async def start_upload(
        self, *, total: int | None, mime_type: str, display_name: str, name: str | None
    ) -> UploadState:
        """Open a resumable upload session (the ``start`` command)."""
        if total is None:
            raise FilesError(
                400, "X-Goog-Upload-Header-Content-Length is required (the file's size in bytes)"
            )
        if total == 0:
            raise FilesError(400, "the file is empty (0 bytes); upload a file with content")
        if total > MAX_FILE_BYTES:
            raise FilesError(413, f"the file is {total} bytes; the limit is {MAX_FILE_BYTES}")
        used = sum(r.size_bytes for r in self._files.values())
        if used + total > MAX_TOTAL_BYTES:
            raise FilesError(
                413, f"the files storage limit ({MAX_TOTAL_BYTES} bytes) would be exceeded"
            )
        file_id = name.removeprefix("files/") if name else secrets.token_hex(6)
        if not FILE_ID.match(file_id):
            raise FilesError(400, "a file name must be 'files/' and 1-40 of [a-z0-9-]")
        if file_id in self._files or any(u.file_id == file_id for u in self._uploads.values()):
            raise FilesError(409, f"files/{file_id} already exists")
        now = time.time()
        state = UploadState(
            id=secrets.token_urlsafe(24),
            file_id=file_id,
            display_name=display_name,
            mime_type=mime_type or "application/octet-stream",
            total=total,
            created=now,
            touched=now,
        )
        await asyncio.to_thread(self._begin_upload, state)
        self._uploads[state.id] = state
        return state

    def _begin_upload(self, state: UploadState) -> None:
        self.upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.upload_dir / f"{state.id}.part").write_bytes(b"")
        _write_json(self.upload_dir / f"{state.id}.json", asdict(state))

    def upload(self, session_id: str) -> UploadState:
        """A live session; 404 when unknown, finished or expired."""
        state = self._uploads.get(session_id)
        if state is None:
            raise FilesError(404, "the upload session does not exist or has ended")
        return state

    def received(self, session_id: str) -> int:
        """Bytes received so far (the offset the next chunk must start at)."""
        state = self.upload(session_id)
        try:
            return (self.upload_dir / f"{state.id}.part").stat().st_size
        except OSError:
            return 0

    async def append(
        self,
        session_id: str,
        offset: int | None,
        chunks: AsyncIterable[bytes],
        *,
        finalize: bool,
    ) -> FileRecord | None:
        """Add a chunk at ``offset``; with ``finalize`` create the file (``PROCESSING``)."""
        state = self.upload(session_id)
        lock = self._upload_locks.setdefault(session_id, asyncio.Lock())
        async with lock:
            part = self.upload_dir / f"{state.id}.part"
            received = self.received(session_id)
            if offset is not None and offset != received:
                raise FilesError(
                    400, f"X-Goog-Upload-Offset is {offset} but {received} bytes were received"
                )
            start = received
            fh = await asyncio.to_thread(open, part, "ab")
            try:
                async for piece in chunks:
                    if received + len(piece) > state.total:
                        raise FilesError(
                            400, f"the upload is longer than the announced {state.total} bytes"
                        )
                    await asyncio.to_thread(fh.write, piece)
                    received += len(piece)
            except BaseException:
                # A chunk counts whole or not at all: the client resumes from ``start``.
                await asyncio.to_thread(fh.truncate, start)
                raise
            finally:
                await asyncio.to_thread(fh.close)
            state.touched = time.time()
            if not finalize:
                await asyncio.to_thread(
                    _write_json, self.upload_dir / f"{state.id}.json", asdict(state)
                )
                return None
            if received != state.total:
                raise FilesError(
                    400,
                    f"the upload ended after {received} bytes but {state.total} were announced",
                )
            record = await asyncio.to_thread(self._complete, state)
        self._upload_locks.pop(session_id, None)
        self._schedule(record)
        return record

    def _complete(self, state: UploadState) -> FileRecord:
        part = self.upload_dir / f"{state.id}.part"
        digest = hashlib.sha256()
        with part.open("rb") as fh:
            while block := fh.read(4 * 1024 * 1024):
                digest.update(block)
        now = time.time()
        record = FileRecord(
            id=state.file_id,
            display_name=state.display_name,
            mime_type=state.mime_type,
            size_bytes=part.stat().st_size,
            sha256=digest.hexdigest(),
            created=now,
            updated=now,
            expires=now + self.ttl,
        )
        self.blob_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(part, self.blob_dir / record.id)
        with self._lock:
            self._files[record.id] = record
            self._processed[record.id] = threading.Event()
        _write_json(self.meta_dir / f"{record.id}.json", record.to_json())
        self._end_upload(state.id)
        return record

    async def cancel_upload(self, session_id: str) -> None:
        """Drop a session and its bytes (``X-Goog-Upload-Command: cancel``)."""
        self.upload(session_id)
        await asyncio.to_thread(self._end_upload, session_id)

    def _end_upload(self, session_id: str) -> None:
        self._uploads.pop(session_id, None)
        self._upload_locks.pop(session_id, None)
        for suffix in (".part", ".json"):
            with contextlib.suppress(OSError):
                (self.upload_dir / f"{session_id}{suffix}").unlink()

    # -- processing --------------------------------------------------------------------------

    def _schedule(self, record: FileRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._process(record.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, file_id: str) -> None:
        record = self._files.get(file_id)
        if record is None:
            return
        label = record.display_name or f"files/{record.id}"
        reason = await asyncio.to_thread(
            check_file, self.blob_dir / record.id, record.mime_type, label
        )
        if not reason and record.mime_type.startswith("video/"):
            record.video_seconds = await asyncio.to_thread(
                video_seconds, self.blob_dir / record.id, label
            )
        record.state = FAILED if reason else ACTIVE
        record.error = reason
        record.updated = time.time()
        if file_id in self._files:
            await asyncio.to_thread(
                _write_json, self.meta_dir / f"{record.id}.json", record.to_json()
            )
        event = self._processed.get(file_id)
        if event is not None:
            event.set()

    # -- files -------------------------------------------------------------------------------

    def get(self, file_id: str) -> FileRecord:
        """A file by id; 404 when unknown or expired (403 as Gemini would not be clearer)."""
        record = self._files.get(file_id)
        if record is None or record.expires <= time.time():
            raise FilesError(404, f"files/{file_id} does not exist or has expired")
        return record

    def list(self, page_size: int, page_token: str | None) -> tuple[list[FileRecord], str | None]:
        """Files newest first, ``page_size`` at a time; the token is the next start index."""
        now = time.time()
        records = sorted(
            (r for r in self._files.values() if r.expires > now),
            key=lambda r: (-r.created, r.id),
        )
        start = 0
        if page_token:
            if not page_token.isdigit():
                raise FilesError(400, "pageToken is not one this engine issued")
            start = int(page_token)
        page = records[start : start + page_size]
        more = start + page_size < len(records)
        return page, str(start + page_size) if more else None

    async def delete(self, file_id: str) -> None:
        """Remove a file and its bytes; 404 when unknown."""
        self.get(file_id)
        await asyncio.to_thread(self._remove, file_id)

    def _remove(self, file_id: str) -> None:
        with self._lock:
            self._files.pop(file_id, None)
            event = self._processed.pop(file_id, None)
        if event is not None:
            event.set()
        for path in (self.meta_dir / f"{file_id}.json", self.blob_dir / file_id):
            with contextlib.suppress(OSError):
                path.unlink()

    def blob(self, file_id: str) -> Path:
        """The path of a file's bytes."""
        return self.blob_dir / self.get(file_id).id

    def wait_processed(self, file_id: str, timeout: float = PROCESSING_WAIT_SECONDS) -> FileRecord:
        """The file once it is no longer ``PROCESSING`` (blocking; for worker threads)."""
        record = self.get(file_id)
        event = self._processed.get(file_id)
        if record.state == PROCESSING and event is not None:
            event.wait(timeout)
        return self.get(file_id)
