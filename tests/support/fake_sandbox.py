"""Environments, files, resumable uploads and the tar download of the fake server."""

from __future__ import annotations

import base64
import io
import tarfile
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .fake_common import HTTPFail, json_body, now, page


class SandboxRoutes:
    """Mixed into :class:`~support.fake_server.FakeServer`; uses its state and settings."""

    environments: dict[str, dict[str, Any]]
    env_files: dict[str, dict[str, tuple[bytes, str, str]]]
    uploads: dict[str, dict[str, Any]]
    prefix: str
    settings: Any

    @property
    def origin(self) -> str:  # pragma: no cover - provided by FakeServer
        raise NotImplementedError

    def _next_id(self, prefix: str) -> str:  # pragma: no cover - provided by FakeServer
        raise NotImplementedError

    def _env_json(self, env_id: str) -> dict[str, Any]:
        env = self.environments[env_id]
        files = self.env_files[env_id]
        return {**env, "file_count": str(len(files)),
                "size_bytes": str(sum(len(d) for d, _, _ in files.values()))}  # fmt: skip

    def _environments(self, method: str, parts: list[str], query: dict[str, str],
                      body: bytes) -> Response:  # fmt: skip
        if not parts or parts == [""]:
            if method == "GET":
                return page([self._env_json(e) for e in self.environments], "environments",
                             query)  # fmt: skip
            if method == "POST":
                spec = json_body(body) if body else {}
                if not isinstance(spec, dict):
                    raise HTTPFail(400, "body must be an object")
                env_id = self._next_id("env_")
                stamp = now()
                self.environments[env_id] = {"id": env_id, "environment_id": env_id,
                                             "type": "remote", "status": "active",
                                             "created": stamp, "updated": stamp}  # fmt: skip
                files: dict[str, tuple[bytes, str, str]] = {}
                for source in spec.get("sources") or []:
                    if str(source.get("type", "")).lower() != "inline":
                        raise HTTPFail(400, f"source type {source.get('type')} unavailable")
                    target = str(source["target"]).lstrip("/")
                    content = str(source.get("content", ""))
                    data = (
                        base64.b64decode(content)
                        if source.get("encoding") == "base64"
                        else content.encode()
                    )
                    files[target] = (data, "text/plain", stamp)
                self.env_files[env_id] = files
                return JSONResponse(self._env_json(env_id))
            raise HTTPFail(404, "method not allowed")
        env_id = parts[0]
        if env_id not in self.environments:
            raise HTTPFail(404, f"environment {env_id} not found")
        if len(parts) == 1:
            if method == "GET":
                return JSONResponse(self._env_json(env_id))
            if method == "DELETE":
                del self.environments[env_id]
                del self.env_files[env_id]
                return JSONResponse({})
            raise HTTPFail(404, "method not allowed")
        if parts[1] == "files" and method == "GET":
            return self._files(env_id, "/".join(parts[2:]), query)
        raise HTTPFail(404, "unknown environment path")

    def _file_entry(self, env_id: str, path: str) -> dict[str, Any]:
        files = self.env_files[env_id]
        name = path.rsplit("/", 1)[-1]
        if path in files:
            data, mime, stamp = files[path]
            return {"name": name, "path": path, "type": "file", "size_bytes": str(len(data)),
                    "mime_type": mime, "created": stamp, "modified": stamp}  # fmt: skip
        return {"name": name, "path": path, "type": "directory"}

    def _dirs(self, env_id: str) -> set[str]:
        dirs: set[str] = set()
        for path in self.env_files[env_id]:
            segs = path.split("/")
            for i in range(1, len(segs)):
                dirs.add("/".join(segs[:i]))
        return dirs

    def _files(self, env_id: str, path: str, query: dict[str, str]) -> Response:
        path = unquote(path).strip("/")
        if path in (".", ""):
            path = ""
        files = self.env_files[env_id]
        dirs = self._dirs(env_id)
        if query.get("alt") == "media":
            if path in files:
                data, mime, _ = files[path]
                return Response(data, media_type=mime or "application/octet-stream")
            if path in dirs or path == "":
                raise HTTPFail(400, "cannot download a directory")
            raise HTTPFail(404, f"file {path} not found")
        if path in files:
            return page([self._file_entry(env_id, path)], "files", query)
        if path and path not in dirs:
            raise HTTPFail(404, f"file {path} not found")
        prefix = f"{path}/" if path else ""
        recursive = query.get("recursive") == "true"
        entries = []
        for candidate in sorted(set(files) | dirs):
            if not candidate.startswith(prefix) or candidate == path:
                continue
            rel = candidate[len(prefix) :]
            if recursive or "/" not in rel:
                entries.append(self._file_entry(env_id, candidate))
        return page(entries, "files", query)

    def _upload_start(self, request: Request, version: str, env_id: str, path: str,
                      query: dict[str, str]) -> Response:  # fmt: skip
        final = {"x-goog-upload-status": "final"}
        headers = request.headers
        if headers.get("x-goog-upload-protocol") != "resumable" or \
                headers.get("x-goog-upload-command") != "start":  # fmt: skip
            raise HTTPFail(400, "expected a resumable upload start", final)
        if env_id not in self.environments:
            raise HTTPFail(404, f"environment {env_id} not found", final)
        try:
            total = int(headers.get("x-goog-upload-header-content-length", ""))
        except ValueError:
            raise HTTPFail(400, "missing X-Goog-Upload-Header-Content-Length", final) from None
        path = path.strip("/")
        extract = query.get("extract") == "true"
        if not extract and path in self.env_files[env_id] and query.get("overwrite") != "true":
            raise HTTPFail(409, f"{path} already exists", final)
        upload_id = self._next_id("up")
        self.uploads[upload_id] = {"env": env_id, "path": path, "total": total,
                                   "mime": headers.get("x-goog-upload-header-content-type",
                                                       "application/octet-stream"),
                                   "data": bytearray(), "extract": extract,
                                   "chunks": []}  # fmt: skip
        session = (f"{self.origin}{self.prefix}/upload/{version}/environments/{env_id}/files/"
                   f"{path}?upload_id={upload_id}")  # fmt: skip
        return Response(b"", headers={"x-goog-upload-url": session,
                                      "x-goog-upload-status": "active"})  # fmt: skip

    def _upload_chunk(self, request: Request, upload_id: str, body: bytes) -> Response:
        final = {"x-goog-upload-status": "final"}
        session = self.uploads.get(upload_id)
        if session is None:
            raise HTTPFail(404, "unknown upload session", final)
        command = request.headers.get("x-goog-upload-command", "")
        commands = {c.strip() for c in command.split(",")}
        try:
            offset = int(request.headers.get("x-goog-upload-offset", ""))
        except ValueError:
            raise HTTPFail(400, "missing X-Goog-Upload-Offset", final) from None
        data: bytearray = session["data"]
        if offset != len(data):
            raise HTTPFail(400, f"offset {offset} != {len(data)} bytes received", final)
        if "upload" not in commands:
            raise HTTPFail(400, f"unsupported command {command!r}", final)
        data.extend(body)
        session["chunks"].append((offset, len(body), command))
        if self.settings.upload_missing_status_times > 0:
            self.settings.upload_missing_status_times -= 1
            del data[offset:]
            session["chunks"].pop()
            return Response(b"")
        if "finalize" not in commands:
            return Response(b"", headers={"x-goog-upload-status": "active"})
        if len(data) != session["total"]:
            raise HTTPFail(400, f"got {len(data)} bytes, announced {session['total']}", final)
        env_id, path = session["env"], session["path"]
        stamp = now()
        written: list[str] = []
        if session["extract"]:
            with tarfile.open(fileobj=io.BytesIO(bytes(data)), mode="r:*") as tar:
                for member in tar.getmembers():
                    if not member.isfile():
                        continue
                    fh = tar.extractfile(member)
                    assert fh is not None
                    target = f"{path}/{member.name}".strip("/") if path not in ("", ".") \
                        else member.name  # fmt: skip
                    self.env_files[env_id][target] = (fh.read(), "application/octet-stream", stamp)
                    written.append(target)
        else:
            self.env_files[env_id][path] = (bytes(data), session["mime"], stamp)
            written.append(path)
        del self.uploads[upload_id]
        return JSONResponse({"files": [self._file_entry(env_id, p) for p in written]},
                            headers=final)  # fmt: skip

    def _tar(self, env_id: str) -> Response:
        if env_id not in self.environments:
            raise HTTPFail(404, f"environment {env_id} not found")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for directory in sorted(self._dirs(env_id)):
                info = tarfile.TarInfo(directory)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            for path, (data, _, _) in sorted(self.env_files[env_id].items()):
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        return Response(buffer.getvalue(), media_type="application/x-tar")
