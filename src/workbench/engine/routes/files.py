"""The Files API routes, as Gemini serves them and the official SDK calls them.

* ``upload_router`` (under ``/upload`` + every version prefix): ``POST /files`` with
  ``X-Goog-Upload-Protocol: resumable`` and ``X-Goog-Upload-Command: start`` opens a session and
  answers ``x-goog-upload-url`` (this path plus ``?upload_id=…``); chunk ``POST``s to that URL
  carry ``X-Goog-Upload-Command: upload`` (``upload, finalize`` on the last), ``query`` (how
  many bytes arrived, to resume after a restart) or ``cancel``. The final reply is
  ``{"file": File}``. Every reply carries ``x-goog-upload-status``, errors too (``final``).
* ``router`` (under every version prefix): ``GET /files`` (paged: ``pageSize`` ≤ 100,
  ``pageToken``), ``GET /files/{id}``, ``DELETE /files/{id}``, and
  ``GET /files/{id}:download?alt=media`` for the bytes. ``GET /files/environment-{env}:download``
  stays the environments' tar download (``routes/environments.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..errors import ApiError, bad_request, error_response
from ..files import FilesError, FileStore
from . import environments
from .agents import page_size

router = APIRouter()
upload_router = APIRouter()

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
READ_CHUNK = 256 * 1024
CHUNK_GRANULARITY = 8 * 1024 * 1024


def _store(request: Request) -> FileStore:
    store: FileStore = request.app.state.files
    return store


def _api(exc: FilesError) -> ApiError:
    return ApiError(exc.status, exc.message)


def base_url(request: Request) -> str:
    """``scheme://host[:port][mount prefix]`` of this request (file URIs are built on it)."""
    root = str(request.scope.get("root_path") or "").rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root}"


def _version(request: Request) -> str:
    segment = request.url.path.removeprefix("/upload").lstrip("/").split("/")[0]
    return segment if segment in ("v1", "v1beta", "v1alpha") else "v1beta"


def _wire(request: Request, record: Any) -> dict[str, Any]:
    wire: dict[str, Any] = record.to_wire(base_url(request), _version(request))
    return wire


# -- files -----------------------------------------------------------------------------------


@router.get("/files", summary="List uploaded files")
async def list_files(request: Request) -> Response:
    size = page_size(request) or DEFAULT_PAGE_SIZE
    if size < 1:
        raise bad_request("pageSize must be positive")
    token = request.query_params.get("pageToken") or request.query_params.get("page_token")
    try:
        records, next_token = _store(request).list(min(size, MAX_PAGE_SIZE), token)
    except FilesError as exc:
        raise _api(exc) from exc
    out: dict[str, Any] = {"files": [_wire(request, r) for r in records]}
    if next_token:
        out["nextPageToken"] = next_token
    return JSONResponse(out)


async def _read_file(path: str) -> AsyncIterator[bytes]:
    fd = await asyncio.to_thread(os.open, path, os.O_RDONLY)
    try:
        while chunk := await asyncio.to_thread(os.read, fd, READ_CHUNK):
            yield chunk
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


@router.get("/files/{name}", summary="Get a file, or download its bytes (:download)")
async def get_file(request: Request, name: str) -> Response:
    if name.startswith("environment-"):
        return await environments.download_tar(request, name)
    store = _store(request)
    try:
        if name.endswith(":download"):
            file_id = name.removesuffix(":download")
            record = store.get(file_id)
            path = store.blob(file_id)
            return StreamingResponse(
                _read_file(str(path)),
                media_type=record.mime_type,
                headers={"Content-Length": str(record.size_bytes)},
            )
        return JSONResponse(_wire(request, store.get(name)))
    except FilesError as exc:
        raise _api(exc) from exc


@router.delete("/files/{name}", summary="Delete a file")
async def delete_file(request: Request, name: str) -> Response:
    try:
        await _store(request).delete(name)
    except FilesError as exc:
        raise _api(exc) from exc
    return JSONResponse({})


# -- resumable upload ------------------------------------------------------------------------


def _upload_error(status: int, message: str, code: str | None = None) -> Response:
    return error_response(status, message, code, headers={"x-goog-upload-status": "final"})


def _commands(request: Request) -> set[str]:
    raw = request.headers.get("x-goog-upload-command") or ""
    return {c.strip().lower() for c in raw.split(",") if c.strip()}


def _length(request: Request) -> int | None:
    raw = request.headers.get("x-goog-upload-header-content-length")
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit():
        raise bad_request("X-Goog-Upload-Header-Content-Length must be a byte count")
    return int(raw)


def _metadata(body: Any) -> dict[str, Any]:
    """The ``file`` object of a start request (camelCase or snake_case keys)."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    meta = body.get("file", {})
    if not isinstance(meta, dict):
        raise bad_request("'file' must be an object")
    return meta


async def _start(request: Request) -> Response:
    protocol = (request.headers.get("x-goog-upload-protocol") or "").lower()
    if protocol != "resumable":
        raise bad_request(
            "the engine takes uploads with X-Goog-Upload-Protocol: resumable "
            "(as the official SDKs send them)"
        )
    raw = await request.body()
    try:
        meta = _metadata(json.loads(raw) if raw.strip() else None)
    except ValueError as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc
    mime = (
        request.headers.get("x-goog-upload-header-content-type")
        or meta.get("mimeType")
        or meta.get("mime_type")
        or ""
    )
    display = meta.get("displayName") or meta.get("display_name") or ""
    name = meta.get("name")
    session = await _store(request).start_upload(
        total=_length(request),
        mime_type=str(mime).split(";")[0].strip().lower(),
        display_name=str(display),
        name=str(name) if name else None,
    )
    root_path = str(request.scope.get("root_path") or "")
    path = request.url.path
    if root_path and not path.startswith(root_path + "/"):
        path = root_path + path
    url = str(request.url.replace(path=path, query=f"upload_id={session.id}"))
    headers = {
        "x-goog-upload-url": url,
        "x-goog-upload-status": "active",
        "x-goog-upload-chunk-granularity": str(CHUNK_GRANULARITY),
    }
    return JSONResponse({}, headers=headers)


async def _chunk(request: Request, session_id: str) -> Response:
    store = _store(request)
    commands = _commands(request)
    if "cancel" in commands:
        await store.cancel_upload(session_id)
        return JSONResponse({}, headers={"x-goog-upload-status": "cancelled"})
    if commands == {"query"}:
        received = store.received(session_id)
        headers = {"x-goog-upload-status": "active", "x-goog-upload-size-received": str(received)}
        return JSONResponse({}, headers=headers)
    if not commands or not commands <= {"upload", "finalize"}:
        raise bad_request("X-Goog-Upload-Command must be upload, finalize, query or cancel")
    raw_offset = request.headers.get("x-goog-upload-offset")
    if raw_offset is not None and not raw_offset.strip().isdigit():
        raise bad_request("X-Goog-Upload-Offset must be a byte count")
    offset = int(raw_offset) if raw_offset is not None else None
    record = await store.append(
        session_id, offset, request.stream(), finalize="finalize" in commands
    )
    if record is None:
        received = store.received(session_id)
        headers = {"x-goog-upload-status": "active", "x-goog-upload-size-received": str(received)}
        return JSONResponse({}, headers=headers)
    return JSONResponse({"file": _wire(request, record)}, headers={"x-goog-upload-status": "final"})


@upload_router.post("/files", summary="Start a resumable upload, or send its chunks")
async def upload(request: Request) -> Response:
    session_id = request.query_params.get("upload_id")
    try:
        if session_id:
            return await _chunk(request, session_id)
        if _commands(request) != {"start"}:
            raise bad_request("start an upload with X-Goog-Upload-Command: start")
        return await _start(request)
    except FilesError as exc:
        return _upload_error(exc.status, exc.message)
    except ApiError as exc:
        return _upload_error(exc.http_status, exc.message, exc.code)
