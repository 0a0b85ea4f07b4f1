"""How many threads llama.cpp decodes with: measured on this machine, re-checked when slow.

On a 2-core machine with another process busy on one core, two llama.cpp threads wait on
each other at every barrier and decoding fell to 1 token/s, while one thread kept ~30
(docs/performance.md). No fixed number is right everywhere, so ``ThreadTuner`` times a few
single-token decodes with each candidate count right after the model loads and keeps the
fastest. Every generation reports its decode speed; when it falls below half of what the
chosen count measured for two generations in a row, the next idle moment measures again.
``$WORKBENCH_LLAMA_THREADS`` (or an explicit ``n_threads``) fixes the count and turns this
off.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("workbench.engine.backends.llama")

PROBE_TOKENS = 12
SLOW_FACTOR = 0.5
SLOW_RUNS = 2
MIN_TOKENS = 8  # generations shorter than this say little about the decode speed


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def candidates(cores: int) -> list[int]:
    """Thread counts worth trying: 1, half the cores, all the cores (distinct, ascending)."""
    return sorted({1, max(1, cores // 2), cores})


def set_threads(llm: Any, n: int) -> None:
    """Switch a loaded ``Llama`` to ``n`` threads (decode and batch) without reloading."""
    import llama_cpp

    llama_cpp.llama_set_n_threads(llm.ctx, n, n)
    llm.n_threads = n
    llm.n_threads_batch = n


def decode_speed(llm: Any, tokens: Sequence[int], n: int) -> float:
    """Tokens/s of single-token decodes with ``n`` threads (the KV cache is reset first)."""
    set_threads(llm, n)
    llm.reset()
    llm.eval(list(tokens[:8]) or [0])
    started = time.perf_counter()
    for token in list(tokens[8 : 8 + PROBE_TOKENS]) or [0] * PROBE_TOKENS:
        llm.eval([token])
    elapsed = time.perf_counter() - started
    llm.reset()
    return PROBE_TOKENS / elapsed if elapsed > 0 else 0.0


class ThreadTuner:
    """Chooses and re-checks the thread count of one loaded model (worker thread only)."""

    def __init__(self, fixed: int | None, cores: int | None = None) -> None:
        self.fixed = fixed
        self.cores = cores or available_cores()
        self.threads = fixed or 1
        self.expected = 0.0
        self.slow_runs = 0
        self.measurements: dict[int, float] = {}

    @property
    def enabled(self) -> bool:
        return self.fixed is None and self.cores > 1

    def tune(self, llm: Any, tokens: Sequence[int]) -> int:
        """Measure each candidate and switch to the fastest; the count in use afterwards."""
        if not self.enabled:
            set_threads(llm, self.threads)
            return self.threads
        speeds = {n: decode_speed(llm, tokens, n) for n in candidates(self.cores)}
        self.measurements = speeds
        self.threads = max(speeds, key=lambda n: speeds[n])
        self.expected = speeds[self.threads]
        self.slow_runs = 0
        set_threads(llm, self.threads)
        log.info(
            "llama.cpp threads: %d (measured %s tokens/s)",
            self.threads,
            ", ".join(f"{n}: {s:.1f}" for n, s in sorted(speeds.items())),
        )
        return self.threads

    def report(self, tokens: int, seconds: float) -> None:
        """One generation's decode speed (tokens after the first, over their time)."""
        if not self.enabled or tokens < MIN_TOKENS or seconds <= 0 or not self.expected:
            return
        speed = (tokens - 1) / seconds
        self.slow_runs = self.slow_runs + 1 if speed < SLOW_FACTOR * self.expected else 0

    @property
    def needs_retune(self) -> bool:
        return self.enabled and self.slow_runs >= SLOW_RUNS


def configured_threads() -> int | None:
    """``$WORKBENCH_LLAMA_THREADS`` when set to a positive number, else None (measure)."""
    configured = os.environ.get("WORKBENCH_LLAMA_THREADS", "").strip()
    return int(configured) if configured.isdigit() and int(configured) > 0 else None


def default_threads() -> int:
    """``$WORKBENCH_LLAMA_THREADS`` when set, else the cores this process may use."""
    return configured_threads() or available_cores()
