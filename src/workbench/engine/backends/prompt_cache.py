"""Evaluated prompt prefixes kept per conversation, so switching conversations re-reads nothing.

llama.cpp holds one KV cache. Before this, a chat turn that followed another conversation's
turn (an agent run in the background, a second chat) found that conversation's tokens there
and evaluated its whole history again. Now each job ends with a ``Snapshot`` of the sequence
(the KV cells of sequence 0, as ``llama_state_seq_get_data`` writes them, plus the tokens they
hold) taken into a ``PromptCache``; the next job restores the snapshot that shares the longest
token prefix with its prompt and evaluates only the rest.

Only the KV cells are copied, not ``Llama.save_state``: that one also copies the logits rows
(up to ``n_batch`` × vocabulary floats, 311 MB for Qwen2.5) which a restored prefix never
needs. A snapshot of the 0.5B model costs 12 KiB per token (24 layers × 2 KV heads × 64 × K
and V in f16), so 2000 tokens of history are 24 MB and copying them takes a few milliseconds.

The cache is a least-recently-used dict with a byte budget: a snapshot that another one
extends (the same conversation one turn later) is dropped when the longer one arrives, and the
oldest entries go until the total fits. Snapshots are per model; the backend clears the cache
when it loads another one.

A ``SnapshotStore`` (``prompt_disk.py``) may sit behind the cache: every snapshot kept is
handed to it too, and ``find`` reads it back when it holds a longer prefix than RAM and the
live KV cache (after an engine restart, or once RAM evicted it).
"""

from __future__ import annotations

import ctypes
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from workbench.engine.config import DEFAULT_PROMPT_CACHE_DISK_MB, DEFAULT_PROMPT_CACHE_MB

__all__ = [
    "DEFAULT_PROMPT_CACHE_DISK_MB",
    "DEFAULT_PROMPT_CACHE_MB",
    "PromptCache",
    "Snapshot",
    "SnapshotStore",
    "restore",
    "save",
]

log = logging.getLogger("workbench.engine.backends.llama")

RESTORE_MIN_TOKENS = 16
"""A snapshot is restored only when it saves at least this many tokens over the live cache."""

Tokens = npt.NDArray[np.intc]


@dataclass(frozen=True)
class Snapshot:
    """The KV cells of sequence 0 after evaluating ``tokens``."""

    tokens: Tokens
    data: Any  # a ctypes byte array, passed back to llama.cpp as it is

    @property
    def nbytes(self) -> int:
        return int(ctypes.sizeof(self.data)) + int(self.tokens.nbytes)


class SnapshotStore(Protocol):
    """Where snapshots go beyond RAM (``prompt_disk.DiskPromptCache``)."""

    @property
    def enabled(self) -> bool: ...

    def best(self, tokens: Sequence[int] | Tokens) -> tuple[Any, int]: ...

    def load(self, entry: Any) -> Snapshot | None: ...

    def put(self, snapshot: Snapshot) -> None: ...

    def stats(self) -> dict[str, object]: ...


def common_prefix(a: Sequence[int] | Tokens, b: Sequence[int] | Tokens) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    left = np.asarray(a[:n], dtype=np.intc)
    right = np.asarray(b[:n], dtype=np.intc)
    differ = np.flatnonzero(left != right)
    return int(differ[0]) if differ.size else n


def extends(longer: Sequence[int] | Tokens, shorter: Sequence[int] | Tokens) -> bool:
    """Whether ``shorter`` is a prefix of ``longer`` (the same conversation, fewer turns)."""
    return len(shorter) <= len(longer) and common_prefix(shorter, longer) == len(shorter)


def save(llm: Any) -> Snapshot:
    """The live sequence of ``llm`` (a ``llama_cpp.Llama``) as a snapshot."""
    import llama_cpp

    n = int(llm.n_tokens)
    memory = llama_cpp.llama_get_memory(llm.ctx)
    llama_cpp.llama_memory_seq_rm(memory, 0, n, -1)  # cells past n_tokens are stale
    size = int(llama_cpp.llama_state_seq_get_size(llm.ctx, 0))
    buffer = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(llm.ctx, buffer, size, 0))
    if written <= 0 or written > size:
        raise RuntimeError(f"llama.cpp wrote {written} bytes of a {size}-byte sequence state")
    if written < size:
        compact = (ctypes.c_uint8 * written)()
        ctypes.memmove(compact, buffer, written)
        buffer = compact
    return Snapshot(tokens=np.array(llm.input_ids[:n], dtype=np.intc), data=buffer)


def restore(llm: Any, snapshot: Snapshot, upto: int) -> None:
    """Make ``llm`` hold the first ``upto`` tokens of ``snapshot`` (and nothing else)."""
    import llama_cpp

    memory = llama_cpp.llama_get_memory(llm.ctx)
    llama_cpp.llama_memory_seq_rm(memory, 0, -1, -1)
    size = ctypes.sizeof(snapshot.data)
    if int(llama_cpp.llama_state_seq_set_data(llm.ctx, snapshot.data, size, 0)) != size:
        llm.n_tokens = 0
        raise RuntimeError("llama.cpp could not restore a saved prompt prefix")
    upto = min(upto, len(snapshot.tokens))
    llama_cpp.llama_memory_seq_rm(memory, 0, upto, -1)
    llm.input_ids[:upto] = snapshot.tokens[:upto]
    llm.n_tokens = upto
    llm._requires_eval = True  # Llama.generate re-evaluates the last prompt token for logits


class PromptCache:
    """Snapshots by token prefix, least recently used first out, within ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        if budget < 0:
            raise ValueError("the prompt cache budget cannot be negative")
        self.budget = budget
        self._entries: OrderedDict[int, Snapshot] = OrderedDict()
        self._next = 0
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.disk: SnapshotStore | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def best(self, tokens: Sequence[int] | Tokens) -> tuple[Snapshot | None, int]:
        """The snapshot sharing the longest prefix with ``tokens``, and that length."""
        found: tuple[int, Snapshot] | None = None
        shared = 0
        for key, snapshot in self._entries.items():
            n = common_prefix(snapshot.tokens, tokens)
            if n > shared:
                found, shared = (key, snapshot), n
        if found is None:
            return None, 0
        self._entries.move_to_end(found[0])
        return found[1], shared

    def find(self, tokens: Sequence[int] | Tokens, live: int) -> tuple[Snapshot | None, int]:
        """Like ``best``, but a longer prefix in the ``disk`` store (by ``RESTORE_MIN_TOKENS``
        over RAM's and over the ``live`` tokens already in the KV cache) is read back and
        kept in RAM."""
        snapshot, shared = self.best(tokens)
        disk = self.disk
        if disk is not None and disk.enabled:
            entry, on_disk = disk.best(tokens)
            if entry is not None and on_disk >= max(shared, live) + RESTORE_MIN_TOKENS:
                loaded = disk.load(entry)
                if loaded is not None:
                    self._keep(loaded)
                    return loaded, on_disk
        return snapshot, shared

    def note(self, restored: bool) -> None:
        """Count a lookup: it restored a snapshot (hit), or the live KV cache was as good or
        nothing matched (miss)."""
        if restored:
            self.hits += 1
        else:
            self.misses += 1

    def put(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` (and hand it to the ``disk`` store); entries it extends go, then
        the oldest until the budget holds."""
        if self._keep(snapshot) and self.disk is not None:
            self.disk.put(snapshot)

    def _keep(self, snapshot: Snapshot) -> bool:
        """Keep ``snapshot`` in RAM (see ``put``); whether it was kept."""
        size = snapshot.nbytes
        if not self.enabled or size > self.budget or len(snapshot.tokens) == 0:
            return False
        for key, old in list(self._entries.items()):
            if extends(snapshot.tokens, old.tokens):
                self._drop(key)
        self._entries[self._next] = snapshot
        self._next += 1
        self.nbytes += size
        while self.nbytes > self.budget:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1
        return True

    def clear(self) -> None:
        self._entries.clear()
        self.nbytes = 0

    def stats(self) -> dict[str, Any]:
        """Entries, bytes, budget, hits, misses and evictions so far (for benchmarks, logs),
        and the disk store's own figures."""
        stats: dict[str, Any] = {
            "entries": len(self._entries),
            "bytes": self.nbytes,
            "budget": self.budget,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }
        if self.disk is not None:
            stats["disk"] = self.disk.stats()
        return stats

    def _drop(self, key: int) -> None:
        snapshot = self._entries.pop(key)
        self.nbytes -= snapshot.nbytes
