"""The ``llama`` backend with the real default model (Qwen2.5-Coder-0.5B). Few, short tests."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jsonschema_rs
import pytest

from workbench.engine.backends.base import (
    BackendError,
    Chunk,
    FinishChunk,
    FunctionSpec,
    GenerationRequest,
    Message,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    UsageChunk,
)
from workbench.engine.backends.llama import LlamaBackend

pytestmark = pytest.mark.model

MODEL = "qwen2.5-coder-0.5b"
WEATHER = FunctionSpec(
    "get_weather",
    "Get the current weather for a city",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)
TIME = FunctionSpec(
    "get_time",
    "Get the current time in an IANA time zone",
    {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
)
FUNCTIONS = {f.name: f for f in (WEATHER, TIME)}


def ask(text: str, **kwargs: Any) -> GenerationRequest:
    return GenerationRequest(messages=(Message("user", text),), model=MODEL, **kwargs)


async def collect(backend: LlamaBackend, request: GenerationRequest) -> list[Chunk]:
    return [chunk async for chunk in backend.generate(request, asyncio.Event())]


def text_of(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextChunk))


def check_ending(chunks: list[Chunk]) -> FinishChunk:
    """Usage exactly once, just before the finish chunk, which is last."""
    assert isinstance(chunks[-1], FinishChunk)
    assert isinstance(chunks[-2], UsageChunk)
    assert sum(isinstance(c, UsageChunk) for c in chunks) == 1
    usage = chunks[-2]
    assert usage.input_tokens > 0
    return chunks[-1]


def valid_calls(chunks: list[Chunk]) -> list[ToolCallChunk]:
    calls = [c for c in chunks if isinstance(c, ToolCallChunk)]
    for call in calls:
        jsonschema_rs.validate(FUNCTIONS[call.name].parameters, call.arguments)
    return calls


async def test_plain_answer(llama_backend: LlamaBackend):
    chunks = await collect(
        llama_backend,
        ask("What is the capital of France? Answer with one word.", temperature=0.0),
    )
    assert "Paris" in text_of(chunks)
    assert check_ending(chunks).reason == "stop"


async def test_forced_call_has_valid_arguments(llama_backend: LlamaBackend):
    request = ask(
        "Tell me something about Paris.",
        functions=(WEATHER, TIME),
        tool_choice="any",
        max_output_tokens=60,
    )
    chunks = await collect(llama_backend, request)
    calls = valid_calls(chunks)
    assert calls
    assert check_ending(chunks).reason == "tool_calls"
    assert text_of(chunks) == ""


async def test_allowed_functions_restrict_the_call(llama_backend: LlamaBackend):
    request = ask(
        "What's the weather in Oslo?",
        functions=(WEATHER, TIME),
        tool_choice="any",
        allowed_functions=("get_time",),
        max_output_tokens=60,
    )
    calls = valid_calls(await collect(llama_backend, request))
    assert [c.name for c in calls][:1] == ["get_time"]


async def test_auto_call_then_a_turn_with_the_result(llama_backend: LlamaBackend):
    request = ask(
        "What's the weather in Paris right now?",
        functions=(WEATHER,),
        temperature=0.0,
        max_output_tokens=60,
    )
    calls = valid_calls(await collect(llama_backend, request))
    assert [c.name for c in calls] == ["get_weather"]
    # The tool result goes back in the Qwen template's <tool_response> turn. (The 0.5B model
    # tends to repeat the call here instead of answering; with calls off it must write text.)
    follow_up = GenerationRequest(
        messages=(
            request.messages[0],
            Message("assistant", tool_calls=(ToolCall("c1", "get_weather", calls[0].arguments),)),
            Message("tool", '{"temperature_c": 18, "sky": "sunny"}', tool_call_id="c1"),
        ),
        model=MODEL,
        functions=(WEATHER,),
        tool_choice="none",
        temperature=0.0,
        max_output_tokens=40,
    )
    chunks = await collect(llama_backend, follow_up)
    assert text_of(chunks)
    assert not [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert check_ending(chunks).reason in ("stop", "length")


async def test_json_schema_answer_validates(llama_backend: LlamaBackend):
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "languages": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "age", "languages"],
    }
    request = ask("Invent a programmer.", response_schema=schema, max_output_tokens=80)
    chunks = await collect(llama_backend, request)
    jsonschema_rs.validate(schema, json.loads(text_of(chunks)))
    assert check_ending(chunks).reason == "stop"


async def test_length_and_stop_sequences(llama_backend: LlamaBackend):
    counting = "Count from 1 to 30, numbers separated by spaces."
    chunks = await collect(llama_backend, ask(counting, temperature=0.0, max_output_tokens=5))
    assert check_ending(chunks).reason == "length"
    assert chunks[-2].output_tokens == 5  # type: ignore[union-attr]
    chunks = await collect(llama_backend, ask(counting, temperature=0.0, stop=(" 4",)))
    assert text_of(chunks).strip() == "1 2 3"
    assert check_ending(chunks).reason == "stop"


async def test_cancel_stops_within_a_token(llama_backend: LlamaBackend):
    cancel = asyncio.Event()
    seen = after_cancel = 0
    output_tokens: int | None = None
    stream = llama_backend.generate(ask("Write a long story about a robot.", seed=1), cancel)
    async for chunk in stream:
        if isinstance(chunk, TextChunk):
            seen += 1
            if cancel.is_set():
                after_cancel += 1
            if seen == 3:
                cancel.set()
        elif isinstance(chunk, UsageChunk):
            output_tokens = chunk.output_tokens
    # At most the token already being decoded arrives after the cancel.
    assert after_cancel <= 1
    assert output_tokens is None or output_tokens <= 5
    # The worker is free again at once: the next request is not stuck behind the story.
    chunks = await collect(llama_backend, ask("Say hi.", max_output_tokens=3))
    assert isinstance(chunks[-1], FinishChunk)


async def test_closing_the_iterator_stops_generation(llama_backend: LlamaBackend):
    stream = llama_backend.generate(ask("Write a long story about a cat."), asyncio.Event())
    async for chunk in stream:
        if isinstance(chunk, TextChunk):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    started = time.perf_counter()
    chunks = await collect(llama_backend, ask("Say hi.", max_output_tokens=3))
    assert isinstance(chunks[-1], FinishChunk)
    # Had the story kept the worker busy, this would wait for up to 2,048 tokens (over a
    # minute here); the bound is loose so a loaded CI machine cannot make it flaky.
    assert time.perf_counter() - started < 25


async def test_two_concurrent_requests_both_complete(llama_backend: LlamaBackend):
    first, second = await asyncio.gather(
        collect(llama_backend, ask("Name a color.", max_output_tokens=8)),
        collect(llama_backend, ask("Name an animal.", max_output_tokens=8)),
    )
    for chunks in (first, second):
        check_ending(chunks)
        assert text_of(chunks)


async def test_unknown_model_is_refused(llama_backend: LlamaBackend):
    request = GenerationRequest(messages=(Message("user", "hi"),), model="gemini-9")
    with pytest.raises(BackendError) as info:
        await collect(llama_backend, request)
    assert info.value.code == "not_found"
    assert MODEL in str(info.value)


async def test_threads_are_measured_when_not_configured(llama_backend: LlamaBackend):
    from workbench.engine.backends.llama_threads import available_cores, candidates

    tuner = llama_backend._tuner
    assert llama_backend.threads in candidates(available_cores()) or tuner.fixed
    if tuner.enabled:
        assert set(tuner.measurements) == set(candidates(available_cores()))
        assert all(speed > 0 for speed in tuner.measurements.values())
        assert tuner.expected == max(tuner.measurements.values())
    chunks = await collect(llama_backend, ask("Say hi.", temperature=0.0))
    assert text_of(chunks)  # still generates after switching threads at run time
