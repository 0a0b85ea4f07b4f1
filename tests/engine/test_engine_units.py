"""Unit tests of the engine's parts, without a server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import create, sse_events

from workbench.engine.backends.base import (
    FinishChunk,
    FunctionSpec,
    GenerationRequest,
    Message,
    TextChunk,
    ToolCall,
    ToolCallChunk,
)
from workbench.engine.backends.scripted import ScriptedBackend, sample_for_schema
from workbench.engine.convert import OutputAssembler, fold_events, to_messages
from workbench.engine.eventlog import EventLog, serialize_event
from workbench.engine.migrations import SCHEMA_VERSION
from workbench.engine.security import is_loopback_host, is_loopback_origin
from workbench.engine.status import LEGAL, TERMINAL, now
from workbench.engine.store import InteractionRecord, Store
from workbench.protocol import parse_event, parse_interaction


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.0.0.1:8080", True),
        ("127.255.1.2", True),
        ("localhost", True),
        ("LOCALHOST:1", True),
        ("[::1]", True),
        ("[::1]:80", True),
        ("::1", False),
        ("0.0.0.0", False),
        ("192.168.1.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("127.0.0.1:abc", False),
        ("", False),
        ("[::1]x", False),
        ("[fe80::1]:80", False),
    ],
)
def test_loopback_hosts(host: str, ok: bool) -> None:
    assert is_loopback_host(host) is ok


def test_loopback_origins() -> None:
    assert is_loopback_origin("http://localhost:5173")
    assert is_loopback_origin("https://127.0.0.1")
    assert not is_loopback_origin("null")
    assert not is_loopback_origin("file://")
    assert not is_loopback_origin("http://evil.com")


def _req(text: str, **kwargs: Any) -> GenerationRequest:
    return GenerationRequest(
        messages=(Message(role="user", text=text),), model="scripted", **kwargs
    )


async def _collect(req: GenerationRequest, cancel: asyncio.Event | None = None) -> list[Any]:
    backend = ScriptedBackend()
    return [c async for c in backend.generate(req, cancel or asyncio.Event())]


async def test_scripted_echo_and_directives() -> None:
    chunks = await _collect(_req("hello  world"))
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == "hello  world"
    assert chunks[-1] == FinishChunk("stop")
    chunks = await _collect(_req('[[call f {"x": 1}]]', functions=(FunctionSpec("f"),)))
    assert ToolCallChunk("f", {"x": 1}) in chunks and chunks[-1] == FinishChunk("tool_calls")


async def test_scripted_tool_rules() -> None:
    funcs = (
        FunctionSpec("a"),
        FunctionSpec("b", parameters={"type": "object", "properties": {"n": {"type": "integer"}}}),
    )
    none = await _collect(_req("[[call a]] [[text: t]]", functions=funcs, tool_choice="none"))
    assert not any(isinstance(c, ToolCallChunk) for c in none)
    forced = await _collect(
        _req("hi", functions=funcs, tool_choice="any", allowed_functions=("b",))
    )
    assert ToolCallChunk("b", {"n": 0}) in forced


async def test_scripted_limits_and_continuation() -> None:
    capped = await _collect(_req("[[tokens: 9]]", max_output_tokens=2))
    assert [c.text for c in capped if isinstance(c, TextChunk)] == ["t0 ", "t1 "]
    assert capped[-1] == FinishChunk("length")
    resumed = GenerationRequest(
        messages=(
            Message(role="user", text="[[tokens: 4]]"),
            Message(role="assistant", text="t0 t"),
        ),
        model="scripted",
    )
    rest = await _collect(resumed)
    assert "".join(c.text for c in rest if isinstance(c, TextChunk)) == "1 t2 t3 "


async def test_scripted_delay_is_cancel_aware() -> None:
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, cancel.set)
    t0 = loop.time()
    chunks = await _collect(_req("[[delay: 30]] [[text: never]]"), cancel)
    assert loop.time() - t0 < 2
    assert not any(isinstance(c, TextChunk) for c in chunks)


def test_sample_for_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"enum": ["x", "y"]}},
            "b": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "c": {"type": ["null", "boolean"]},
        },
    }
    assert sample_for_schema(schema) == {"a": ["x"], "b": 0.0, "c": True}


def test_to_messages_merges_and_fills_results() -> None:
    from workbench.engine.backends.base import ModelInfo

    info = ModelInfo(id="m", display_name="m")
    steps = [
        {"type": "user_input", "content": [{"type": "text", "text": "q"}]},
        {"type": "thought", "signature": "x"},
        {"type": "model_output", "content": [{"type": "text", "text": "Let me check."}]},
        {"type": "function_call", "id": "c1", "name": "f", "arguments": {"a": 1}},
        {"type": "function_call", "id": "c2", "name": "g", "arguments": {}},
        {"type": "function_result", "call_id": "c1", "name": "f", "result": {"ok": True}},
        {"type": "user_input", "content": [{"type": "text", "text": "next"}]},
    ]
    messages = to_messages(steps, model=info)
    assert [m.role for m in messages] == ["user", "assistant", "tool", "tool", "user"]
    assert messages[1].text == "Let me check."
    assert messages[1].tool_calls == (ToolCall("c1", "f", {"a": 1}), ToolCall("c2", "g", {}))
    assert messages[2].text == '{"ok": true}' and messages[2].tool_call_id == "c1"
    assert messages[3].tool_call_id == "c2" and "no result" in messages[3].text


def test_assembler_events_fold_to_its_steps() -> None:
    events: list[dict[str, Any]] = []
    out = OutputAssembler(2, events.append)
    out.thought("hm ")
    out.thought("ok")
    out.text("Hello ")
    out.text("world")
    out.call("f", {"city": "Mountain View", "n": [1, 2, 3]})
    out.text("after")
    out.close()
    folded, open_index = fold_events(events)
    assert open_index is None
    assert [folded[i] for i in sorted(folded)] == out.steps
    assert sorted(folded) == [2, 3, 4, 5]


def test_serialized_events_put_type_and_id_first() -> None:
    event = serialize_event(7, {"index": 1, "event_type": "step.stop", "event_id": "zz"})
    assert event.data == '{"event_type":"step.stop","event_id":"7","index":1}'


def test_status_machine_table() -> None:
    assert LEGAL[None] == {"queued", "in_progress"}
    assert LEGAL["queued"] == {"in_progress", "cancelled", "failed"}
    assert LEGAL["in_progress"] == TERMINAL
    for status in TERMINAL:
        assert status not in LEGAL


def test_timestamps_strictly_increase() -> None:
    stamps = [now() for _ in range(200)]
    assert stamps == sorted(set(stamps))
    assert all(s.endswith("Z") for s in stamps)


async def test_store_and_event_log(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    await store.open()
    rec = InteractionRecord(
        id="v1_a",
        status="in_progress",
        created="t",
        updated="t",
        resource={"id": "v1_a"},
        input_steps=[{"type": "user_input", "content": []}],
        request_input="hi",
        has_request_input=True,
    )
    await store.insert_interaction(rec)
    log = EventLog(store)
    channel = log.open("v1_a", persist=True)
    for i in range(5):
        log.emit(
            channel,
            {"event_type": "step.delta", "index": 1, "delta": {"type": "text", "text": str(i)}},
        )
    live = [e.seq async for e in _take(channel.follow(2), 3)]
    assert live == [3, 4, 5]
    await log.finish(channel)
    assert "v1_a" not in log.channels
    stored = [e async for e in log.follow("v1_a", 3)]
    assert [e.seq for e in stored] == [4, 5]
    assert stored[0].data == channel.events[3].data
    assert await log.last_seq("v1_a") == 5  # from the store: the channel is gone
    assert await log.last_seq("v1_unknown") == 0
    got = await store.get_interaction("v1_a")
    assert got is not None and got.request_input == "hi" and got.steps == rec.input_steps
    assert [r.id for r in await store.unfinished_interactions()] == ["v1_a"]
    assert await store.delete_interaction("v1_a")
    assert not await store.delete_interaction("v1_a")
    assert await store.events_after("v1_a", 0) == []
    await store.close()
    conn = sqlite3.connect(tmp_path / "e.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"interactions", "events", "agents"} <= tables
    assert "environments" not in tables  # environment metadata lives next to each sandbox
    conn.close()
    reopened = Store(tmp_path / "e.db")
    await reopened.open()  # migrations are idempotent
    await reopened.close()


async def _take(iterator: Any, n: int) -> Any:
    count = 0
    async for item in iterator:
        yield item
        count += 1
        if count == n:
            return


@pytest.mark.parametrize(
    "text",
    [
        '[[thought: a]] [[text: b]] [[call f {"k": "v"}]]',
        "[[text: partial]] [[error: it broke]]",
        "[[json]]",
    ],
)
def test_wire_output_matches_the_protocol_models(http: httpx.Client, text: str) -> None:
    body = {
        "model": "scripted",
        "stream": True,
        "tools": [{"type": "function", "name": "f"}],
        "input": text,
        "generation_config": {"max_output_tokens": 50, "stop_sequences": ["zzz"]},
        "labels": {"team": "engine"},
    }
    events = sse_events(create(http, body).text)
    for raw in events:
        parsed = parse_event(raw)
        assert type(parsed).__name__ != "UnknownEvent"
        assert parsed.to_wire() == raw
    iid = events[0]["interaction"]["id"]
    got = http.get(f"/v1beta/interactions/{iid}", params={"include_input": "true"}).json()
    assert parse_interaction(got).to_wire() == got
    json.dumps(got)
