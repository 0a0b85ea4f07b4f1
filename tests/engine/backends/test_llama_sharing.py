"""Conversations sharing the real model: each finds its own prefix again, and a foreground
turn interrupts a background generation, with identical greedy output either way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workbench.engine.backends.base import (
    BACKGROUND,
    GenerationRequest,
    Message,
    TextChunk,
    priority,
)
from workbench.engine.backends.llama import LlamaBackend

pytestmark = pytest.mark.model

MODEL = "qwen2.5-coder-0.5b"


def chat(*texts: str, tokens: int = 24) -> GenerationRequest:
    roles = ("user", "assistant")
    messages = tuple(Message(roles[i % 2], t) for i, t in enumerate(texts))  # type: ignore[arg-type]
    return GenerationRequest(
        messages=messages, model=MODEL, temperature=0.0, seed=1, max_output_tokens=tokens
    )


async def answer(backend: LlamaBackend, request: GenerationRequest) -> str:
    chunks = [c async for c in backend.generate(request, asyncio.Event())]
    return "".join(c.text for c in chunks if isinstance(c, TextChunk))


A1 = "Write a Python function that checks whether a number is prime. " * 3
B1 = "Explain in one sentence what a linked list is, for a beginner. " * 3


def test_interleaved_conversations_answer_as_alone_and_restore_their_prefix(
    llama_backend: LlamaBackend,
) -> None:
    backend = llama_backend

    async def alone() -> str:
        backend.prompt_cache.clear()
        first = await answer(backend, chat(A1))
        return await answer(backend, chat(A1, first, "Now add type hints."))

    async def interleaved() -> tuple[str, int]:
        backend.prompt_cache.clear()
        first = await answer(backend, chat(A1))
        await answer(backend, chat(B1))  # the other conversation takes the KV cache
        hits = backend.prompt_cache.hits
        second = await answer(backend, chat(A1, first, "Now add type hints."))
        return second, backend.prompt_cache.hits - hits

    expected = asyncio.run(alone())
    got, restored = asyncio.run(interleaved())
    assert got == expected
    assert restored == 1
    assert backend.prompt_cache.nbytes <= backend.prompt_cache.budget


def test_a_foreground_turn_interrupts_a_background_generation(
    llama_backend: LlamaBackend,
) -> None:
    backend = llama_backend
    long_request = chat(B1, tokens=120)

    async def run() -> tuple[str, str]:
        generating = asyncio.Event()

        async def background() -> str:
            priority.set(BACKGROUND)
            parts: list[str] = []
            async for chunk in backend.generate(long_request, asyncio.Event()):
                if isinstance(chunk, TextChunk):
                    parts.append(chunk.text)
                    generating.set()
            return "".join(parts)

        started = backend.preemptions
        task = asyncio.create_task(background())
        await generating.wait()
        foreground = await answer(backend, chat(A1))
        assert not task.done()  # the foreground turn did not wait for the long answer
        assert backend.preemptions == started + 1
        return await task, foreground

    background_text, foreground_text = asyncio.run(run())
    alone_background = asyncio.run(answer(backend, long_request))
    alone_foreground = asyncio.run(answer(backend, chat(A1)))
    assert background_text == alone_background
    assert foreground_text == alone_foreground


def test_a_conversation_reopened_after_a_restart_restores_its_prefix_from_disk(
    llama_backend: LlamaBackend, model_data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "models").symlink_to(model_data_dir / "models")
    follow_up = "Now add type hints."

    async def before_restart() -> str:
        engine = LlamaBackend(tmp_path, model=MODEL, n_ctx=4096, prompt_cache_disk_mb=64)
        try:
            return await answer(engine, chat(A1))
        finally:
            await engine.close()  # writes the pending prefix

    async def after_restart(first: str) -> tuple[str, dict[str, object]]:
        engine = LlamaBackend(tmp_path, model=MODEL, n_ctx=4096, prompt_cache_disk_mb=64)
        try:
            text = await answer(engine, chat(A1, first, follow_up))
            return text, engine.prompt_cache.stats()
        finally:
            await engine.close()

    first = asyncio.run(before_restart())
    assert list((tmp_path / "prompt-cache").rglob("*.kv"))
    second, stats = asyncio.run(after_restart(first))
    disk = stats["disk"]
    assert isinstance(disk, dict) and disk["hits"] == 1
    llama_backend.prompt_cache.clear()
    expected = asyncio.run(answer(llama_backend, chat(A1, first, follow_up)))
    assert second == expected  # the restored cells answer as a full evaluation does
