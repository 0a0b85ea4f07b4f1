"""Streams that survive their connection: checkpoint tokens and detached foreground runs.

Two ways back into a foreground interaction whose stream dropped (protocol.md §6.6, §6.7):

* ``GET …?stream=true&last_event_id=N`` — what our client does. It works because a stored
  foreground run no longer stops when its client goes away: it is *detached* and keeps
  running for ``detach_seconds`` (``Detacher``); only then is it cancelled.
* ``POST /interactions`` with a checkpoint ``continuation_token`` and
  ``previous_interaction_id`` — what the official SDK's drop recovery does. Long streams
  carry checkpoints (``interaction.status_update`` events with a ``continuation_token``); a
  create with one replays the same interaction's log after that checkpoint and tails it, so
  reconnecting never starts a second generation.

Checkpoint tokens are ``ck_<seq>_<mac>``: the event position plus an HMAC of interaction id
and position under a per-process key, so they need no storage and cannot be forged or moved
to another interaction. After an engine restart they are no longer valid (400), like the
runs they pointed into.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable

from .eventlog import LoggedEvent

CHECKPOINT_PREFIX = "ck_"


class Checkpoints:
    """Mints and checks checkpoint tokens; ``every`` events apart (0: never)."""

    def __init__(self, every: int) -> None:
        self.every = max(0, every)
        self._key = secrets.token_bytes(32)

    def _mac(self, interaction_id: str, seq: int) -> str:
        message = f"{interaction_id}:{seq}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def token(self, interaction_id: str, seq: int) -> str:
        """The token of the checkpoint that is event ``seq`` of ``interaction_id``."""
        return f"{CHECKPOINT_PREFIX}{seq}_{self._mac(interaction_id, seq)}"

    @staticmethod
    def looks_like(token: str) -> bool:
        """Whether a token has the checkpoint form (continuation tokens start ``ct_``)."""
        return token.startswith(CHECKPOINT_PREFIX)

    def position(self, token: str, interaction_id: str) -> int | None:
        """The event position a checkpoint token of this interaction names, else None."""
        if not self.looks_like(token):
            return None
        seq_text, _, mac = token[len(CHECKPOINT_PREFIX) :].partition("_")
        if not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if not hmac.compare_digest(mac, self._mac(interaction_id, seq)):
            return None
        return seq


class Detacher:
    """Cancels detached foreground runs once their grace period is over.

    ``detach`` arms a timer for an interaction whose last reader went away; ``attach``
    (a reader came back) disarms it. Readers are counted so one of two readers leaving
    does not arm the timer.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._readers: dict[str, int] = {}

    def attach(self, interaction_id: str) -> None:
        """A reader follows the interaction: no cancel while it stays."""
        self._readers[interaction_id] = self._readers.get(interaction_id, 0) + 1
        timer = self._timers.pop(interaction_id, None)
        if timer is not None:
            timer.cancel()

    def detach(self, interaction_id: str, cancel: Callable[[], None]) -> None:
        """A reader left; when it was the last, ``cancel`` runs after the grace period."""
        left = max(0, self._readers.get(interaction_id, 0) - 1)
        self._readers[interaction_id] = left
        if left:
            return
        self._readers.pop(interaction_id, None)
        old = self._timers.pop(interaction_id, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            self._timers.pop(interaction_id, None)
            cancel()

        self._timers[interaction_id] = asyncio.get_running_loop().call_later(self.seconds, fire)

    def forget(self, interaction_id: str) -> None:
        """The run ended: drop its timer and reader count."""
        timer = self._timers.pop(interaction_id, None)
        if timer is not None:
            timer.cancel()
        self._readers.pop(interaction_id, None)


CUT_TAIL = b"503 Service Unavailable: the stream reached its time limit; reconnect to go on.\n"
"""What a time-limited stream ends with: plain text, not SSE, as the real front end sends."""


class StreamCut(Exception):
    """Raised by ``time_limited`` when the stream must end here (after a checkpoint)."""


async def time_limited(
    events: AsyncIterator[LoggedEvent], seconds: float, checkpoint: Callable[[], int | None]
) -> AsyncIterator[LoggedEvent]:
    """Forward ``events``; past ``seconds``, cut the stream right after a fresh checkpoint.

    Fault injection (``--stream-time-limit``) for what the real service does to long
    streams. ``checkpoint`` logs a checkpoint event and returns its position (None when the
    run is over, and the stream then ends by itself). Checked as events pass, so an idle
    stream is cut at its next event.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    target: int | None = None
    async for event in events:
        yield event
        if target is not None and event.seq >= target:
            raise StreamCut
        if target is None and loop.time() >= deadline:
            target = checkpoint()
