"""The protocol models the client builds from wire JSON (the one place it imports them).

Responses are read leniently, like the official SDK reads them (``protocol.LENIENT``):
unknown fields, steps, content and deltas, and values wider than our models, are kept as raw
JSON instead of failing the interaction. Only a payload that is not the resource at all (not
a JSON object) is the server breaking the protocol, and becomes a
:class:`~workbench.client.errors.ProtocolViolationError` here. Requests are built from the
same models without that context, so what we send stays validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.protocol import (
    LENIENT,
    Agent,
    Environment,
    EnvironmentFile,
    Event,
    Interaction,
    ProtocolError,
    Trigger,
    TriggerExecution,
    Webhook,
    WebhookDelivery,
    parse_event,
    parse_interaction,
)
from workbench.protocol import (
    Credential as StoredCredential,
)

from .errors import ProtocolViolationError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "Agent",
    "Environment",
    "EnvironmentFile",
    "Event",
    "Interaction",
    "StoredCredential",
    "Trigger",
    "TriggerExecution",
    "Webhook",
    "WebhookDelivery",
    "body_of",
    "to_event",
    "to_interaction",
    "to_model",
]


def to_event(data: dict[str, Any]) -> Event:
    try:
        return parse_event(data, lenient=True)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(f"The server sent an invalid event: {exc}") from None


def to_interaction(data: dict[str, Any]) -> Interaction:
    try:
        return parse_interaction(data, lenient=True)
    except (ProtocolError, ValidationError) as exc:
        raise ProtocolViolationError(f"The server sent an invalid interaction: {exc}") from None


def to_model(cls: type[M], data: Any, what: str) -> M:
    if not isinstance(data, dict):
        raise ProtocolViolationError(
            f"The server sent an invalid {what}: expected a JSON object, got {type(data).__name__}"
        )
    try:
        return cls.model_validate(data, context=LENIENT)
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
