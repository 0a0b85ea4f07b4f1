"""When and how long to wait before trying again.

Two policies:

* :class:`RetryPolicy` — for one HTTP request: exponential back-off ``initial × base^n``
  capped at ``max_delay`` and multiplied by a random factor in ``jitter``; a
  ``retry-after-ms`` or ``Retry-After`` header (seconds or an HTTP date) sets the wait
  exactly, up to ``max_retry_after`` (a longer wait is not slept through: the error is
  raised with ``retry_after`` set so the caller can decide).
* :class:`ResumePolicy` — for re-attaching to a dropped stream (protocol.md §12 item 16):
  2, 4, 8 … seconds, at most 30, and the polling interval used when resuming is impossible.

Which failures are retried depends on the request's :class:`Idempotency` (§12 item 23):

* ``SAFE`` (GET, DELETE, cancel): HTTP 408, 409, 429, 5xx and every transport error.
* ``CREATE`` (POST that creates something: interactions, agents, environments, upload
  handshakes and chunks): only 429 and 503, or a transport error that proves the request
  never left (connect error/timeout, pool timeout). Never 409, never 500/502/504, never a
  read error or timeout once the request was sent — the server may already be working on it.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

RETRYABLE_STATUSES_SAFE = frozenset({408, 409, 429})
RETRYABLE_STATUSES_CREATE = frozenset({429, 503})


class Idempotency(enum.Enum):
    SAFE = "safe"
    CREATE = "create"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off for single requests. ``max_retries=0`` turns retries off."""

    max_retries: int = 4
    initial_delay: float = 0.5
    max_delay: float = 8.0
    exp_base: float = 2.0
    jitter: tuple[float, float] = (0.75, 1.0)
    max_retry_after: float = 60.0

    def backoff(self, retry_index: int, rng: Callable[[], float] = random.random) -> float:
        """Delay before retry number ``retry_index`` (0-based)."""
        base = min(self.initial_delay * (self.exp_base**retry_index), self.max_delay)
        low, high = self.jitter
        return base * (low + (high - low) * rng())


@dataclass(frozen=True, slots=True)
class ResumePolicy:
    """Re-attaching to a dropped stream, and polling when re-attaching is impossible.

    ``max_attempts`` counts consecutive reconnects that brought no new event; any progress
    resets it. ``poll_timeout`` bounds the whole polling fallback (``None``: unbounded).
    """

    initial_delay: float = 2.0
    max_delay: float = 30.0
    exp_base: float = 2.0
    max_attempts: int = 6
    poll_interval: float = 5.0
    poll_timeout: float | None = None

    def backoff(self, attempt: int) -> float:
        return float(min(self.initial_delay * (self.exp_base**attempt), self.max_delay))


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms)
        except ValueError:
            value = -1.0
        if value >= 0:
            return value / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:  # pragma: no cover - older Pythons
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    return seconds if seconds >= 0 else None


def status_is_retryable(status: int, idempotency: Idempotency) -> bool:
    if idempotency is Idempotency.CREATE:
        return status in RETRYABLE_STATUSES_CREATE
    return status in RETRYABLE_STATUSES_SAFE or status >= 500


def request_never_sent(exc: BaseException) -> bool:
    """True when the transport error proves no byte of the request reached the server."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def transport_error_is_retryable(exc: BaseException, idempotency: Idempotency) -> bool:
    if not isinstance(exc, httpx.TransportError):
        return False
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        return False
    if idempotency is Idempotency.CREATE:
        return request_never_sent(exc)
    return True
