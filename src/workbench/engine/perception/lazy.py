"""A model loaded on first use and unloaded after it sat idle, so memory is paid only while used.

The speech and OCR models together hold a few hundred MB. Most interactions carry no media, so
the engine loads each model the first time it is needed and drops it once it has not been used
for ``idle_seconds``. A daemon timer does the unloading; a model in use is never unloaded
under its caller (``use`` counts users).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


def _trim_heap() -> None:
    """Give freed heap pages back to the system (glibc keeps them otherwise), so an unloaded
    model shows up as lower resident memory."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class IdleModel(Generic[T]):
    """Holds one lazily built object and frees it after ``idle_seconds`` without use.

    Args:
        name: for messages and status.
        load: builds the object (blocking; runs in the caller's thread).
        idle_seconds: unload after this long unused; ``0`` or less keeps it loaded.
    """

    def __init__(self, name: str, load: Callable[[], T], idle_seconds: float) -> None:
        self.name = name
        self._load = load
        self.idle_seconds = idle_seconds
        self._value: T | None = None
        self._lock = threading.Lock()
        self._users = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None
        self.loads = 0
        self.load_seconds = 0.0

    @property
    def loaded(self) -> bool:
        """Whether the object is in memory now."""
        return self._value is not None

    @contextmanager
    def use(self) -> Iterator[T]:
        """The object (built now if needed), held for the duration of the ``with`` block."""
        with self._lock:
            if self._value is None:
                started = time.perf_counter()
                self._value = self._load()
                self.load_seconds = time.perf_counter() - started
                self.loads += 1
            self._users += 1
            value = self._value
        try:
            yield value
        finally:
            with self._lock:
                self._users -= 1
                self._last_used = time.monotonic()
                self._arm()

    def unload(self) -> bool:
        """Drop the object now unless it is in use; returns whether it was dropped."""
        with self._lock:
            if self._value is None or self._users:
                return False
            self._value = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        gc.collect()
        _trim_heap()
        return True

    def _arm(self) -> None:
        if self.idle_seconds <= 0 or self._timer is not None:
            return
        self._timer = threading.Timer(self.idle_seconds, self._check)
        self._timer.daemon = True
        self._timer.start()

    def _check(self) -> None:
        with self._lock:
            self._timer = None
            idle = time.monotonic() - self._last_used
            if self._users or self._value is None:
                return
            if idle < self.idle_seconds:
                self._arm()
                return
        self.unload()
