"""Resume and continuation logic against scripted transports (no sockets)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from workbench.client import APIConnectionError, Client, ResumePolicy
from workbench.client.continuation import HopTracker
from workbench.protocol import ErrorEvent, InteractionCompletedEvent


def block(event: dict[str, Any]) -> bytes:
    return f"event: {event['event_type']}\ndata: {json.dumps(event)}\n\n".encode()


EVENTS = [
    {"event_type": "interaction.created", "event_id": "1",
     "interaction": {"id": "v1_x", "status": "in_progress"}},
    {"event_type": "step.start", "event_id": "2", "index": 1, "step": {"type": "model_output"}},
    {"event_type": "step.delta", "event_id": "3", "index": 1, "delta": {"type": "text", "text": "a"}},
    {"event_type": "step.delta", "event_id": "4", "index": 1, "delta": {"type": "text", "text": "b"}},
    {"event_type": "error", "event_id": "5", "error": {"code": "gateway_timeout", "message": "slow"}},
    {"event_type": "step.stop", "event_id": "6", "index": 1},
    {"event_type": "interaction.completed", "event_id": "7",
     "interaction": {"id": "v1_x", "status": "failed"}},
]  # fmt: skip
FULL = b"".join(block(e) for e in EVENTS) + b"data: [DONE]\n\n"


class Broken(httpx.AsyncByteStream):
    """Yields ``data`` in small pieces, then fails like a cut connection (unless ``cut`` None)."""

    def __init__(self, data: bytes, cut: int | None) -> None:
        self.data = data if cut is None else data[:cut]
        self.cut = cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), 7):
            yield self.data[start : start + 7]
        if self.cut is not None:
            raise httpx.ReadError("connection reset by peer")

    async def aclose(self) -> None:
        return None


def sse(data: bytes, cut: int | None = None) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Broken(data, cut)
    )


async def test_duplicates_from_a_sloppy_server_are_dropped() -> None:
    """A server that ignores last_event_id and replays everything: each event still once."""
    cut = FULL.index(b'"event_id": "4"') + 5  # in the middle of event 4
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return sse(FULL, cut) if request.method == "POST" else sse(FULL)

    async with Client(
        "http://h",
        transport=httpx.MockTransport(handler),
        resume=ResumePolicy(initial_delay=0),
    ) as client:
        items = await client.interactions.create_stream({"model": "m", "input": "x"}).collect()
    assert [getattr(i, "event_id", None) for i in items] == [str(n) for n in range(1, 8)]
    assert [r.method for r in calls] == ["POST", "GET"]
    assert calls[1].url.params["last_event_id"] == "3"
    assert isinstance(items[4], ErrorEvent) and items[4].error is not None
    assert items[4].error.code == "gateway_timeout"  # shown, not raised
    assert isinstance(items[-1], InteractionCompletedEvent)


async def test_drop_before_any_event_is_not_resent() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return sse(FULL, 5)

    async with Client("http://h", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(APIConnectionError, match="not re-sent"):
            await client.interactions.create_stream({"model": "m", "input": "x"}).collect()
    assert calls == ["POST"]


async def test_eof_without_terminal_event_is_a_drop() -> None:
    """A clean EOF before interaction.completed/[DONE] is resumed, not taken as the end."""
    cut_at = FULL.index(b"event: step.stop")
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.method == "POST":
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=FULL[:cut_at]
            )
        return sse(FULL[cut_at:])

    async with Client(
        "http://h", transport=httpx.MockTransport(handler), resume=ResumePolicy(initial_delay=0)
    ) as client:
        items = await client.interactions.create_stream({"model": "m", "input": "x"}).collect()
    assert len(items) == 7
    assert calls[1].url.params["last_event_id"] == "5"


def test_hop_tracker_rules() -> None:
    tracker = HopTracker()
    tracker.observe({"event_type": "interaction.created", "interaction": {"id": "h1",
                     "status": "in_progress"}})  # fmt: skip
    tracker.observe({"event_type": "interaction.status_update", "status": "in_progress",
                     "continuation_token": "mid"})  # fmt: skip
    assert tracker.token == "mid"
    tracker.observe({"event_type": "interaction.completed", "interaction": {"id": "h1",
                     "status": "completed"}})  # fmt: skip
    assert tracker.token is None and tracker.status == "completed"  # completed clears it
    tracker.observe({"event_type": "error", "error": {}})
    assert tracker.errored
