"""Server-sent events into JSON objects (protocol.md §6.2).

The SSE grammar is httpx-sse's (its line and event decoders), driven directly from
``response.aiter_text()`` so each event costs one async step rather than one per line.
Comment lines are ignored, blocks without ``data`` are skipped, the ``event:`` and ``id:``
lines are not used (the kind and id live in the JSON), ``data: [DONE]`` ends the stream and
so does EOF. A ``data`` payload that is not a JSON object is a
:class:`~workbench.client.errors.ProtocolViolationError`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from .errors import ProtocolViolationError

DONE = "[DONE]"
_loads = json.loads


def is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "").lower()


def is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "").lower()


class SSEReader:
    """Reads one SSE response. After iteration, ``saw_done`` tells ``[DONE]`` from EOF."""

    __slots__ = ("_response", "saw_done")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.saw_done = False

    async def events(self) -> AsyncGenerator[dict[str, Any], None]:
        line_decoder = SSELineDecoder()
        decoder = SSEDecoder()
        first = True
        async for text in self._response.aiter_text():
            if first:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
                    if not text:
                        continue
            for line in line_decoder.decode(text):
                sse = decoder.decode(line)
                if sse is None:
                    continue
                data = sse.data
                if not data:
                    continue
                if data == DONE:
                    self.saw_done = True
                    return
                yield _decode(data)
        # A block cut off by EOF (no blank line after it) is incomplete: drop it.


def _decode(data: str) -> dict[str, Any]:
    try:
        value = _loads(data)
    except ValueError:
        raise ProtocolViolationError(
            f"The stream carried a data line that is not JSON: {data[:80]!r}"
        ) from None
    if not isinstance(value, dict):
        raise ProtocolViolationError(
            f"The stream carried a data line that is not a JSON object: {data[:80]!r}"
        )
    return value
