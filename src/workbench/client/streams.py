"""The typed stream handed to callers: :class:`InteractionStream`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from ._wire import Event, Interaction, to_event, to_interaction
from .resume import RawItem, RawSnapshot, ResumeState


@dataclass(frozen=True, slots=True)
class InteractionSnapshot:
    """Not a wire event: the whole interaction, obtained instead of (the rest of) a stream.

    ``source="json_reply"``: the server answered the streaming request with plain JSON.
    ``source="polling"``: the stream dropped and could not be resumed by ``last_event_id``
    (no ids, or the server refused), so the client polled until the interaction finished.
    Events missed in between are *not* invented; ``interaction`` is the final state.
    """

    interaction: Interaction
    source: Literal["json_reply", "polling"]


StreamItem = Event | InteractionSnapshot


class InteractionStream:
    """Typed events of an interaction (and of its continuation hops), each exactly once.

    Use as ``async with client.interactions.create_stream(body) as stream: async for item
    in stream: ...``. Items are protocol :data:`Event` objects, plus at most one final
    :class:`InteractionSnapshot`. Leaving the ``async with`` block (or ``await
    stream.aclose()``) closes the HTTP response.
    """

    def __init__(self, make_raw: Callable[[InteractionStream], AsyncIterator[RawItem]]) -> None:
        self.state: ResumeState = ResumeState()
        self.hop_ids: list[str] = []
        self.snapshot: InteractionSnapshot | None = None
        self.reconnects = 0
        self._gen: AsyncGenerator[StreamItem, None] = self._typed(make_raw(self))

    # -- bookkeeping used by the resources ----------------------------------------------

    def begin_hop(self, state: ResumeState) -> None:
        self.reconnects += self.state.reconnects
        self.state = state

    def hop_done(self, hop_id: str) -> None:
        if hop_id not in self.hop_ids:
            self.hop_ids.append(hop_id)

    @property
    def interaction_id(self) -> str | None:
        """The id of the interaction (the current hop) being streamed, once known."""
        return self.state.interaction_id

    @property
    def last_event_id(self) -> str | None:
        return self.state.last_event_id

    # -- iteration ----------------------------------------------------------------------

    async def _typed(self, raw: AsyncIterator[RawItem]) -> AsyncGenerator[StreamItem, None]:
        async with aclosing(raw) as items:  # type: ignore[type-var]
            async for item in items:
                if isinstance(item, RawSnapshot):
                    snap = InteractionSnapshot(to_interaction(item.data), item.source)
                    self.snapshot = snap
                    yield snap
                else:
                    yield to_event(item)

    def __aiter__(self) -> AsyncGenerator[StreamItem, None]:
        return self._gen

    async def __anext__(self) -> StreamItem:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def __aenter__(self) -> InteractionStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def collect(self) -> list[StreamItem]:
        """Read the whole stream into a list (and close it)."""
        async with self:
            return [item async for item in self._gen]

    def __repr__(self) -> str:
        return (
            f"InteractionStream(interaction_id={self.interaction_id!r}, "
            f"last_event_id={self.last_event_id!r})"
        )
