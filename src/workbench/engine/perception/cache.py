"""Derived text cached by content hash, in memory and on disk.

Every turn of a conversation re-sends its history, so without a cache a voice memo attached in
turn one would be transcribed again in every later turn. The key is the sha256 of the media
bytes plus what was done to them (``recipe``: the kind of perception and its version), so the
same file under another name, in another session or after a restart is never processed twice.
Entries are small JSON files written atomically; a damaged entry is treated as missing.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic

MEMORY_ENTRIES = 128


def content_key(data: bytes, recipe: str) -> str:
    """The cache key of ``data`` processed by ``recipe``."""
    digest = hashlib.sha256(data).hexdigest()
    return hashlib.sha256(f"{recipe}\0{digest}".encode()).hexdigest()


class DerivedCache:
    """A small LRU in memory in front of a folder of JSON entries (``folder`` may be None)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored value, or None."""
        with self._lock:
            value = self._memory.get(key)
            if value is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return value
        path = self._path(key)
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = None
            if isinstance(loaded, dict):
                self._remember(key, loaded)
                with self._lock:
                    self.hits += 1
                return loaded
        with self._lock:
            self.misses += 1
        return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` (JSON-serializable) under ``key``."""
        self._remember(key, value)
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(path, value, durable=False, ensure_ascii=False)
        except OSError:
            pass  # a cache that cannot write is only slower

    def _remember(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)
