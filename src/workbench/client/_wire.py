"""The protocol models the client builds from wire JSON (the one place it imports them).

A parse failure of a *response* is the server breaking the protocol, so it becomes a
:class:`~workbench.client.errors.ProtocolViolationError` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.protocol import (
    Agent,
    Environment,
    EnvironmentFile,
    Event,
    Interaction,
    ProtocolError,
    parse_event,
    parse_interaction,
)

from .errors import ProtocolViolationError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "Agent",
    "Environment",
    "EnvironmentFile",
    "Event",
    "Interaction",
    "body_of",
    "to_event",
    "to_interaction",
    "to_model",
]


def to_event(data: dict[str, Any]) -> Event:
    try:
        return parse_event(data)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(f"The server sent an invalid event: {exc}") from None


def to_interaction(data: dict[str, Any]) -> Interaction:
    try:
        return parse_interaction(data)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(f"The server sent an invalid interaction: {exc}") from None


def to_model(cls: type[M], data: Any, what: str) -> M:
    try:
        return cls.model_validate(data)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(f"The server sent an invalid {what}: {exc}") from None


def body_of(value: Any) -> dict[str, Any]:
    """A request body from a protocol model (``.to_wire()``) or a plain mapping (copied)."""
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        wire = to_wire()
        if not isinstance(wire, dict):
            raise TypeError("to_wire() must return a dict")
        return dict(wire)
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items() if v is not None}
    raise TypeError(f"expected a protocol model or a dict, got {type(value).__name__}")
