"""``client.environments.files``: list, download and the resumable upload of sandbox files.

Upload (protocol.md §9.7): a handshake ``PUT {base}/upload/{v}/environments/{env}/files/{path}``
answered with ``x-goog-upload-url``; then chunks of ``chunk_size`` (8 MiB) bytes POSTed to
that URL (scheme and host replaced by ours, path kept) with ``X-Goog-Upload-Offset`` and
``X-Goog-Upload-Command: upload`` — ``upload, finalize`` on the last one. Every reply must
carry ``x-goog-upload-status`` (``active`` between chunks, ``final`` at the end); a reply
without it is re-sent up to 3 times (after 1, 2 and 4 s), like the SDK does. A 409 is never
retried. Cancel an upload by cancelling the task that runs it.
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from workbench.protocol import ProtocolError, upload_result_files

from ._paging import iter_pages
from ._wire import EnvironmentFile, to_model
from .downloads import Progress, get_following_redirects, stream_to_file
from .errors import APIConnectionError, ProtocolViolationError
from .retry import Idempotency
from .transport import Transport, decode_json_object

CHUNK_SIZE = 8 * 1024 * 1024
STATUS_RESENDS = (1.0, 2.0, 4.0)


def env_id_segment(value: str) -> str:
    bare = value.removeprefix("environments/")
    if not bare or "/" in bare:
        raise ValueError(f"invalid environment id {value!r}")
    return quote(bare, safe="-_.~")


def _file_path(path: str) -> str:
    """The file path part of a URL: slashes kept, no leading ``/``, root is ``.``."""
    stripped = path.strip().lstrip("/")
    return quote(stripped, safe="/-_.~") if stripped else "."


class EnvironmentFiles:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def iter(
        self,
        environment_id: str,
        path: str = ".",
        *,
        recursive: bool = False,
        page_size: int | None = None,
    ) -> AsyncIterator[EnvironmentFile]:
        async for page in iter_pages(
            self._t,
            f"environments/{env_id_segment(environment_id)}/files/{_file_path(path)}",
            items_key="files",
            params={"recursive": True if recursive else None},
            page_size=page_size,
            what=f"list files of {environment_id}",
        ):
            for item in page:
                yield to_model(EnvironmentFile, item, "environment file")

    async def list(
        self,
        environment_id: str,
        path: str = ".",
        *,
        recursive: bool = False,
        page_size: int | None = None,
    ) -> list[EnvironmentFile]:
        """A directory's entries (every page; the subtree with ``recursive``)."""
        return [
            f
            async for f in self.iter(environment_id, path, recursive=recursive, page_size=page_size)
        ]

    async def download(self, environment_id: str, path: str) -> bytes:
        """One file's bytes (``?alt=media``), in memory."""
        what = f"download {path}"
        url = self._t.url(f"environments/{env_id_segment(environment_id)}/files/{_file_path(path)}")
        response = await get_following_redirects(self._t, url, {"alt": "media"}, what)
        try:
            return await response.aread()
        except httpx.TransportError as exc:
            raise APIConnectionError(f"{what}: the download was cut off ({exc}).") from exc
        finally:
            await response.aclose()

    async def download_to(
        self,
        environment_id: str,
        path: str,
        destination: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> int:
        """Stream one file to ``destination`` (written atomically); returns the byte count."""
        url = self._t.url(f"environments/{env_id_segment(environment_id)}/files/{_file_path(path)}")
        return await stream_to_file(
            self._t, url, {"alt": "media"}, Path(destination), progress, f"download {path}"
        )

    async def upload(
        self,
        environment_id: str,
        path: str,
        data: bytes | str | os.PathLike[str] | IO[bytes],
        *,
        mime_type: str = "application/octet-stream",
        overwrite: bool = False,
        extract: bool = False,
        chunk_size: int = CHUNK_SIZE,
        progress: Progress | None = None,
    ) -> builtins.list[EnvironmentFile]:
        """Upload bytes, a local file path or a binary file object with the resumable protocol.

        Returns the files the server reports (``{"files": [...]}``; also accepts a single
        file or ``{"file": {...}}``). ``extract=True`` unpacks a .tar/.tar.gz into ``path``.
        """
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if isinstance(data, bytes | bytearray | memoryview):
            source = _BytesSource(bytes(data))
            return await self._upload(
                environment_id, path, source, mime_type, overwrite, extract, chunk_size, progress
            )
        if isinstance(data, str | os.PathLike):
            with open(data, "rb") as fh:  # noqa: ASYNC230 - opening is instant; reads are threaded
                return await self._upload(
                    environment_id,
                    path,
                    _FileSource(fh),
                    mime_type,
                    overwrite,
                    extract,
                    chunk_size,
                    progress,
                )
        return await self._upload(
            environment_id,
            path,
            _FileSource(data),
            mime_type,
            overwrite,
            extract,
            chunk_size,
            progress,
        )

    async def _upload(
        self,
        environment_id: str,
        path: str,
        source: _Source,
        mime_type: str,
        overwrite: bool,
        extract: bool,
        chunk_size: int,
        progress: Progress | None,
    ) -> builtins.list[EnvironmentFile]:
        total = source.size
        what = f"upload {path}"
        handshake = await self._t.request(
            "PUT",
            f"environments/{env_id_segment(environment_id)}/files/{_file_path(path)}",
            upload=True,
            params={"overwrite": True if overwrite else None, "extract": True if extract else None},
            headers={
                "x-goog-upload-protocol": "resumable",
                "x-goog-upload-command": "start",
                "x-goog-upload-header-content-length": str(total),
                "x-goog-upload-header-content-type": mime_type,
            },
            accept="*/*",
            idempotency=Idempotency.CREATE,
            what=f"{what} (start)",
        )
        session = handshake.headers.get("x-goog-upload-url")
        if not session:
            raise ProtocolViolationError(
                f"{what}: the server did not return an upload URL (x-goog-upload-url).",
                status=handshake.status_code,
            )
        session_url = self._t.rebase(session)
        offset = 0
        if progress is not None:
            progress(0, total)
        while True:
            chunk = await source.read(offset, chunk_size)
            last = offset + len(chunk) >= total
            if not last and not chunk:
                raise ProtocolViolationError(f"{what}: the source ended early at byte {offset}.")
            command = "upload, finalize" if last else "upload"
            response = await self._send_chunk(session_url, chunk, offset, command, what)
            status = response.headers.get("x-goog-upload-status", "").lower()
            offset += len(chunk)
            if progress is not None:
                progress(offset, total)
            if last:
                if status != "final":
                    raise ProtocolViolationError(
                        f"{what}: the server did not finalize the upload (status {status!r})."
                    )
                return _uploaded_files(decode_json_object(response, what))
            if status != "active":
                raise ProtocolViolationError(
                    f"{what}: the server ended the upload session early (status {status!r})."
                )

    async def _send_chunk(
        self, url: str, chunk: bytes, offset: int, command: str, what: str
    ) -> httpx.Response:
        resends = 0
        while True:
            response = await self._t.request(
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
            )
            if "x-goog-upload-status" in response.headers:
                return response
            if resends >= len(STATUS_RESENDS):
                raise ProtocolViolationError(
                    f"{what}: chunk replies lack the x-goog-upload-status header."
                )
            await self._t.sleep(STATUS_RESENDS[resends])
            resends += 1


def _uploaded_files(data: dict[str, Any]) -> list[EnvironmentFile]:
    try:
        return upload_result_files(data)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(
            f"upload: the final reply lists no valid files: {exc}"
        ) from None


class _Source:
    size: int

    async def read(self, offset: int, n: int) -> bytes:
        raise NotImplementedError


class _BytesSource(_Source):
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    async def read(self, offset: int, n: int) -> bytes:
        return self._data[offset : offset + n]


class _FileSource(_Source):
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
