"""Server-Sent Events framing (protocol.md §6.2) and a streaming ASGI response.

Each event is written as::

    event: <event_type>
    id: <event_id>
    data: <the exact compact JSON, which itself carries event_type and event_id>

followed by a blank line, and flushed on its own. ``: keep-alive`` comments go out whenever
the stream has been idle for the keep-alive interval, and the stream always ends with
``event: done`` / ``data: [DONE]``.

``SSEResponse`` watches the connection while it streams, so a client that goes away is noticed
at once (not only at the next write); the ``on_disconnect`` callback then runs, which is how a
foreground run gets cancelled (protocol.md §7.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import Response

from .attach import CUT_TAIL, StreamCut
from .eventlog import LoggedEvent
from .security import Receive, Scope, Send

log = logging.getLogger("workbench.engine.sse")

KEEPALIVE = b": keep-alive\n\n"
DONE = b"event: done\ndata: [DONE]\n\n"

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def frame(event: LoggedEvent) -> bytes:
    """One SSE block for a logged event."""
    return f"event: {event.event_type}\nid: {event.seq}\ndata: {event.data}\n\n".encode()


class SSEResponse(Response):
    """Streams logged events as SSE, with keep-alives, ``[DONE]`` and disconnect detection.

    Args:
        events: the events to send; the stream ends (with ``[DONE]``) when it is exhausted.
        keepalive_seconds: idle interval after which a keep-alive comment is written.
        on_disconnect: awaited once if the client goes away before the stream ends.
    """

    def __init__(
        self,
        events: AsyncIterator[LoggedEvent],
        *,
        keepalive_seconds: float,
        on_disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(status_code=200, media_type="text/event-stream")
        self.events = events
        self.keepalive_seconds = keepalive_seconds
        self.on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return

        watcher = asyncio.create_task(watch())
        completed = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            completed = await self._pump(send, disconnected)
        except OSError:
            completed = False
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            aclose: Any = getattr(self.events, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
            if not completed and self.on_disconnect is not None:
                try:
                    await asyncio.shield(self.on_disconnect())
                except Exception:
                    log.exception("on_disconnect failed")

    async def _pump(self, send: Send, disconnected: asyncio.Event) -> bool:
        """Send everything; True when the stream reached its end, False on a disconnect."""
        iterator = self.events.__aiter__()
        gone = asyncio.create_task(disconnected.wait())
        try:
            while True:
                step = asyncio.ensure_future(iterator.__anext__())
                try:
                    while True:
                        done, _ = await asyncio.wait(
                            {step, gone},
                            timeout=self.keepalive_seconds,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                        if gone in done:
                            step.cancel()
                            with contextlib.suppress(BaseException):
                                await step
                            return False
                        if step in done:
                            break
                        await send(
                            {"type": "http.response.body", "body": KEEPALIVE, "more_body": True}
                        )
                except BaseException:
                    step.cancel()
                    with contextlib.suppress(BaseException):
                        await step
                    raise
                try:
                    event = step.result()
                except StopAsyncIteration:
                    break
                except StreamCut:
                    await send({"type": "http.response.body", "body": CUT_TAIL, "more_body": False})
                    return False
                await send({"type": "http.response.body", "body": frame(event), "more_body": True})
            await send({"type": "http.response.body", "body": DONE, "more_body": False})
            return True
        finally:
            gone.cancel()
