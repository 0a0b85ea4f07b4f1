"""Exposure rules, as one pure ASGI middleware (no buffering of responses, so SSE still flows).

In order, for every HTTP request:

1. strip the configured mount prefix (``--path-prefix``), if any;
2. refuse (403) a ``Host`` or ``Origin`` that is not loopback — this defeats DNS rebinding
   and cross-site requests from web pages;
3. answer CORS preflights for loopback origins (protocol.md §1.7) and add CORS headers to the
   responses of requests that carry an ``Origin``;
4. check the token (``x-goog-api-key``, ``Authorization: Bearer`` or ``?key=``) unless auth is
   off, answering 401 otherwise;
5. refuse bodies over the limit with 413, both by ``Content-Length`` and by counting the bytes
   actually received.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ALLOWED_HEADERS = (
    "content-type, x-goog-api-key, x-goog-api-client, authorization, x-goog-user-project, "
    "x-server-timeout, api-revision, last-event-id, x-goog-upload-protocol, "
    "x-goog-upload-command, x-goog-upload-offset, x-goog-upload-header-content-length, "
    "x-goog-upload-header-content-type"
)
EXPOSED_HEADERS = "x-goog-upload-url, x-goog-upload-status, retry-after"
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"

UNAUTHENTICATED_PATHS = frozenset({"/openapi.json"})
"""Paths served without a token (the OpenAPI document describes no secrets)."""


def is_upload_session(scope: Scope) -> bool:
    """A chunk sent to a Files API session URL (``/upload/{v}/files?upload_id=…``).

    Like Google's upload servers, the engine takes the session id (24 random bytes, handed
    out only to an authenticated ``start``) as the credential: the official SDK sends the
    chunks without the API key. The route answers 404 for an unknown id.
    """
    path: str = scope.get("path", "")
    if not (path.startswith("/upload/") and path.endswith("/files")):
        return False
    return "upload_id" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (a ``:port`` suffix is allowed)."""
    host = host.strip()
    if not host:
        return False
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return False
        name = host[1:end]
        rest = host[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return False
    else:
        name, sep, port = host.rpartition(":")
        if not sep:
            name = host
        elif not port.isdigit() or ":" in name:
            return False
    name = name.lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_loopback_origin(origin: str) -> bool:
    """True when a browser ``Origin`` names an http(s) page served from loopback."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return is_loopback_host(parts.netloc)


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = value if name not in out else out[name] + "," + value
    return out


def _request_token(scope: Scope, headers: dict[str, str]) -> str | None:
    key = headers.get("x-goog-api-key")
    if key:
        return key.strip()
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    query = scope.get("query_string", b"").decode("latin-1")
    keys = parse_qs(query).get("key")
    return keys[0] if keys else None


class SecurityMiddleware:
    """Host/Origin/CORS/auth/body-limit checks in front of the application."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        auth: bool,
        max_body_bytes: int,
        path_prefix: str = "",
    ) -> None:
        self.app = app
        self.token = token
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        self.path_prefix = path_prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.path_prefix:
            path: str = scope.get("path", "")
            if path == self.path_prefix or path.startswith(self.path_prefix + "/"):
                scope = dict(scope)
                scope["path"] = path[len(self.path_prefix) :] or "/"
                scope["root_path"] = scope.get("root_path", "") + self.path_prefix
        headers = _headers(scope)
        host = headers.get("host")
        if host is not None and not is_loopback_host(host):
            await _send_json(send, 403, error_body(403, "the engine only answers loopback hosts"))
            return
        origin = headers.get("origin")
        if origin is not None and not is_loopback_origin(origin):
            await _send_json(send, 403, error_body(403, "cross-origin requests are refused"))
            return
        cors: list[tuple[bytes, bytes]] = []
        if origin is not None:
            cors = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                (b"vary", b"Origin"),
            ]
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await _send_preflight(send, cors)
                return
        send = _with_headers(send, cors) if cors else send
        if (
            self.auth
            and scope["path"] not in UNAUTHENTICATED_PATHS
            and not self._token_ok(_request_token(scope, headers))
            and not is_upload_session(scope)
        ):
            body = error_body(401, "missing or invalid API key")
            await _send_json(send, 401, body, [(b"www-authenticate", b"Bearer")])
            return
        if scope["method"] in _BODY_METHODS:
            length = headers.get("content-length", "").strip()
            if length.isdigit() and int(length) > self.max_body_bytes:
                await self._send_too_large(send)
                return
            buffered = await self._read_body(receive)
            if buffered is None:
                await self._send_too_large(send)
                return
            receive = _replay(buffered, receive)
        await self.app(scope, receive, send)

    def _token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it exceeds the limit (or the client went away)."""
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_body_bytes:
                return None
            chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _send_too_large(self, send: Send) -> None:
        message = (
            f"request body exceeds the limit of {self.max_body_bytes} bytes; send large media "
            "through the Files API (POST /upload/v1beta/files) and refer to it by its uri"
        )
        await _send_json(send, 413, error_body(413, message), [(b"connection", b"close")])


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that yields the buffered body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = list(message.get("headers", [])) + extra
        await send(message)

    return wrapped


async def _send_preflight(send: Send, cors: list[tuple[bytes, bytes]]) -> None:
    headers = [
        *cors,
        (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
        (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
        (b"access-control-max-age", b"600"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _send_json(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
