"""Conversations sharing one model: TTFT per turn alone and interleaved, foreground vs background.

    .venv/bin/python benchmarks/engine_chains.py [--turns 20] [--chain-repeats 3] [--home DIR]
        [--skip-threads] [--skip-restart]

Everything runs on ``LlamaBackend`` in this process with the default model (Qwen2.5-Coder-0.5B,
greedy, n_ctx 8192), with the requests the runner builds for a ``previous_interaction_id``
chain (the whole history as chat messages, each turn adding ~170 tokens of user text):

* chains: one chain of ``--turns`` turns alone, then the same chain taking turns with 1 and
  with 3 other conversations (round robin); TTFT of each turn of the measured chain. Ratios
  interleaved ÷ alone at turn 8 and at the last turn, with the prompt cache, and once without
  it (``prompt_cache_mb=0``: the old single KV cache) for 8 turns with 1 other conversation.
  Goal: ≤ 1.2 with the cache. ``--chain-repeats N`` runs every chain scenario N times; the
  ratios are then of the per-turn means (single turns vary by ±15 % on this machine).
* restart: the alone chain again with the disk cache on (its mean TTFT against the alone
  chain's shows what writing the files costs), the engine closed, and the next turn's TTFT in
  a new backend with the disk cache (``prompt_cache_disk_mb``) against one without it (which
  evaluates the whole history again).
* foreground: a chat turn's TTFT on the idle engine, then while 2 background "agent runs"
  (background-priority loops of long generations over their own growing context) are active,
  with preemption (the default) and with plain priority ordering (``preempt=False``).
  Goal: ≤ 1.5 × idle.
* memory: resident set and the prompt cache's bytes against its budget.
* threads: decode rate with 1 and 2 llama.cpp threads, quiet and with one core kept busy by
  a spinning subprocess (ended by its pid).

Other processes on the machine slow every number: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from workbench.engine.backends import model_files
from workbench.engine.backends.base import (
    BACKGROUND,
    FOREGROUND,
    GenerationRequest,
    Message,
    TextChunk,
    priority,
)
from workbench.engine.backends.llama import LlamaBackend

MODEL = model_files.DEFAULT_MODEL.id
REPLY_TOKENS = 24
TOPICS = [
    "a binary search tree",
    "a JSON parser",
    "an LRU cache",
    "a rate limiter",
    "a CSV reader",
    "a thread pool",
    "a priority queue",
    "a trie",
]


def user_text(conversation: int, turn: int) -> str:
    """About 170 tokens of new user text, different for every conversation and turn."""
    topic = TOPICS[conversation % len(TOPICS)]
    lines = [
        f"Conversation {conversation}, turn {turn}: we are writing {topic} in Python.",
        f"Requirement {turn}.1: the public API keeps the names we agreed on in turn {turn - 1}.",
        f"Requirement {turn}.2: every function has type hints and a docstring of one line.",
        f"Requirement {turn}.3: errors raise ValueError with a message naming the bad input.",
        f"Requirement {turn}.4: the tests use pytest and cover the empty case for {topic}.",
        "Here is the snippet under review:",
        f"def step_{conversation}_{turn}(items: list[int], limit: int = {turn * 7}) -> int:",
        f"    total = sum(x for x in items if x < limit)  # turn {turn}",
        "    return total if total >= 0 else -total",
        "Reply with one short sentence on what to change next.",
    ]
    return "\n".join(lines)


class Chain:
    """One conversation: its messages grow by a user turn and the model's answer."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.messages: list[Message] = []
        self.turn = 0

    def request(self, tokens: int = REPLY_TOKENS) -> GenerationRequest:
        self.turn += 1
        self.messages.append(Message("user", user_text(self.index, self.turn)))
        return GenerationRequest(
            messages=tuple(self.messages),
            model=MODEL,
            temperature=0.0,
            max_output_tokens=tokens,
            seed=1,
        )

    def answered(self, text: str) -> None:
        self.messages.append(Message("assistant", text))


async def turn(backend: LlamaBackend, chain: Chain, tokens: int = REPLY_TOKENS) -> float:
    """Run one turn of ``chain``; its time to first text."""
    request = chain.request(tokens)
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    async for chunk in backend.generate(request, asyncio.Event()):
        if isinstance(chunk, TextChunk):
            if first is None:
                first = time.perf_counter() - started
            parts.append(chunk.text)
    chain.answered("".join(parts))
    return first if first is not None else time.perf_counter() - started


async def fresh(backend: LlamaBackend) -> None:
    """Forget every saved prefix and the live KV cache (each scenario starts cold)."""

    def forget() -> None:
        backend.prompt_cache.clear()
        if backend._loaded is not None:
            backend._loaded.llm.n_tokens = 0

    await backend._call(forget, MODEL)


async def chains(backend: LlamaBackend, turns: int, others: int) -> list[float]:
    """TTFT of each turn of chain 0 while ``others`` conversations take turns with it."""
    await fresh(backend)
    measured = Chain(0)
    rest = [Chain(i + 1) for i in range(others)]
    ttft: list[float] = []
    for _ in range(turns):
        ttft.append(await turn(backend, measured))
        for other in rest:
            await turn(backend, other)
    return ttft


async def background_agent(backend: LlamaBackend, index: int, stop: asyncio.Event) -> int:
    """A background run's many model calls: long answers over its own growing context."""
    priority.set(BACKGROUND)
    chain = Chain(100 + index)
    calls = 0
    while not stop.is_set():
        await turn(backend, chain, tokens=160)
        calls += 1
    return calls


async def foreground(backend: LlamaBackend, repeats: int) -> dict[str, Any]:
    """A chat turn's TTFT idle, then with 2 background runs active (median of ``repeats``)."""
    priority.set(FOREGROUND)
    await fresh(backend)
    chat = Chain(50)
    for _ in range(2):  # a history of a few turns, like a real chat
        await turn(backend, chat)
    idle = sorted([await turn(backend, chat) for _ in range(repeats)])[repeats // 2]
    stop = asyncio.Event()
    agents = [asyncio.create_task(background_agent(backend, i, stop)) for i in range(2)]
    await asyncio.sleep(3.0)  # both runs are generating
    busy: list[float] = []
    for _ in range(repeats):
        busy.append(await turn(backend, chat))
        await asyncio.sleep(1.0)
    stop.set()
    calls = await asyncio.gather(*agents)
    median = sorted(busy)[repeats // 2]
    return {
        "idle_ttft": round(idle, 3),
        "busy_ttft": [round(t, 3) for t in busy],
        "ratio": round(median / idle, 2),
        "background_calls": calls,
    }


async def repeated_chains(backend: LlamaBackend, turns: int, others: int, n: int) -> list[float]:
    """Per-turn mean TTFT of ``n`` runs of ``chains``."""
    runs = [await chains(backend, turns, others) for _ in range(n)]
    return [sum(r[i] for r in runs) / n for i in range(turns)]


async def restart(home: Path, turns: int) -> dict[str, Any]:
    """The next turn of a ``turns``-turn chain after an engine restart, disk cache on and off."""
    root = Path(tempfile.mkdtemp(prefix="chains-restart-"))
    (root / "models").symlink_to((home / "models").resolve())
    first = LlamaBackend(root, model=MODEL, prompt_cache_disk_mb=1024)
    await first.load()
    chain = Chain(0)  # the text of the "alone" chain: its TTFT shows the writer's cost
    ttft = [await turn(first, chain) for _ in range(turns)]
    await first.close()
    result: dict[str, Any] = {"ttft_alone_disk_on": [round(t, 3) for t in ttft]}
    for label, disk_mb in (("with_disk_cache", 1024), ("without", 0)):
        backend = LlamaBackend(root, model=MODEL, prompt_cache_disk_mb=disk_mb)
        started = time.perf_counter()
        await backend.load()
        result[f"{label}_load_s"] = round(time.perf_counter() - started, 2)
        result[f"{label}_ttft"] = round(await turn(backend, copy.deepcopy(chain)), 3)
        result[f"{label}_cache"] = backend.prompt_cache.stats()
        await backend.close()
    result["ratio"] = round(result["with_disk_cache_ttft"] / result["without_ttft"], 2)
    return result


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def thread_rates(backend: LlamaBackend) -> dict[str, float]:
    """Decode tokens/s with 1 and 2 threads, quiet and with one core busy."""
    from workbench.engine.backends.llama_load import probe_tokens
    from workbench.engine.backends.llama_threads import decode_speed

    results: dict[str, float] = {}

    def measure(label: str) -> None:
        loaded = backend._loaded
        assert loaded is not None
        tokens = probe_tokens(loaded)
        for n in (1, 2):
            speeds = [decode_speed(loaded.llm, tokens, n) for _ in range(3)]
            results[f"{label}_{n}_threads"] = round(sorted(speeds)[1], 1)
        loaded.llm.n_tokens = 0

    await backend._call(lambda: measure("quiet"), MODEL)
    spinner = await asyncio.create_subprocess_exec(sys.executable, "-c", "while True: pass")
    try:
        await asyncio.sleep(1.0)
        await backend._call(lambda: measure("one_core_busy"), MODEL)
    finally:
        spinner.terminate()
        await asyncio.wait_for(spinner.wait(), 10)
    return results


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--home", type=Path, default=None, help="data dir holding the model")
    parser.add_argument("--repeats", type=int, default=3, help="foreground turns measured")
    parser.add_argument(
        "--chain-repeats", type=int, default=1, help="runs of each chain scenario, averaged"
    )
    parser.add_argument("--skip-threads", action="store_true")
    parser.add_argument("--skip-restart", action="store_true")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="chains-"))
    model_files.ensure_model_file(model_files.DEFAULT_MODEL, home / "models")
    report: dict[str, Any] = {"load_before": load()}

    # No disk cache here: chain 0 is the same text in every scenario, so files written by
    # one scenario would serve the next one's prefix.
    backend = LlamaBackend(home, model=MODEL, prompt_cache_disk_mb=0)
    await backend.load()
    report["threads"] = backend.threads
    report["rss_loaded_mb"] = round(rss_mb(), 1)
    marks = sorted({min(8, args.turns), args.turns})
    ttft: dict[int, list[float]] = {}
    for others in (0, 1, 3):
        ttft[others] = await repeated_chains(backend, args.turns, others, args.chain_repeats)
        print(f"others={others}: " + " ".join(f"{t:.2f}" for t in ttft[others]), flush=True)
    for others in (1, 3):
        report[f"interleaved_{others}"] = {
            f"turn_{m}": round(ttft[others][m - 1] / ttft[0][m - 1], 2) for m in marks
        }
    report["ttft_alone"] = [round(t, 3) for t in ttft[0]]
    report["ttft_interleaved_1"] = [round(t, 3) for t in ttft[1]]
    report["ttft_interleaved_3"] = [round(t, 3) for t in ttft[3]]
    report["prompt_cache"] = backend.prompt_cache.stats()
    report["rss_after_chains_mb"] = round(rss_mb(), 1)
    report["foreground_preempt"] = await foreground(backend, args.repeats)
    print(json.dumps(report["foreground_preempt"]), flush=True)
    backend.preempt = False
    report["foreground_priority_only"] = await foreground(backend, args.repeats)
    print(json.dumps(report["foreground_priority_only"]), flush=True)
    report["preemptions"] = backend.preemptions
    if not args.skip_threads:
        report["decode_rates"] = await thread_rates(backend)
    report["rss_end_mb"] = round(rss_mb(), 1)
    report["prompt_cache_end"] = backend.prompt_cache.stats()
    await backend.close()

    report["chain_repeats"] = args.chain_repeats
    without = LlamaBackend(home, model=MODEL, prompt_cache_mb=0, prompt_cache_disk_mb=0)
    await without.load()
    short = min(8, args.turns)
    alone = await chains(without, short, 0)
    mixed = await chains(without, short, 1)
    report["no_cache_interleaved_1"] = {
        "ttft_alone": [round(t, 3) for t in alone],
        "ttft_interleaved": [round(t, 3) for t in mixed],
        f"turn_{short}": round(mixed[-1] / alone[-1], 2),
    }
    await without.close()
    if not args.skip_restart:
        report["restart"] = await restart(home, args.turns)
        disk_on = report["restart"]["ttft_alone_disk_on"]
        report["restart"]["alone_disk_on_vs_off"] = round(
            (sum(disk_on) / len(disk_on)) / (sum(ttft[0]) / len(ttft[0])), 2
        )
        print(json.dumps(report["restart"]), flush=True)
    report["load_after"] = load()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
