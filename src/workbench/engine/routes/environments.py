"""Environments and their files (protocol.md §9): CRUD, listing, downloads, uploads, tar.

* ``router`` (under every version prefix): ``/environments`` create / list / get / delete,
  ``/environments/{env}/files/{path…}`` listing (or the bytes with ``?alt=media``), and
  ``/files/environment-{env}:download`` — the whole workspace as a ustar archive;
* ``upload_router`` (under ``/upload`` + every version prefix): the resumable upload of §9.7.
  The ``PUT`` handshake answers ``x-goog-upload-url`` — this same path (with the mount
  prefix) plus ``?upload_id=…`` — and chunk ``POST``s go there. Every reply of the upload
  protocol carries ``x-goog-upload-status``, errors included (``final``), so the SDK never
  re-sends a chunk pointlessly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..errors import ApiError, bad_request, error_response, not_found
from ..sandbox import EnvironmentStore, SandboxError, UploadManager
from ..sandbox import files as sfiles
from ..sandbox.archive import tar_stream
from .agents import page_size, page_token
from .interactions import json_body

router = APIRouter()
upload_router = APIRouter()

READ_CHUNK = 256 * 1024


def _envs(request: Request) -> EnvironmentStore:
    envs: EnvironmentStore = request.app.state.environments
    return envs


def _uploads(request: Request) -> UploadManager:
    uploads: UploadManager = request.app.state.uploads
    return uploads


def _flag(request: Request, name: str) -> bool:
    raw = (request.query_params.get(name) or "").lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise bad_request(f"query parameter {name!r} must be true or false")


def _api(exc: SandboxError) -> ApiError:
    return ApiError(exc.http_status, exc.message, exc.code)


async def _wire(envs: EnvironmentStore, env_id: str) -> dict[str, Any]:
    record = await envs.get_any(env_id)  # an expired one is shown with status "expired"
    return (await envs.to_wire(record, counts=record.status == "active")).to_wire()


# -- environments ----------------------------------------------------------------------------


@router.post("/environments", summary="Create an environment (or fork one)")
async def create_environment(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    sources = body.get("sources")
    if sources is not None and not isinstance(sources, list):
        raise bad_request("sources must be a list")
    origin = body.get("from_environment")
    if origin is not None and not isinstance(origin, str):
        raise bad_request("from_environment must be an environment id")
    envs = _envs(request)
    try:
        record = await envs.create(
            sources=sources, network=body.get("network"), env=body.get("env"),
            from_environment=origin,
        )  # fmt: skip
        return JSONResponse((await envs.to_wire(record)).to_wire())
    except SandboxError as exc:
        raise _api(exc) from exc


@router.get("/environments", summary="List environments")
async def list_environments(request: Request) -> Response:
    envs = _envs(request)
    try:
        records, token = await envs.list(page_size(request), page_token(request))
        items = [(await envs.to_wire(r, counts=r.status == "active")).to_wire() for r in records]
    except SandboxError as exc:
        raise _api(exc) from exc
    out: dict[str, Any] = {"environments": items}
    if token:
        out["next_page_token"] = token
    return JSONResponse(out)


@router.get("/environments/{env_id}", summary="Get an environment")
async def get_environment(request: Request, env_id: str) -> Response:
    try:
        return JSONResponse(await _wire(_envs(request), env_id))
    except SandboxError as exc:
        raise _api(exc) from exc


@router.delete("/environments/{env_id}", summary="Delete an environment and its files")
async def delete_environment(request: Request, env_id: str) -> Response:
    try:
        await _envs(request).delete(env_id)
    except SandboxError as exc:
        raise _api(exc) from exc
    return JSONResponse({})


# -- files -----------------------------------------------------------------------------------


async def _read_fd(fd: int) -> AsyncIterator[bytes]:
    try:
        while True:
            chunk = await asyncio.to_thread(os.read, fd, READ_CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


async def _files(request: Request, env_id: str, path: str) -> Response:
    envs = _envs(request)
    try:
        record = await envs.get(env_id)
        root = envs.root(record.id)
        if request.query_params.get("alt") == "media":
            fd, size, mime = await asyncio.to_thread(sfiles.open_download, root, path)
            return StreamingResponse(
                _read_fd(fd), media_type=mime, headers={"Content-Length": str(size)}
            )
        recursive = _flag(request, "recursive")
        entries, token = await asyncio.to_thread(
            lambda: sfiles.list_files(
                root,
                path,
                recursive=recursive,
                page_size=page_size(request),
                page_token=page_token(request),
            )
        )
    except SandboxError as exc:
        raise _api(exc) from exc
    out: dict[str, Any] = {"files": [e.to_wire() for e in entries]}
    if token:
        out["next_page_token"] = token
    return JSONResponse(out)


@router.get("/environments/{env_id}/files", summary="List the root of an environment")
async def list_root(request: Request, env_id: str) -> Response:
    return await _files(request, env_id, "")


@router.get("/environments/{env_id}/files/{path:path}", summary="List, stat or download")
async def list_or_download(request: Request, env_id: str, path: str) -> Response:
    return await _files(request, env_id, path)


@router.get("/files/{name}", summary="Download a whole environment as a tar archive")
async def download_tar(request: Request, name: str) -> Response:
    if not (name.startswith("environment-") and name.endswith(":download")):
        raise not_found(f"file {name!r} not found; the engine serves environment-{{id}}:download")
    env_id = name[len("environment-") : -len(":download")]
    envs = _envs(request)
    try:
        record = await envs.get(env_id)
        root = envs.root(record.id)
    except SandboxError as exc:
        raise _api(exc) from exc
    return StreamingResponse(
        tar_stream(root),
        media_type="application/x-tar",
        headers={"Content-Disposition": f'attachment; filename="environment-{record.id}.tar"'},
    )


# -- resumable upload (§9.7) -----------------------------------------------------------------


def _upload_error(status: int, message: str, code: str | None = None) -> Response:
    return error_response(status, message, code, headers={"x-goog-upload-status": "final"})


def _length(request: Request) -> int | None:
    raw = request.headers.get("x-goog-upload-header-content-length")
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit():
        raise bad_request("X-Goog-Upload-Header-Content-Length must be a byte count")
    return int(raw)


async def _handshake(request: Request, env_id: str, path: str) -> Response:
    command = (request.headers.get("x-goog-upload-command") or "start").lower()
    if command != "start":
        raise bad_request("start an upload with X-Goog-Upload-Command: start")
    session = await _uploads(request).start(
        env_id,
        path,
        total=_length(request),
        content_type=request.headers.get("x-goog-upload-header-content-type"),
        overwrite=_flag(request, "overwrite"),
        extract=_flag(request, "extract"),
    )
    # The session URL keeps the mount prefix (the SDK swaps only scheme and host).
    root_path = str(request.scope.get("root_path") or "")
    path = request.url.path
    if root_path and not path.startswith(root_path + "/"):
        path = root_path + path
    url = str(request.url.replace(path=path, query=f"upload_id={session.id}"))
    return JSONResponse({}, headers={"x-goog-upload-url": url, "x-goog-upload-status": "active"})


async def _chunk(request: Request, session_id: str) -> Response:
    uploads = _uploads(request)
    commands = {
        c.strip().lower()
        for c in (request.headers.get("x-goog-upload-command") or "").split(",")
        if c.strip()
    }
    if "cancel" in commands:
        await uploads.cancel(session_id)
        return JSONResponse({}, headers={"x-goog-upload-status": "cancelled"})
    if not commands or not commands <= {"upload", "finalize"}:
        raise bad_request("X-Goog-Upload-Command must be 'upload', 'finalize' or both")
    raw_offset = request.headers.get("x-goog-upload-offset")
    if raw_offset is not None and not raw_offset.strip().isdigit():
        raise bad_request("X-Goog-Upload-Offset must be a byte count")
    offset = int(raw_offset) if raw_offset is not None else None
    session = uploads.get(session_id)
    result = await uploads.append(
        session_id, offset, request.stream(), finalize="finalize" in commands
    )
    if not result.final:
        return JSONResponse({}, headers={"x-goog-upload-status": "active"})
    with contextlib.suppress(SandboxError):
        await _envs(request).touch(session.env_id, modified=True)
    files = [f.to_wire() for f in result.files or []]
    return JSONResponse({"files": files}, headers={"x-goog-upload-status": "final"})


@upload_router.put("/environments/{env_id}/files/{path:path}", summary="Start an upload")
async def start_upload(request: Request, env_id: str, path: str) -> Response:
    try:
        return await _handshake(request, env_id, path)
    except SandboxError as exc:
        return _upload_error(exc.http_status, exc.message, exc.code)
    except ApiError as exc:
        return _upload_error(exc.http_status, exc.message, exc.code)


@upload_router.post("/environments/{env_id}/files/{path:path}", summary="Send upload chunks")
async def upload_chunk(request: Request, env_id: str, path: str) -> Response:
    session_id = request.query_params.get("upload_id")
    try:
        if not session_id:
            raise bad_request("the upload URL needs its upload_id; start with a PUT")
        return await _chunk(request, session_id)
    except SandboxError as exc:
        return _upload_error(exc.http_status, exc.message, exc.code)
    except ApiError as exc:
        return _upload_error(exc.http_status, exc.message, exc.code)
