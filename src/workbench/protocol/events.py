"""SSE events (protocol.md §6.3): 7 kinds tagged by ``event_type``, plus unknown ones.

The event kind comes only from the JSON ``event_type`` (the SSE ``event:`` line is ignored), and
the resume position only from the JSON ``event_id``. Lifecycle events carry a *partial*
Interaction, which is still an ``Interaction`` because every field of it is optional.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag, TypeAdapter

from ._base import UNKNOWN_TAG, EventTagged, Int, WireModel, fallback_to, tag_discriminator
from .deltas import Delta
from .errors import ErrorDetail, ProtocolError, parse
from .interactions import Interaction
from .steps import Step
from .usage import Usage


class InteractionCreatedEvent(EventTagged):
    """First event of a stream: the new interaction (id, status, model/agent, ...)."""

    event_type: Literal["interaction.created"] = "interaction.created"
    event_id: str | None = None
    interaction: Interaction | None = None


class InteractionStatusUpdateEvent(EventTagged):
    """A status transition; a ``continuation_token`` here is a mid-stream checkpoint (§6.7)."""

    event_type: Literal["interaction.status_update"] = "interaction.status_update"
    event_id: str | None = None
    interaction_id: str | None = None
    status: str | None = None
    continuation_token: str | None = None
    usage: Usage | None = None


class StepStartEvent(EventTagged):
    """Opens step ``index`` with its (usually partial) first state and identity fields."""

    event_type: Literal["step.start"] = "step.start"
    event_id: str | None = None
    index: Int | None = None
    step: Step | None = None


class StepDeltaMetadata(WireModel):
    """Running totals sent alongside a delta."""

    total_usage: Usage | None = None


class StepDeltaEvent(EventTagged):
    """A change to step ``index``; fold it as §6.5 says."""

    event_type: Literal["step.delta"] = "step.delta"
    event_id: str | None = None
    index: Int | None = None
    delta: Delta | None = None
    metadata: StepDeltaMetadata | None = None


class StepStopEvent(EventTagged):
    """Closes step ``index`` (parse accumulated function arguments now)."""

    event_type: Literal["step.stop"] = "step.stop"
    event_id: str | None = None
    index: Int | None = None
    usage: Usage | None = None
    step_usage: Usage | None = None


class InteractionCompletedEvent(EventTagged):
    """Last event of a hop, whatever the outcome: carries the real final ``status``."""

    event_type: Literal["interaction.completed"] = "interaction.completed"
    event_id: str | None = None
    interaction: Interaction | None = None


class ErrorEvent(EventTagged):
    """A failure reported in-band: shown, not raised; ``interaction.completed`` follows."""

    event_type: Literal["error"] = "error"
    event_id: str | None = None
    error: ErrorDetail | None = None


class UnknownEvent(WireModel):
    """An event of an unknown type; yielded like the others so clients can skip or show it."""

    event_type: str | None = None
    event_id: str | None = None


EVENT_TYPES = frozenset(
    {
        "interaction.created",
        "interaction.status_update",
        "step.start",
        "step.delta",
        "step.stop",
        "interaction.completed",
        "error",
    }
)

Event = Annotated[
    Annotated[InteractionCreatedEvent, Tag("interaction.created")]
    | Annotated[InteractionStatusUpdateEvent, Tag("interaction.status_update")]
    | Annotated[StepStartEvent, Tag("step.start")]
    | Annotated[StepDeltaEvent, Tag("step.delta")]
    | Annotated[StepStopEvent, Tag("step.stop")]
    | Annotated[InteractionCompletedEvent, Tag("interaction.completed")]
    | Annotated[ErrorEvent, Tag("error")]
    | Annotated[UnknownEvent, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(EVENT_TYPES, "event_type")),
    fallback_to(UnknownEvent),
]
"""One SSE event, tagged by ``event_type``."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: Any, *, lenient: bool = False) -> Event:
    """Parse the JSON of one SSE ``data:`` line into a typed event.

    Unknown ``event_type`` values give ``UnknownEvent``. Raises ``ProtocolError`` when ``data``
    is not a JSON object or (unless ``lenient``) a known event's fields have the wrong types;
    a lenient read keeps what does not fit raw (``_base.LENIENT``).
    """
    if not isinstance(data, dict):
        raise ProtocolError(f"invalid event: expected a JSON object, got {type(data).__name__}")
    return parse(EVENT_ADAPTER, data, "event", lenient=lenient)
