"""Fault injection for reliability tests: bursts of 429/503 with ``Retry-After``.

Off unless ``--inject-overload SPEC`` (or ``WORKBENCH_ENGINE_INJECT_OVERLOAD``) is given.
``SPEC`` is a comma-separated burst, in order, with an optional wait: ``429:3,503:2@0.2``
means each request is first answered 429 three times, then 503 twice, each with
``Retry-After: 1`` and ``retry-after-ms: 200``; its next attempt goes through.

"The same request" is the same method, path, query and body (hashed). Every burst is answered
*before* the request reaches the routes — before any work starts — exactly as protocol.md
§10.4 requires of a real overloaded server (never a 429/503 once a create has begun).

In fault mode the engine also answers ``GET /_faults`` (behind the usual token check) with
counters: how many answers of each status were injected, how many distinct requests were
abandoned inside their burst (the client gave up), and how many times each create reached the
routes — the number a client must keep at one.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from .errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ENV_VAR = "WORKBENCH_ENGINE_INJECT_OVERLOAD"
COUNTERS_PATH = "/_faults"
DEFAULT_RETRY_AFTER = 0.2
_OVERLOAD_STATUSES = frozenset({429, 503})
_MESSAGES = {
    429: "injected overload: too many requests, retry after the given delay",
    503: "injected overload: the engine is busy, retry after the given delay",
}


class FaultSpecError(ValueError):
    """The ``--inject-overload`` value cannot be read; the message says why."""


@dataclass(frozen=True)
class OverloadPlan:
    """The statuses answered, in order, to each new request, and the wait they ask for."""

    burst: tuple[int, ...]
    retry_after: float = DEFAULT_RETRY_AFTER

    def headers(self) -> list[tuple[bytes, bytes]]:
        seconds = str(max(1, math.ceil(self.retry_after)))
        millis = str(round(self.retry_after * 1000))
        return [(b"retry-after", seconds.encode()), (b"retry-after-ms", millis.encode())]


def parse_overload(spec: str) -> OverloadPlan:
    """``"429:3,503:2@0.2"`` → three 429s, two 503s, 0.2 s ``Retry-After``."""
    text = spec.strip()
    retry_after = DEFAULT_RETRY_AFTER
    if "@" in text:
        text, _, wait = text.partition("@")
        try:
            retry_after = float(wait)
        except ValueError:
            raise FaultSpecError(f"the wait after '@' must be seconds, not {wait!r}") from None
        if not 0 <= retry_after <= 60:
            raise FaultSpecError("the wait after '@' must be between 0 and 60 seconds")
    burst: list[int] = []
    for part in text.split(","):
        status_text, sep, count_text = part.strip().partition(":")
        if not sep:
            raise FaultSpecError(f"{part.strip()!r} is not STATUS:COUNT (e.g. 429:3)")
        try:
            status, count = int(status_text), int(count_text)
        except ValueError:
            raise FaultSpecError(f"{part.strip()!r} is not STATUS:COUNT (e.g. 429:3)") from None
        if status not in _OVERLOAD_STATUSES:
            raise FaultSpecError(f"only 429 and 503 can be injected, not {status}")
        if not 0 <= count <= 20:
            raise FaultSpecError("a count must be between 0 and 20")
        burst += [status] * count
    if not burst:
        raise FaultSpecError("the burst is empty")
    return OverloadPlan(tuple(burst), retry_after)


def _is_create(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/interactions")


class OverloadMiddleware:
    """Pure ASGI: answers each new request's burst, counts what gets through."""

    def __init__(self, app: ASGIApp, plan: OverloadPlan) -> None:
        self.app = app
        self.plan = plan
        self._lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.through: set[str] = set()
        self.injected: Counter[int] = Counter()
        self.creates: Counter[str] = Counter()
        self.passed = 0

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "burst": list(self.plan.burst),
                "retry_after": self.plan.retry_after,
                "injected": {str(k): v for k, v in sorted(self.injected.items())},
                "passed": self.passed,
                "requests": len(self.attempts),
                "abandoned": len(self.attempts.keys() - self.through),
                "creates": len(self.creates),
                "max_create_count": max(self.creates.values(), default=0),
            }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        path = str(scope.get("path", ""))
        if path == COUNTERS_PATH and method == "GET":
            await _send_json(send, 200, self.counters(), [])
            return
        body, receive = await _buffer(receive)
        digest = hashlib.sha256()
        for piece in (method.encode(), path.encode(), bytes(scope.get("query_string", b""))):
            digest.update(piece + b"\0")
        digest.update(body)
        key = digest.hexdigest()
        with self._lock:
            attempt = self.attempts[key]
            self.attempts[key] += 1
            status = self.plan.burst[attempt] if attempt < len(self.plan.burst) else None
            if status is not None:
                self.injected[status] += 1
            else:
                self.passed += 1
                self.through.add(key)
                if _is_create(method, path):
                    self.creates[key] += 1
        if status is not None:
            await _send_json(
                send, status, error_body(status, _MESSAGES[status]), self.plan.headers()
            )
            return
        await self.app(scope, receive, send)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; return it and a ``receive`` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            # A disconnect before the body was complete: let the app see it.
            pending: list[Message] = [message]
            break
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            pending = []
            break
    body = b"".join(chunks)
    replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    replay += pending

    async def replayed() -> Message:
        if replay:
            return replay.pop(0)
        return await receive()

    return body, replayed


async def _send_json(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def install_overload(app: Any, plan: OverloadPlan) -> None:
    """Add the middleware *inside* the app's others, so the token and Host checks still
    come first (and guard ``/_faults``). Call before the app serves its first request."""
    from starlette.middleware import Middleware

    app.user_middleware.append(Middleware(OverloadMiddleware, plan=plan))
