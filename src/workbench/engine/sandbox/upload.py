"""The storage side of resumable uploads (protocol.md §9.7).

The route layer speaks the HTTP protocol (headers, session URL); this module keeps sessions:

1. ``start`` (the ``PUT`` handshake) checks the path and, without ``overwrite``, that nothing
   is there yet (409), then opens a temporary file in the environment's ``uploads/`` folder;
2. ``append`` (each chunk ``POST``) requires ``offset`` to equal the bytes received so far
   and never lets the total pass the announced length (400);
3. the chunk with ``finalize`` checks the total equals the announced length, then moves the
   file into place, or with ``extract`` unpacks the tar / tar.gz into the folder ``path``,
   and returns the resulting entries.

Any failure ends the session (its temporary file is removed): the route answers the error
with ``x-goog-upload-status: final``. Sessions idle for ``SESSION_TTL_SECONDS`` are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from workbench.protocol import EnvironmentFile

from . import archive, files, paths
from .errors import Conflict, InvalidRequest, NotFound
from .store import EnvironmentStore

SESSION_TTL_SECONDS = 3600.0
MAX_UPLOAD_BYTES = 16 * 1024**3


@dataclass
class UploadSession:
    """One resumable upload in progress.

    Attributes:
        id: the opaque session id (goes into the session URL).
        env_id: the environment it writes into.
        path: the wire path of the file (or, with ``extract``, of the target folder).
        total: the announced length (``X-Goog-Upload-Header-Content-Length``), or None.
        content_type: the announced MIME type.
        overwrite: replace an existing file.
        extract: unpack a tar / tar.gz into ``path``.
        received: bytes received so far (the next chunk's expected offset).
    """

    id: str
    env_id: str
    path: str
    total: int | None
    content_type: str
    overwrite: bool
    extract: bool
    temp: Path
    received: int = 0
    touched: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk did: bytes received so far, and the entries once finalized."""

    received: int
    final: bool
    files: list[EnvironmentFile] | None = None


class UploadManager:
    """All upload sessions of one engine."""

    def __init__(self, store: EnvironmentStore) -> None:
        self.store = store
        self._sessions: dict[str, UploadSession] = {}

    async def start(
        self,
        env_id: str,
        wire_path: str | None,
        *,
        total: int | None,
        content_type: str | None = None,
        overwrite: bool = False,
        extract: bool = False,
    ) -> UploadSession:
        """Open a session (the handshake).

        Raises:
            NotFound: unknown environment.
            SandboxPathError / InvalidRequest: a bad path or length.
            Conflict: the file exists and ``overwrite`` is false (not for ``extract``, whose
                conflicts are checked per entry when it is unpacked).
        """
        self._expire()
        record = await self.store.get(env_id)
        root = self.store.root(record.id)
        if total is not None and (total < 0 or total > MAX_UPLOAD_BYTES):
            raise InvalidRequest("The announced upload length is out of range.")
        rel = await asyncio.to_thread(_check_target, root, wire_path, overwrite, extract)
        session_id = secrets.token_urlsafe(24)
        uploads = self.store.uploads_dir(record.id)
        await asyncio.to_thread(uploads.mkdir, 0o700, False, True)
        temp = uploads / f"{session_id}.part"
        await asyncio.to_thread(temp.write_bytes, b"")
        session = UploadSession(
            id=session_id,
            env_id=record.id,
            path=rel,
            total=total,
            content_type=content_type or "application/octet-stream",
            overwrite=overwrite,
            extract=extract,
            temp=temp,
        )
        self._sessions[session_id] = session
        return session

    def environment_ids(self) -> set[str]:
        """The environments with an open upload session (the sweeper leaves them alone)."""
        self._expire()
        return {session.env_id for session in self._sessions.values()}

    def get(self, session_id: str) -> UploadSession:
        """A live session (404 when unknown, finished or expired)."""
        self._expire()
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFound("The upload session does not exist or has ended.")
        return session

    async def append(
        self,
        session_id: str,
        offset: int | None,
        data: bytes | AsyncIterable[bytes],
        *,
        finalize: bool = False,
    ) -> ChunkResult:
        """Add one chunk; with ``finalize`` also complete the upload.

        Raises:
            InvalidRequest: offset mismatch, more bytes than announced, or a finalized total
                that differs from the announced length.
            Conflict: the target appeared meanwhile and ``overwrite`` is false.
        """
        session = self.get(session_id)
        async with session.lock:
            try:
                expected = session.received
                if offset is not None and offset != expected:
                    raise InvalidRequest(
                        f"X-Goog-Upload-Offset is {offset} but {expected} bytes were received."
                    )
                await self._write_chunk(session, data)
                session.touched = time.monotonic()
                if not finalize:
                    return ChunkResult(session.received, final=False)
                if session.total is not None and session.received != session.total:
                    raise InvalidRequest(
                        f"The upload ended after {session.received} bytes but "
                        f"{session.total} were announced."
                    )
                entries = await self._finish(session)
                return ChunkResult(session.received, final=True, files=entries)
            except BaseException:
                self._end(session)
                raise

    async def cancel(self, session_id: str) -> None:
        """Drop a session and its partial file (``X-Goog-Upload-Command: cancel``)."""
        session = self._sessions.get(session_id)
        if session is not None:
            self._end(session)

    async def _write_chunk(
        self, session: UploadSession, data: bytes | AsyncIterable[bytes]
    ) -> None:
        limit = session.total if session.total is not None else MAX_UPLOAD_BYTES
        fh = await asyncio.to_thread(open, session.temp, "ab")
        try:
            if isinstance(data, bytes | bytearray):
                await self._put(session, fh, bytes(data), limit)
            else:
                async for piece in data:
                    await self._put(session, fh, piece, limit)
        finally:
            await asyncio.to_thread(fh.close)

    @staticmethod
    async def _put(session: UploadSession, fh: BinaryIO, piece: bytes, limit: int) -> None:
        if session.received + len(piece) > limit:
            raise InvalidRequest(
                f"The upload is longer than the announced {limit} bytes."
                if session.total is not None
                else "The upload is too large."
            )
        await asyncio.to_thread(fh.write, piece)
        session.received += len(piece)

    async def _finish(self, session: UploadSession) -> list[EnvironmentFile]:
        async with self.store.lock(session.env_id):
            root = self.store.root(session.env_id)
            if session.extract:
                entries = await asyncio.to_thread(
                    archive.extract_archive,
                    root,
                    session.temp,
                    session.path,
                    overwrite=session.overwrite,
                )
            else:
                entry = await asyncio.to_thread(
                    files.place_file, root, session.path, session.temp, overwrite=session.overwrite
                )
                entries = [entry]
        self._end(session)
        return entries

    def _end(self, session: UploadSession) -> None:
        self._sessions.pop(session.id, None)
        with contextlib.suppress(OSError):
            session.temp.unlink()

    def _expire(self) -> None:
        now = time.monotonic()
        for session in list(self._sessions.values()):
            if now - session.touched > SESSION_TTL_SECONDS and not session.lock.locked():
                self._end(session)


def _check_target(root: Path, wire_path: str | None, overwrite: bool, extract: bool) -> str:
    rel = paths.normalize(wire_path)
    real = paths.resolve(root, rel)
    if extract:
        if real.exists() and not real.is_dir():
            raise InvalidRequest(f"{rel!r} is a file; extract needs a folder path.")
        return rel
    if not rel:
        raise InvalidRequest("A file upload needs a file path, not the root.")
    if real.is_dir():
        raise InvalidRequest(f"{rel!r} is a folder.")
    if os.path.lexists(real) and not overwrite:
        raise Conflict(f"{rel!r} already exists (set overwrite to replace it).")
    return rel
