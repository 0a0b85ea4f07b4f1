"""Our client against the official google-genai SDK, on the same loopback server, in one run.

    .venv/bin/python benchmarks/client_vs_sdk.py [--round-trips 200] [--events 10000] [--repeat 5]

Workloads (each client runs each one ``--repeat`` times, interleaved; the best time counts):

* round trips: ``--round-trips`` sequential create + get pairs (unary JSON);
* stream: one streaming create whose reply is ``--events`` SSE events, parsed into typed
  events and iterated to the end.

The server is a minimal asyncio HTTP/1.1 server in a *separate process* (so it does not compete
with the clients for the GIL). Every reply is pre-rendered bytes, identical for both clients.
Targets: ours ≤ 0.8× the SDK's time for round trips, ≥ 2× its stream throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

MODEL = "gemini-3-flash-preview"

# -- the server ----------------------------------------------------------------------------


def _interaction(iid: str) -> bytes:
    return json.dumps(
        {
            "id": iid,
            "object": "interaction",
            "status": "completed",
            "model": MODEL,
            "created": "2026-11-02T10:00:00Z",
            "updated": "2026-11-02T10:00:01Z",
            "steps": [
                {"type": "user_input", "content": [{"type": "text", "text": "hello"}]},
                {"type": "thought", "signature": "c2lnbmF0dXJl"},
                {"type": "model_output", "content": [{"type": "text", "text": "Hi! " * 40}]},
            ],
            "usage": {
                "total_input_tokens": 11,
                "total_output_tokens": 90,
                "total_tokens": 101,
                "input_tokens_by_modality": [{"modality": "text", "tokens": 11}],
            },
        },
        separators=(",", ":"),
    ).encode()


def _stream_body(n_events: int) -> bytes:
    iid = "v1_stream"
    events: list[dict[str, Any]] = [
        {
            "event_type": "interaction.created",
            "interaction": {
                "id": iid,
                "object": "interaction",
                "status": "in_progress",
                "model": MODEL,
                "created": "2026-11-02T10:00:00Z",
            },
        },
        {"event_type": "step.start", "index": 1, "step": {"type": "model_output"}},
    ]
    for n in range(n_events - 5):
        events.append(
            {"event_type": "step.delta", "index": 1, "delta": {"type": "text", "text": f"tok{n} "}}
        )
    events += [
        {"event_type": "step.stop", "index": 1},
        {"event_type": "interaction.status_update", "interaction_id": iid, "status": "completed"},
        {
            "event_type": "interaction.completed",
            "interaction": {
                "id": iid,
                "object": "interaction",
                "status": "completed",
                "updated": "2026-11-02T10:00:02Z",
                "usage": {
                    "total_input_tokens": 3,
                    "total_output_tokens": n_events,
                    "total_tokens": n_events + 3,
                },
            },
        },
    ]
    parts = []
    for number, event in enumerate(events, start=1):
        event = {"event_type": event["event_type"], "event_id": str(number),
                 **{k: v for k, v in event.items() if k != "event_type"}}  # fmt: skip
        data = json.dumps(event, separators=(",", ":"))
        parts.append(f"event: {event['event_type']}\nid: {number}\ndata: {data}\n\n")
    parts.append("event: done\ndata: [DONE]\n\n")
    return "".join(parts).encode()


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _chunked(content_type: str, body: bytes, chunk: int = 16384) -> bytes:
    out = [
        f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\n"
        "transfer-encoding: chunked\r\n\r\n".encode()
    ]
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        out.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    out.append(b"0\r\n\r\n")
    return b"".join(out)


class _Http(asyncio.Protocol):
    """Just enough HTTP/1.1 (keep-alive, Content-Length bodies) for the benchmark."""

    def __init__(self, replies: dict[str, bytes]) -> None:
        self.replies = replies
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path, _ = head.split(" ", 2)
            assert self.transport is not None
            self.transport.write(self._reply(method, path, body))

    def _reply(self, method: str, path: str, body: bytes) -> bytes:
        if method == "POST" and path.endswith("/interactions"):
            if b'"stream":true' in body.replace(b" ", b""):
                return self.replies["stream"]
            return self.replies["create"]
        if method == "GET" and "/interactions/" in path:
            return self.replies["get"]
        return _response("404 Not Found", "application/json", b'{"error":{"code":"not_found"}}')


def serve(n_events: int) -> None:
    replies = {
        "create": _response("200 OK", "application/json", _interaction("v1_bench")),
        "get": _response("200 OK", "application/json", _interaction("v1_bench")),
        "stream": _chunked("text/event-stream", _stream_body(n_events)),
    }

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Http(replies), "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


# -- the clients ---------------------------------------------------------------------------


async def ours_round_trips(url: str, n: int) -> None:
    from workbench.client import Client

    async with Client(url, api_version="v1beta", api_key="bench-key") as client:
        for _ in range(n):
            made = await client.interactions.create({"model": MODEL, "input": "hello"})
            got = await client.interactions.get(made.id)
            assert got.status == "completed"


async def sdk_round_trips(url: str, n: int) -> None:
    from google import genai

    client = genai.Client(
        api_key="bench-key", http_options={"base_url": url, "api_version": "v1beta"}
    )
    try:
        for _ in range(n):
            made = await client.aio.interactions.create(model=MODEL, input="hello")
            got = await client.aio.interactions.get(made.id)
            assert got.status == "completed"
    finally:
        await client.aio.aclose()


async def ours_stream(url: str, n_events: int) -> None:
    from workbench.client import Client

    async with Client(url, api_version="v1beta", api_key="bench-key") as client:
        count = 0
        async with client.interactions.create_stream({"model": MODEL, "input": "hi"}) as stream:
            async for _event in stream:
                count += 1
        assert count == n_events, count


async def sdk_stream(url: str, n_events: int) -> None:
    from google import genai

    client = genai.Client(
        api_key="bench-key", http_options={"base_url": url, "api_version": "v1beta"}
    )
    try:
        count = 0
        stream = await client.aio.interactions.create(model=MODEL, input="hi", stream=True)
        async for _event in stream:
            count += 1
        assert count == n_events, count
    finally:
        await client.aio.aclose()


async def _timed(fn: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def run(url: str, round_trips: int, events: int, repeat: int) -> dict[str, float]:
    # Warm up both (imports, connection pools, pydantic schema builds).
    await ours_round_trips(url, 3)
    await sdk_round_trips(url, 3)
    await ours_stream(url, events)
    await sdk_stream(url, events)
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, fn in (
            ("ours_rt", lambda: ours_round_trips(url, round_trips)),
            ("sdk_rt", lambda: sdk_round_trips(url, round_trips)),
            ("ours_stream", lambda: ours_stream(url, events)),
            ("sdk_stream", lambda: sdk_stream(url, events)),
        ):
            elapsed = await _timed(fn)
            best[name] = min(best.get(name, elapsed), elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.events)
        return
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--events", str(args.events)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        best = asyncio.run(run(url, args.round_trips, args.events, args.repeat))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rt_ratio = best["ours_rt"] / best["sdk_rt"]
    ours_eps = args.events / best["ours_stream"]
    sdk_eps = args.events / best["sdk_stream"]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {args.repeat}")
    print(f"{args.round_trips} create+get round trips:")
    print(f"  ours {best['ours_rt']:.3f} s   sdk {best['sdk_rt']:.3f} s   "
          f"ours/sdk time = {rt_ratio:.2f}x  (target <= 0.80x)")  # fmt: skip
    print(f"stream of {args.events} events:")
    print(f"  ours {best['ours_stream']:.3f} s ({ours_eps:,.0f} ev/s)   "
          f"sdk {best['sdk_stream']:.3f} s ({sdk_eps:,.0f} ev/s)   "
          f"ours/sdk throughput = {ours_eps / sdk_eps:.2f}x  (target >= 2.00x)")  # fmt: skip


if __name__ == "__main__":
    main()
