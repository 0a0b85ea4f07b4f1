"""The ``openai`` backend against a real OpenAI-compatible server (llama-cpp-python's own),
running the default model on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time

import jsonschema_rs
import pytest

from workbench.engine.backends.base import (
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

pytestmark = pytest.mark.model

MODEL = "qwen2.5-coder-0.5b"
WEATHER = FunctionSpec(
    "get_weather",
    "Get the current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def ask(text: str, **kwargs: object) -> GenerationRequest:
    return GenerationRequest(messages=(Message("user", text),), model=MODEL, **kwargs)  # type: ignore[arg-type]


async def collect(base_url: str, request: GenerationRequest) -> list[Chunk]:
    backend = OpenAICompatBackend(base_url)
    try:
        await backend.load()
        return [c async for c in backend.generate(request, asyncio.Event())]
    finally:
        await backend.close()


async def test_models_are_listed(openai_server: str):
    backend = OpenAICompatBackend(openai_server)
    await backend.load()
    await backend.close()
    assert [m.id for m in backend.models()] == [MODEL]


async def test_plain_answer_streams(openai_server: str):
    chunks = await collect(
        openai_server, ask("What is the capital of France? One word.", temperature=0.0)
    )
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    assert "Paris" in text
    assert sum(isinstance(c, TextChunk) for c in chunks) >= 1
    assert isinstance(chunks[-2], UsageChunk)
    assert chunks[-1] == FinishChunk("stop")


async def test_forced_call_is_valid(openai_server: str):
    request = ask("What's the weather in Rome?", functions=(WEATHER,), tool_choice="any")
    chunks = await collect(openai_server, request)
    calls = [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert [c.name for c in calls] == ["get_weather"]
    jsonschema_rs.validate(WEATHER.parameters, calls[0].arguments)
    assert chunks[-1] == FinishChunk("tool_calls")


async def test_json_schema_answer_validates(openai_server: str):
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    request = ask("Invent a person.", response_schema=schema, max_output_tokens=80)
    chunks = await collect(openai_server, request)
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    jsonschema_rs.validate(schema, json.loads(text))


async def test_cancel_mid_answer(openai_server: str):
    backend = OpenAICompatBackend(openai_server)
    cancel = asyncio.Event()
    seen = 0
    async for chunk in backend.generate(ask("Write a long story about a robot."), cancel):
        if isinstance(chunk, TextChunk):
            seen += 1
            if seen == 3:
                cancel.set()
                started = time.perf_counter()
    await backend.close()
    assert seen == 3
    assert time.perf_counter() - started < 0.5
