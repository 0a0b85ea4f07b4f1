"""The ``openai`` backend against a tiny scripted HTTP server on 127.0.0.1.

Only for what a real server cannot be made to do on demand: refused connections, 401/404,
garbage, dropped connections, odd tool-call deltas. The real thing is tested in
``test_openai_real.py``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from workbench.engine.backends.base import (
    BackendError,
    Chunk,
    FinishChunk,
    FunctionSpec,
    GenerationRequest,
    Message,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from workbench.engine.backends.openai_compat import OpenAICompatBackend


@dataclass
class Reply:
    """What the scripted server sends: a status, headers and body pieces (with pauses)."""

    status: int = 200
    body: list[bytes] = field(default_factory=list)
    content_type: str = "text/event-stream"
    drop: bool = False  # close the socket before the body is complete
    pause: float = 0.0  # seconds between body pieces
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Script = Callable[[Seen], Reply]


def sse(*events: Any, done: bool = True) -> list[bytes]:
    out = [f"data: {json.dumps(e) if not isinstance(e, str) else e}\n\n".encode() for e in events]
    if done:
        out.append(b"data: [DONE]\n\n")
    return out


def delta(**fields: Any) -> dict[str, Any]:
    finish = fields.pop("finish_reason", None)
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": finish}]}


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        head = self.rfile.readline().decode().split()
        if len(head) < 2:
            return
        headers: dict[str, str] = {}
        while (line := self.rfile.readline().decode().strip()) != "":
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        raw = self.rfile.read(int(headers.get("content-length", "0") or 0))
        seen = Seen(head[0], head[1], headers, json.loads(raw) if raw else None)
        self.server.seen.append(seen)
        reply = self.server.script(seen)
        lines = [f"HTTP/1.1 {reply.status} X", f"Content-Type: {reply.content_type}"]
        lines += [f"{k}: {v}" for k, v in reply.headers.items()]
        lines += ["Transfer-Encoding: chunked", "Connection: close", "", ""]
        self.wfile.write("\r\n".join(lines).encode())
        for piece in reply.body:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            if reply.pause:
                time.sleep(reply.pause)
        if reply.drop:
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (cancel tests) is expected

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.seen: list[Seen] = []


@pytest.fixture
def serve() -> Iterator[Callable[[Script], tuple[str, list[Seen]]]]:
    servers: list[_Server] = []

    def start(script: Script) -> tuple[str, list[Seen]]:
        server = _Server(script)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1", server.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def ask(text: str = "hi", **kwargs: Any) -> GenerationRequest:
    return GenerationRequest(messages=(Message("user", text),), model="m", **kwargs)


async def run(backend: OpenAICompatBackend, request: GenerationRequest) -> list[Chunk]:
    try:
        return [c async for c in backend.generate(request, asyncio.Event())]
    finally:
        await backend.close()


WEATHER = FunctionSpec(
    "get_weather", "", {"type": "object", "properties": {"city": {"type": "string"}}}
)
TIME = FunctionSpec("get_time", "", {"type": "object"})


async def test_text_stream_with_usage(serve):
    url, seen = serve(
        lambda s: Reply(
            body=sse(
                delta(role="assistant"),
                delta(content="Hel"),
                delta(content="lo", finish_reason="stop"),
                {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}},
            )
        )
    )
    backend = OpenAICompatBackend(url, api_key="sk-test")
    chunks = await run(backend, ask(temperature=0.2, max_output_tokens=9, stop=("x",), seed=3))
    assert chunks == [
        TextChunk("Hel"),
        TextChunk("lo"),
        UsageChunk(7, 2),
        FinishChunk("stop"),
    ]
    body = seen[0].body
    assert seen[0].path == "/v1/chat/completions"
    assert seen[0].headers["authorization"] == "Bearer sk-test"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"], body["stop"], body["seed"]) == (
        9,
        0.2,
        ["x"],
        3,
    )
    assert "tools" not in body


async def test_tool_call_deltas_are_accumulated_per_index(serve):
    url, _ = serve(
        lambda s: Reply(
            body=sse(
                delta(tool_calls=[{"index": 0, "id": "a", "function": {"name": "get_weather"}}]),
                delta(tool_calls=[{"index": 0, "function": {"arguments": '{"ci'}}]),
                delta(tool_calls=[{"index": 1, "function": {"name": "get_time", "arguments": ""}}]),
                delta(tool_calls=[{"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}]),
                delta(finish_reason="tool_calls"),
            )
        )
    )
    chunks = await run(OpenAICompatBackend(url), ask(functions=(WEATHER, TIME)))
    assert chunks[:2] == [
        ToolCallChunk("get_weather", {"city": "Oslo"}),
        ToolCallChunk("get_time", {}),
    ]
    assert isinstance(chunks[2], UsageChunk)  # estimated: this server sent none
    assert chunks[3] == FinishChunk("tool_calls")


async def test_tool_call_in_text_is_parsed(serve):
    text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>'
    url, _ = serve(lambda s: Reply(body=sse(delta(content=text[:20]), delta(content=text[20:]))))
    chunks = await run(OpenAICompatBackend(url), ask(functions=(WEATHER,)))
    assert chunks[0] == ToolCallChunk("get_weather", {"city": "Rome"})
    assert chunks[-1] == FinishChunk("tool_calls")


async def test_unparsable_arguments_are_a_plain_error(serve):
    url, _ = serve(
        lambda s: Reply(
            body=sse(delta(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": "{"}}]))
        )
    )
    with pytest.raises(BackendError, match="not valid JSON") as info:
        await run(OpenAICompatBackend(url), ask(functions=(WEATHER,)))
    assert info.value.code == "internal"


@pytest.mark.parametrize(
    ("functions", "choice", "allowed", "expected"),
    [
        ((WEATHER, TIME), "any", None, "required"),
        (
            (WEATHER, TIME),
            "any",
            ("get_time",),
            {"type": "function", "function": {"name": "get_time"}},
        ),
        ((WEATHER, TIME), "auto", None, "auto"),
        ((WEATHER, TIME), "none", None, None),
    ],
)
async def test_tool_choice_mapping(serve, functions, choice, allowed, expected):
    url, seen = serve(
        lambda s: Reply(
            body=sse(delta(tool_calls=[{"index": 0, "function": {"name": "get_time"}}]))
        )
    )
    request = ask(functions=functions, tool_choice=choice, allowed_functions=allowed)
    await run(OpenAICompatBackend(url), request)
    body = seen[0].body
    assert body.get("tool_choice") == expected
    if expected is None:
        assert "tools" not in body
    else:
        names = [t["function"]["name"] for t in body["tools"]]
        assert names == (list(allowed) if allowed else ["get_weather", "get_time"])


async def test_forced_call_that_never_comes_is_an_error(serve):
    url, _ = serve(lambda s: Reply(body=sse(delta(content="I will not."))))
    with pytest.raises(BackendError, match="without calling a function"):
        await run(OpenAICompatBackend(url), ask(functions=(WEATHER, TIME), tool_choice="any"))


async def test_json_schema_falls_back_to_json_object_schema(serve):
    schema = {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}

    def script(s: Seen) -> Reply:
        if s.body["response_format"]["type"] == "json_schema":
            error = {"error": {"message": "response_format.type: 'text' or 'json_object'"}}
            return Reply(status=422, body=[json.dumps(error).encode()], content_type="x/json")
        return Reply(body=sse(delta(content='{"a": 1}')))

    url, seen = serve(script)
    backend = OpenAICompatBackend(url)
    chunks = await run(backend, ask(response_schema=schema))
    assert chunks[0] == TextChunk('{"a": 1}')
    assert seen[0].body["response_format"]["json_schema"]["schema"]["type"] == "object"
    assert seen[1].body["response_format"] == {
        "type": "json_object",
        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
    }


async def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(BackendError, match="Cannot connect") as info:
        await backend.load()
    assert info.value.code == "unavailable"
    with pytest.raises(BackendError, match="Cannot connect"):
        await run(backend, ask())


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, "unauthenticated", "refused the API key"),
        (404, "not_found", "no model 'm'"),
        (429, "resource_exhausted", "busy"),
        (400, "invalid_request", "rejected"),
        (500, "internal", "failed"),
    ],
)
async def test_http_errors(serve, status: int, code: str, words: str):
    body = json.dumps({"error": {"message": "server says no"}}).encode()
    url, _ = serve(lambda s: Reply(status=status, body=[body], content_type="application/json"))
    with pytest.raises(BackendError) as info:
        await run(OpenAICompatBackend(url), ask())
    assert info.value.code == code
    assert words in str(info.value)
    assert "server says no" in str(info.value)


async def test_garbage_event_data(serve):
    url, _ = serve(lambda s: Reply(body=sse("<html>oops</html>")))
    with pytest.raises(BackendError, match="not JSON") as info:
        await run(OpenAICompatBackend(url), ask())
    assert info.value.code == "internal"


async def test_not_an_event_stream(serve):
    url, _ = serve(lambda s: Reply(body=[b'{"choices": []}'], content_type="application/json"))
    with pytest.raises(BackendError, match="not an event stream"):
        await run(OpenAICompatBackend(url), ask())


async def test_dropped_connection_mid_answer(serve):
    url, _ = serve(lambda s: Reply(body=sse(delta(content="Hel"), done=False), drop=True))
    backend = OpenAICompatBackend(url)
    seen: list[Chunk] = []

    async def consume() -> None:
        async for chunk in backend.generate(ask(), asyncio.Event()):
            seen.append(chunk)

    with pytest.raises(BackendError) as info:
        await consume()
    await backend.close()
    assert seen == [TextChunk("Hel")]
    assert info.value.code == "unavailable"


async def test_redirects_are_not_followed(serve):
    url, seen = serve(
        lambda s: Reply(status=307, headers={"Location": "http://127.0.0.2:9/v1/x"}, body=[b"."])
    )
    with pytest.raises(BackendError):
        await run(OpenAICompatBackend(url), ask())
    assert len(seen) == 1


async def test_cancel_stops_within_one_read(serve):
    pieces = sse(*[delta(content=f"w{i} ") for i in range(100)])
    url, _ = serve(lambda s: Reply(body=pieces, pause=0.05))
    backend = OpenAICompatBackend(url)
    cancel = asyncio.Event()
    got: list[Chunk] = []
    async for chunk in backend.generate(ask(), cancel):
        got.append(chunk)
        if len(got) == 3:
            cancel.set()
            started = time.perf_counter()
    await backend.close()
    assert time.perf_counter() - started < 0.2
    assert len(got) == 3
    assert not any(isinstance(c, FinishChunk) for c in got)


async def test_models_and_load(serve):
    url, _ = serve(
        lambda s: Reply(
            body=[json.dumps({"data": [{"id": "a"}, {"id": "b"}]}).encode()],
            content_type="application/json",
        )
    )
    backend = OpenAICompatBackend(url, model="b")
    await backend.load()
    assert [m.id for m in backend.models()] == ["b", "a"]
    await backend.close()
    garbage, _ = serve(lambda s: Reply(body=[b"[1]"], content_type="application/json"))
    with pytest.raises(BackendError, match="not an OpenAI model list"):
        await OpenAICompatBackend(garbage).load()


def test_bad_base_url():
    with pytest.raises(BackendError, match="not an http"):
        OpenAICompatBackend("ftp://example")
