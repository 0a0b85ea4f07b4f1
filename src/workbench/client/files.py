"""Files over the resumable upload protocol: sandbox files and the Files API.

* ``EnvironmentFiles`` (``client.environments.files``): list, download and upload files of a
  sandbox (protocol.md §9.6–9.7); the handshake is ``PUT {base}/upload/{v}/environments/…``.
* ``Files`` (``client.files``): the classic Files API — upload media once (``POST
  {base}/upload/{v}/files``), then name it by ``uri`` in content blocks; get, list, delete,
  download, and wait until processing made it ``ACTIVE``. Its uploads resume after a dropped
  connection (``_resumable.send_chunks``).

Chunking, status checks and resuming are in ``_resumable``. A 409 is never retried. Cancel an
upload by cancelling the task that runs it (the server drops idle sessions).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from workbench.protocol import ProtocolError, UploadedFile, upload_result_files

from ._paging import iter_pages
from ._resumable import CHUNK_SIZE, BytesSource, FileSource, Source, send_chunks
from ._wire import EnvironmentFile, to_model
from .downloads import Progress, download_bytes, stream_to_file
from .errors import ProtocolViolationError
from .retry import Idempotency
from .transport import Transport, decode_json_object


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
        url = self._t.url(f"environments/{env_id_segment(environment_id)}/files/{_file_path(path)}")
        return await download_bytes(self._t, url, {"alt": "media"}, f"download {path}")

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
        _check_chunk_size(chunk_size)
        reply = await _upload(
            self._t,
            "PUT",
            f"environments/{env_id_segment(environment_id)}/files/{_file_path(path)}",
            data,
            mime_type=mime_type,
            params={"overwrite": True if overwrite else None, "extract": True if extract else None},
            chunk_size=chunk_size,
            progress=progress,
            what=f"upload {path}",
        )
        return _uploaded_files(reply)


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")


async def _upload(
    t: Transport,
    method: str,
    path: str,
    data: bytes | str | os.PathLike[str] | IO[bytes],
    *,
    mime_type: str,
    chunk_size: int,
    progress: Progress | None,
    what: str,
    params: dict[str, bool | None] | None = None,
    json_body: dict[str, Any] | None = None,
    resumable: bool = False,
) -> dict[str, Any]:
    """One upload over the resumable protocol: the start handshake, then every chunk.

    Both kinds of upload (sandbox files, the Files API) go through here; only the Files
    API's sessions survive a dropped connection (``resumable``). Returns the final reply.
    """
    async with _source(data) as source:
        handshake = await t.request(
            method,
            path,
            upload=True,
            params=params,
            json_body=json_body,
            headers=_start_headers(source.size, mime_type),
            accept="*/*",
            idempotency=Idempotency.CREATE,
            what=f"{what} (start)",
        )
        final = await send_chunks(
            t,
            _session_url(t, handshake, what),
            source,
            chunk_size=chunk_size,
            progress=progress,
            what=what,
            resumable=resumable,
        )
    return decode_json_object(final, what)


def _start_headers(size: int, mime_type: str) -> dict[str, str]:
    return {
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": str(size),
        "x-goog-upload-header-content-type": mime_type,
    }


def _session_url(t: Transport, handshake: httpx.Response, what: str) -> str:
    session = handshake.headers.get("x-goog-upload-url")
    if not session:
        raise ProtocolViolationError(
            f"{what}: the server did not return an upload URL (x-goog-upload-url).",
            status=handshake.status_code,
        )
    return t.rebase(session)


@contextlib.asynccontextmanager
async def _source(data: bytes | str | os.PathLike[str] | IO[bytes]) -> AsyncIterator[Source]:
    """A readable source for bytes, a local path (opened here) or a binary file object."""
    if isinstance(data, bytes | bytearray | memoryview):
        yield BytesSource(bytes(data))
    elif isinstance(data, str | os.PathLike):
        fh = await asyncio.to_thread(open, data, "rb")
        try:
            yield FileSource(fh)
        finally:
            await asyncio.to_thread(fh.close)
    else:
        yield FileSource(data)


def _uploaded_files(data: dict[str, Any]) -> list[EnvironmentFile]:
    try:
        return upload_result_files(data)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(
            f"upload: the final reply lists no valid files: {exc}"
        ) from None


def file_id_segment(name: str) -> str:
    """``files/abc`` (or ``abc``) → ``abc``, checked; the SDK's ``t_file_name`` rule."""
    bare = name.removeprefix("files/")
    if not bare or "/" in bare:
        raise ValueError(f"invalid file name {name!r}")
    return quote(bare, safe="-_.~")


class Files:
    """The Files API (``client.files``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def upload(
        self,
        data: bytes | str | os.PathLike[str] | IO[bytes],
        *,
        mime_type: str,
        display_name: str | None = None,
        name: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        progress: Progress | None = None,
    ) -> UploadedFile:
        """Upload bytes, a local path or a binary file object; returns the new file.

        The file may still be ``PROCESSING``; ``wait_active`` waits for it (a Gemini model
        needs that, the local engine waits by itself). A dropped connection resumes.
        """
        _check_chunk_size(chunk_size)
        meta: dict[str, Any] = {"mimeType": mime_type}
        if display_name:
            meta["displayName"] = display_name
        if name:
            meta["name"] = "files/" + file_id_segment(name)
        body = await _upload(
            self._t,
            "POST",
            "files",
            data,
            mime_type=mime_type,
            json_body={"file": meta},
            chunk_size=chunk_size,
            progress=progress,
            what=f"upload {display_name or name or mime_type}",
            resumable=True,
        )
        return to_model(UploadedFile, body.get("file", body), "file")

    async def get(self, name: str) -> UploadedFile:
        """A file's metadata (``files/abc`` or ``abc``)."""
        what = f"get {name}"
        response = await self._t.request("GET", f"files/{file_id_segment(name)}", what=what)
        return to_model(UploadedFile, decode_json_object(response, what), "file")

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[UploadedFile]:
        """Every file, newest first, page by page."""
        async for page in iter_pages(
            self._t,
            "files",
            items_key="files",
            page_size=page_size,
            size_param="pageSize",
            token_param="pageToken",
            next_key="nextPageToken",
            what="list files",
        ):
            for item in page:
                yield to_model(UploadedFile, item, "file")

    async def list(self, *, page_size: int | None = None) -> builtins.list[UploadedFile]:
        """Every file (all pages)."""
        return [f async for f in self.iter(page_size=page_size)]

    async def delete(self, name: str) -> None:
        """Delete a file (404 when it does not exist)."""
        await self._t.request(
            "DELETE",
            f"files/{file_id_segment(name)}",
            idempotency=Idempotency.SAFE,
            what=f"delete {name}",
        )

    async def download(self, name: str) -> bytes:
        """A file's bytes (``files/{id}:download?alt=media``), in memory."""
        url = self._t.url(f"files/{file_id_segment(name)}:download")
        return await download_bytes(self._t, url, {"alt": "media"}, f"download {name}")

    async def wait_active(
        self, name: str, *, max_seconds: float = 300.0, interval: float = 0.5
    ) -> UploadedFile:
        """The file once it left ``PROCESSING`` (``ACTIVE`` or ``FAILED``: check ``state``)."""
        deadline = asyncio.get_running_loop().time() + max_seconds
        while True:
            file = await self.get(name)
            if file.state != "PROCESSING":
                return file
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(f"{name} is still processing after {max_seconds:g} s")
            await self._t.sleep(interval)
