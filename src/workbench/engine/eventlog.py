"""Per-interaction event logs: numbering, exact serialization, persistence and live fan-out.

Every event of an interaction gets the next decimal ``event_id`` (``"1"``, ``"2"``, …) and is
serialized once, compactly, with ``event_type`` and ``event_id`` first. That exact string is
what goes on the wire, what is stored, and what a replay sends again, so replays are
byte-identical (protocol.md §6.6).

While an interaction runs its log lives in a ``Channel`` in memory; subscribers read the
events they missed from it and then wait for new ones. Writes to SQLite are batched and run on
the store's thread. Once a finished interaction's log is flushed the channel is dropped and
replays read from the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .store import Store, StoredEvent

log = logging.getLogger("workbench.engine.eventlog")


@dataclass(frozen=True)
class LoggedEvent:
    """An event as numbered and serialized; ``data`` is the exact JSON text."""

    seq: int
    event_type: str
    data: str


def serialize_event(seq: int, payload: dict[str, Any]) -> LoggedEvent:
    """Number and serialize an event payload (which must hold ``event_type``)."""
    event_type = str(payload["event_type"])
    body = {"event_type": event_type, "event_id": str(seq)}
    body.update((k, v) for k, v in payload.items() if k not in ("event_type", "event_id"))
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return LoggedEvent(seq, event_type, data)


class Channel:
    """The in-memory log of one running interaction and its waiting subscribers."""

    def __init__(self, interaction_id: str, *, persist: bool, next_seq: int = 1) -> None:
        self.interaction_id = interaction_id
        self.persist = persist
        self.first_seq = next_seq
        self.events: list[LoggedEvent] = []
        self.closed = False
        self._changed = asyncio.Event()

    @property
    def last_seq(self) -> int:
        """The id of the newest event (0 when there is none)."""
        return self.first_seq + len(self.events) - 1

    def append(self, payload: dict[str, Any]) -> LoggedEvent:
        """Number, serialize and publish one event."""
        if self.closed:
            raise RuntimeError(f"event log of {self.interaction_id} is closed")
        event = serialize_event(self.last_seq + 1, payload)
        self.events.append(event)
        self._wake()
        return event

    def close(self) -> None:
        """No more events: subscribers drain what is left and stop."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, after: int) -> AsyncIterator[LoggedEvent]:
        """Events with ``seq > after``, then live ones until the channel closes."""
        position = max(0, after - self.first_seq + 1)
        while True:
            while position < len(self.events):
                yield self.events[position]
                position += 1
            if self.closed:
                return
            await self._changed.wait()


class EventLog:
    """All channels, plus batched persistence of the events of stored interactions."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.channels: dict[str, Channel] = {}
        self._pending: list[tuple[str, int, str, str]] = []
        self._flusher: asyncio.Task[None] | None = None

    def open(self, interaction_id: str, *, persist: bool, next_seq: int = 1) -> Channel:
        """Start the live log of an interaction."""
        channel = Channel(interaction_id, persist=persist, next_seq=next_seq)
        if persist:
            self.channels[interaction_id] = channel
        return channel

    def emit(self, channel: Channel, payload: dict[str, Any]) -> LoggedEvent:
        """Append an event to a channel and queue it for the database."""
        event = channel.append(payload)
        if channel.persist:
            self._pending.append((channel.interaction_id, event.seq, event.event_type, event.data))
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush_loop())
        return event

    async def _flush_loop(self) -> None:
        while self._pending:
            rows, self._pending = self._pending, []
            try:
                await self.store.append_events(rows)
            except Exception:
                log.exception("could not write %d events", len(rows))

    async def flush(self) -> None:
        """Wait until every queued event is in the database."""
        while self._pending or (self._flusher is not None and not self._flusher.done()):
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush_loop())
            await asyncio.shield(self._flusher)

    async def finish(self, channel: Channel) -> None:
        """Close a channel; once its events are stored, replays come from the database."""
        channel.close()
        if channel.persist:
            await self.flush()
            if self.channels.get(channel.interaction_id) is channel:
                del self.channels[channel.interaction_id]

    async def last_seq(self, interaction_id: str) -> int:
        """The newest event id of a stored or running interaction (0 when none)."""
        channel = self.channels.get(interaction_id)
        if channel is not None:
            return channel.last_seq
        return await self.store.last_event_seq(interaction_id)

    async def follow(self, interaction_id: str, after: int) -> AsyncIterator[LoggedEvent]:
        """Replay strictly after ``after``, then tail live events if the run goes on."""
        channel = self.channels.get(interaction_id)
        if channel is not None:
            async for event in channel.follow(after):
                yield event
            return
        stored: list[StoredEvent] = await self.store.events_after(interaction_id, after)
        for row in stored:
            yield LoggedEvent(row.seq, row.event_type, row.data)
