"""Google's resumable upload protocol, shared by environment files and the Files API.

After a handshake that answers ``x-goog-upload-url``, chunks of ``chunk_size`` bytes are POSTed
to that URL (scheme and host replaced by ours, path kept) with ``X-Goog-Upload-Offset`` and
``X-Goog-Upload-Command: upload`` (``upload, finalize`` on the last). Every reply must carry
``x-goog-upload-status`` (``active`` between chunks, ``final`` at the end); a reply without it
is re-sent up to 3 times (after 1, 2 and 4 s), like the SDK does.

With ``resumable=True`` a chunk cut off by the network is not the end: the session is asked
how many bytes arrived (``X-Goog-Upload-Command: query`` → ``x-goog-upload-size-received``)
and sending goes on from there, so an upload survives a dropped connection or a restarted
engine. The chunk requests of the Files API carry no API key (the session URL is the
credential, as with Google's upload servers).
"""

from __future__ import annotations

import asyncio
import os
from typing import IO

import httpx

from .downloads import Progress
from .errors import APIConnectionError, ProtocolViolationError
from .retry import Idempotency
from .transport import Transport

CHUNK_SIZE = 8 * 1024 * 1024
STATUS_RESENDS = (1.0, 2.0, 4.0)
RESUMES = 5


class Source:
    """Bytes to upload, read by offset (so a resumed upload can re-read any part)."""

    size: int

    async def read(self, offset: int, n: int) -> bytes:
        raise NotImplementedError


class BytesSource(Source):
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    async def read(self, offset: int, n: int) -> bytes:
        return self._data[offset : offset + n]


class FileSource(Source):
    """A binary file object, read from its current position on (in a worker thread)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        start = fh.tell()
        fh.seek(0, os.SEEK_END)
        self._start = start
        self.size = fh.tell() - start
        fh.seek(start)

    async def read(self, offset: int, n: int) -> bytes:
        def _read() -> bytes:
            self._fh.seek(self._start + offset)
            return self._fh.read(n)

        return await asyncio.to_thread(_read)


async def send_chunks(
    t: Transport,
    session_url: str,
    source: Source,
    *,
    chunk_size: int,
    progress: Progress | None,
    what: str,
    resumable: bool = False,
    authenticate: bool = True,
) -> httpx.Response:
    """Send every chunk of ``source``; returns the final reply (status ``final``)."""
    total = source.size
    offset = 0
    resumes = 0
    if progress is not None:
        progress(0, total)
    while True:
        chunk = await source.read(offset, chunk_size)
        last = offset + len(chunk) >= total
        if not last and not chunk:
            raise ProtocolViolationError(f"{what}: the source ended early at byte {offset}.")
        command = "upload, finalize" if last else "upload"
        try:
            response = await _send_chunk(t, session_url, chunk, offset, command, what, authenticate)
        except APIConnectionError:
            if not resumable or resumes >= RESUMES:
                raise
            resumes += 1
            await t.sleep(min(8.0, 0.5 * 2**resumes))
            offset = await query_received(t, session_url, what, authenticate)
            continue
        status = response.headers.get("x-goog-upload-status", "").lower()
        offset += len(chunk)
        if progress is not None:
            progress(offset, total)
        if last:
            if status != "final":
                raise ProtocolViolationError(
                    f"{what}: the server did not finalize the upload (status {status!r})."
                )
            return response
        if status != "active":
            raise ProtocolViolationError(
                f"{what}: the server ended the upload session early (status {status!r})."
            )


async def query_received(t: Transport, session_url: str, what: str, authenticate: bool) -> int:
    """How many bytes of the session the server holds (the offset to resume from)."""
    response = await t.request(
        "POST",
        "",
        url=session_url,
        headers={"x-goog-upload-command": "query"},
        accept="*/*",
        idempotency=Idempotency.SAFE,
        what=f"{what} (query)",
        authenticate=authenticate,
    )
    raw = response.headers.get("x-goog-upload-size-received", "")
    if not raw.isdigit():
        raise ProtocolViolationError(f"{what}: the server did not say how much it received.")
    return int(raw)


async def _send_chunk(
    t: Transport,
    url: str,
    chunk: bytes,
    offset: int,
    command: str,
    what: str,
    authenticate: bool,
) -> httpx.Response:
    resends = 0
    while True:
        response = await t.request(
            "POST",
            "",
            url=url,
            content=chunk,
            headers={
                "x-goog-upload-command": command,
                "x-goog-upload-offset": str(offset),
                "content-type": "application/octet-stream",
            },
            accept="*/*",
            idempotency=Idempotency.CREATE,
            what=f"{what} (bytes {offset}–{offset + len(chunk)})",
            authenticate=authenticate,
        )
        if "x-goog-upload-status" in response.headers:
            return response
        if resends >= len(STATUS_RESENDS):
            raise ProtocolViolationError(
                f"{what}: chunk replies lack the x-goog-upload-status header."
            )
        await t.sleep(STATUS_RESENDS[resends])
        resends += 1
