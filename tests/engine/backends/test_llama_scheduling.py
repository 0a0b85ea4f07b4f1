"""The llama worker's queue order and the prompt cache's budget (no model needed; the real
model's side is in ``test_llama_sharing.py``)."""

from __future__ import annotations

import asyncio
import ctypes

import numpy as np
import pytest

from workbench.engine.backends.base import BACKGROUND, FOREGROUND, priority
from workbench.engine.backends.llama_jobs import Job, JobQueue
from workbench.engine.backends.prompt_cache import PromptCache, Snapshot, common_prefix


def job(name: str, rank: int, model: str | None = "m", log: list[str] | None = None) -> Job:
    return Job(lambda j: (log or []).append(name), priority=rank, model=model)


def test_a_foreground_job_is_taken_before_queued_background_jobs() -> None:
    queue = JobQueue()
    queue.put(job("bg1", BACKGROUND))
    queue.put(job("bg2", BACKGROUND))
    fg = job("fg", FOREGROUND)
    queue.put(fg)
    queue.put(None)
    order = [queue.get() for _ in range(4)]
    assert order[0] is fg
    assert [j.priority for j in order[1:3] if j] == [BACKGROUND, BACKGROUND]
    assert order[3] is None  # the stop marker goes after all work
    with pytest.raises(LookupError):
        queue.get_nowait()


def test_only_a_more_urgent_job_of_the_loaded_model_interrupts() -> None:
    queue = JobQueue()
    queue.put(job("bg", BACKGROUND))
    assert not queue.urgent(BACKGROUND, "m")
    other = job("fg-other-model", FOREGROUND, model="other")
    queue.put(other)
    assert not queue.urgent(BACKGROUND, "m")
    assert queue.take_urgent(BACKGROUND, "m") is None
    fg = job("fg", FOREGROUND)
    queue.put(fg)
    assert queue.urgent(BACKGROUND, "m")
    assert not queue.urgent(FOREGROUND, "m")  # nothing outranks a foreground job
    assert queue.take_urgent(BACKGROUND, "m") is fg
    assert queue.waiting() == {FOREGROUND: 1, BACKGROUND: 1}


def test_the_priority_is_the_starting_context_s() -> None:
    async def background() -> int:
        priority.set(BACKGROUND)
        await asyncio.sleep(0)
        return priority.get()

    async def main() -> tuple[int, int]:
        inner = await asyncio.create_task(background())
        return inner, priority.get()

    assert asyncio.run(main()) == (BACKGROUND, FOREGROUND)


def snapshot(tokens: list[int], size: int) -> Snapshot:
    return Snapshot(tokens=np.array(tokens, dtype=np.intc), data=(ctypes.c_uint8 * size)())


def test_the_cache_finds_the_longest_shared_prefix() -> None:
    cache = PromptCache(10_000)
    cache.put(snapshot([1, 2, 3], 100))
    cache.put(snapshot([1, 2, 9, 9], 100))
    found, shared = cache.best([1, 2, 9, 9, 5])
    assert found is not None and shared == 4
    assert cache.best([7])[0] is None
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([], [1]) == 0


def test_a_longer_turn_of_the_same_conversation_replaces_the_shorter() -> None:
    cache = PromptCache(10_000)
    cache.put(snapshot([1, 2, 3], 100))
    cache.put(snapshot([1, 2, 3, 4, 5], 100))
    assert len(cache) == 1


def test_eviction_keeps_the_budget_and_drops_the_least_recently_used() -> None:
    cache = PromptCache(1000)
    for conversation in range(5):
        cache.put(snapshot([conversation, 1, 2], 300))
        assert cache.nbytes <= cache.budget
    assert len(cache) == 3 and cache.evictions == 2
    cache.best([2, 1, 2])  # conversation 2 is used again: it stays
    cache.put(snapshot([9, 1, 2], 300))
    kept = {int(s.tokens[0]) for s in cache._entries.values()}
    assert kept == {2, 4, 9}
    cache.put(snapshot([8], 5000))  # larger than the whole budget: not kept
    assert cache.nbytes <= cache.budget and len(cache) == 3
    with pytest.raises(ValueError):
        PromptCache(-1)
