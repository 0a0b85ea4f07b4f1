"""Prompt prefixes kept on disk, so a long session reopened after an engine restart re-reads
nothing.

The RAM ``PromptCache`` dies with the engine process: the first turn of a reopened 40-turn
conversation then evaluates its whole history again (tens of seconds on two cores). Every
snapshot the RAM cache takes is therefore also written here, by a writer thread so the job
that made it does not wait. A snapshot that another one extends (the same conversation a turn
later) is skipped if it is still waiting to be written and deleted if it was; the oldest files
go until the folder fits its budget.

Files live in ``<data dir>/prompt-cache/<model key>/``. The key hashes what makes KV cells
reusable: the model file (name, size and its first 64 KiB), the context size and the
llama-cpp-python version; snapshots of another key are never read, and the budget counts them
too (the oldest go first, whichever model made them). Each file is a header, the prompt's tokens
and the KV cells, with a CRC-32 of tokens and cells checked before a restore: a damaged or
truncated file is deleted and the prompt is evaluated instead.

The cells are derived from conversation text, like the history database beside them; a budget of
0 turns the disk cache off and deletes the folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import shutil
import struct
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.engine.backends.prompt_cache import (
    PromptCache,
    Snapshot,
    Tokens,
    common_prefix,
    extends,
)

log = logging.getLogger("workbench.engine.backends.llama")

MAGIC = b"WBPC"
VERSION = 1
HEADER = struct.Struct("<4sHIQI")  # magic, version, tokens, cell bytes, CRC-32
SUFFIX = ".kv"
MIN_TOKENS = 64
"""Shorter prefixes are cheaper to evaluate again than to write and read back."""
MAX_PENDING = 8
"""Snapshots waiting for a slow disk beyond this many are dropped, oldest first: each one holds
its KV cells in memory until written, outside the RAM cache's budget."""


def model_key(model_file: Path, n_ctx: int) -> str:
    """What KV cells saved by this model, context size and llama.cpp build can be reused by."""
    try:
        import llama_cpp

        runtime = str(getattr(llama_cpp, "__version__", "?"))
    except ImportError:  # only in tests of this module without the runtime
        runtime = "none"
    digest = hashlib.sha256()
    with model_file.open("rb") as f:
        digest.update(f.read(64 * 1024))
    size = model_file.stat().st_size
    digest.update(f"{model_file.name}\0{size}\0{n_ctx}\0{runtime}".encode())
    return digest.hexdigest()[:20]


@dataclass
class Entry:
    """One snapshot file: its tokens (kept in RAM for prefix matching) and where it is."""

    tokens: Tokens
    path: Path
    size: int
    used: float  # last write or restore (the least recently used file goes first)


def _checksum(tokens: Tokens, data: object) -> int:
    return zlib.crc32(memoryview(data), zlib.crc32(tokens.tobytes())) & 0xFFFFFFFF  # type: ignore[arg-type]


class DiskPromptCache:
    """Snapshot files of one model key under ``root`` within ``budget`` bytes."""

    def __init__(self, root: Path, key: str, budget: int) -> None:
        self.root = root
        self.folder = root / key
        self.budget = budget
        self.hits = 0
        self.writes = 0
        self.dropped = 0  # snapshots never written: the disk fell behind (MAX_PENDING)
        self.failed = ""  # why the disk cache stopped (a full disk, no permission)
        self._entries: dict[str, Entry] = {}
        self._others: list[tuple[float, int, Path]] = []  # other model keys' files
        self._lock = threading.Lock()
        self._pending: list[Snapshot] = []
        self._wake = threading.Condition(self._lock)
        self._writing = False
        self._closed = False
        self._thread: threading.Thread | None = None
        if budget <= 0:
            shutil.rmtree(root, ignore_errors=True)
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._scan()
            self._others = _files_beside(root, self.folder)
            self._trim()
        except OSError as exc:
            self._fail(f"cannot use {self.folder}: {exc}")

    @property
    def enabled(self) -> bool:
        return self.budget > 0 and not self.failed

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    # ------------------------------------------------------------------------------- reading

    def best(self, tokens: Sequence[int] | Tokens) -> tuple[Entry | None, int]:
        """The file sharing the longest prefix with ``tokens``, and that length."""
        found: Entry | None = None
        shared = 0
        with self._lock:
            for entry in self._entries.values():
                n = common_prefix(entry.tokens, tokens)
                if n > shared:
                    found, shared = entry, n
        return found, shared

    def load(self, entry: Entry) -> Snapshot | None:
        """The snapshot in ``entry``'s file, or None (and the file gone) if it is damaged."""
        try:
            with entry.path.open("rb") as f:
                header = f.read(HEADER.size)
                magic, version, n, size, crc = HEADER.unpack(header)
                tokens = np.frombuffer(f.read(n * 4), dtype="<i4").astype(np.intc)
                data = (ctypes.c_uint8 * size)()
                got = f.readinto(memoryview(data))
        except (OSError, struct.error) as exc:
            log.warning("prompt cache file %s unreadable (%s): deleted", entry.path.name, exc)
            self._forget(entry.path)
            return None
        ok = (
            magic == MAGIC
            and version == VERSION
            and len(tokens) == n
            and got == size
            and _checksum(tokens, data) == crc
        )
        if not ok:
            log.warning("prompt cache file %s is damaged: deleted", entry.path.name)
            self._forget(entry.path)
            return None
        self.hits += 1
        with self._lock:
            entry.used = time.time()
        with contextlib.suppress(OSError):
            os.utime(entry.path)
        return Snapshot(tokens=tokens, data=data)

    # ------------------------------------------------------------------------------- writing

    def put(self, snapshot: Snapshot) -> None:
        """Write ``snapshot`` soon (on the writer thread), unless it is too short to matter."""
        if not self.enabled or len(snapshot.tokens) < MIN_TOKENS:
            return
        if snapshot.nbytes > self.budget:
            return
        with self._lock:
            if self._closed:
                return
            self._pending.append(snapshot)
            if len(self._pending) > MAX_PENDING:
                del self._pending[0]
                self.dropped += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._writer, name="prompt-cache-writer", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every snapshot handed to ``put`` is written (or dropped)."""
        with self._lock:
            self._wake.wait_for(lambda: not self._pending and not self._writing, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is pending, then stop the writer thread."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def stats(self) -> dict[str, object]:
        return {
            "entries": len(self._entries),
            "bytes": self.nbytes,
            "budget": self.budget,
            "hits": self.hits,
            "writes": self.writes,
            "dropped": self.dropped,
            "failed": self.failed,
        }

    # ----------------------------------------------------------------------------- internals

    def _writer(self) -> None:
        while True:
            with self._lock:
                self._wake.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                snapshot = self._pending.pop(0)
                if any(extends(later.tokens, snapshot.tokens) for later in self._pending):
                    self._wake.notify_all()
                    continue  # the same conversation a turn later is waiting: write that one
                self._writing = True
            try:
                if self.enabled:
                    self._write(snapshot)
            except OSError as exc:
                self._fail(f"cannot write to {self.folder}: {exc}")
            except Exception:
                log.exception("could not save a prompt prefix to disk")
            finally:
                with self._lock:
                    self._writing = False
                    self._wake.notify_all()

    def _write(self, snapshot: Snapshot) -> None:
        tokens = np.ascontiguousarray(snapshot.tokens, dtype="<i4")
        name = hashlib.sha256(tokens.tobytes()).hexdigest()[:32] + SUFFIX
        path = self.folder / name
        size = ctypes.sizeof(snapshot.data)
        header = HEADER.pack(MAGIC, VERSION, len(tokens), size, _checksum(tokens, snapshot.data))
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(header)
            f.write(tokens.tobytes())
            f.write(memoryview(snapshot.data))
        os.replace(tmp, path)
        entry = Entry(tokens.astype(np.intc), path, path.stat().st_size, time.time())
        with self._lock:
            shorter = [
                e.path
                for e in self._entries.values()
                if e.path != path and extends(tokens, e.tokens)
            ]
            self._entries[str(path)] = entry
        for old in shorter:
            self._forget(old)
        self.writes += 1
        self._trim()

    def _scan(self) -> None:
        """Index the files of this key (tokens only); delete unreadable ones and leftovers."""
        for path in self.folder.iterdir():
            if path.suffix != SUFFIX:
                path.unlink(missing_ok=True)  # a write cut short by a crash
                continue
            try:
                with path.open("rb") as f:
                    magic, version, n, size, _crc = HEADER.unpack(f.read(HEADER.size))
                    raw = f.read(n * 4)
                stat = path.stat()
            except (OSError, struct.error):
                path.unlink(missing_ok=True)
                continue
            if (
                magic != MAGIC
                or version != VERSION
                or len(raw) != n * 4
                or stat.st_size != HEADER.size + n * 4 + size
            ):
                log.warning("prompt cache file %s is damaged: deleted", path.name)
                path.unlink(missing_ok=True)
                continue
            tokens = np.frombuffer(raw, dtype="<i4").astype(np.intc)
            self._entries[str(path)] = Entry(tokens, path, stat.st_size, stat.st_mtime)

    def _trim(self) -> None:
        """Delete the least recently used files (of any model key) until the budget holds."""
        with self._lock:
            mine = [(e.used, e.size, e.path) for e in self._entries.values()]
        files = sorted(self._others + mine)
        total = sum(size for _, size, _ in files)
        for used, size, path in files:
            if total <= self.budget:
                break
            if path.parent == self.folder:
                self._forget(path)
            else:
                self._others.remove((used, size, path))
                with contextlib.suppress(OSError):
                    path.unlink()
                    if not any(path.parent.iterdir()):
                        path.parent.rmdir()
            total -= size

    def _forget(self, path: Path) -> None:
        with self._lock:
            self._entries.pop(str(path), None)
        with contextlib.suppress(OSError):
            path.unlink()

    def _fail(self, why: str) -> None:
        if not self.failed:
            log.warning("prompt cache on disk turned off: %s", why)
        self.failed = why


def _files_beside(root: Path, folder: Path) -> list[tuple[float, int, Path]]:
    """The files of the other model keys under ``root``: (mtime, size, path), read once;
    their empty folders go."""
    found: list[tuple[float, int, Path]] = []
    for other in root.iterdir():
        if other == folder or not other.is_dir():
            continue
        files = list(other.iterdir())
        if not files:
            other.rmdir()
        for path in files:
            with contextlib.suppress(OSError):
                stat = path.stat()
                found.append((stat.st_mtime, stat.st_size, path))
    return found


def attach(cache: PromptCache, root: Path, model_file: Path, n_ctx: int, budget: int) -> None:
    """Put the snapshot files of the model just loaded behind ``cache`` (none: budget 0,
    which also deletes ``root``, or the RAM cache off)."""
    detach(cache)
    if cache.enabled or budget <= 0:
        key = model_key(model_file, n_ctx) if budget > 0 else ""
        cache.disk = DiskPromptCache(root, key, budget)


def detach(cache: PromptCache) -> None:
    """Write what ``cache``'s disk store has pending and stop using it."""
    disk, cache.disk = cache.disk, None
    if isinstance(disk, DiskPromptCache):
        disk.close()
