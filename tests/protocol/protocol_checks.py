"""Shared assertions for the protocol tests: the exact round trip and the "nothing unknown" walk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter

from workbench.protocol import (
    EVENT_ADAPTER,
    Agent,
    CreateAgentInteraction,
    CreateModelInteraction,
    Environment,
    EnvironmentConfig,
    EnvironmentFilesResponse,
    ErrorBody,
    Interaction,
    Usage,
    WireModel,
    parse,
)


def wire(schema: Any, parsed: Any) -> Any:
    """The wire form of a parsed value, as the round-trip contract defines it."""
    if isinstance(schema, TypeAdapter):
        return schema.dump_python(parsed, mode="json", by_alias=True, exclude_unset=True)
    assert isinstance(parsed, BaseModel)
    return parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)


def assert_round_trip(schema: Any, data: Any) -> Any:
    """Parse ``data`` and check that dumping gives back exactly ``data``; returns the parse."""
    parsed = parse(schema, data)
    assert wire(schema, parsed) == data
    return parsed


def unknown_members(value: Any, path: str = "") -> list[str]:
    """Paths of every ``Unknown*`` model inside a parsed value (empty when all tags were known)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        if type(value).__name__.startswith("Unknown"):
            found.append(path or "<root>")
        for name in type(value).model_fields:
            found += unknown_members(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += unknown_members(item, f"{path}.{i}")
    return found


def classify(data: dict[str, Any]) -> Any:
    """The model (or adapter) an example belongs to, judged by its shape."""
    rules: list[tuple[Callable[[dict[str, Any]], bool], Any]] = [
        (lambda d: d == {}, WireModel),  # DELETE -> 200 {}
        (lambda d: "event_type" in d, EVENT_ADAPTER),
        (lambda d: set(d) == {"error"}, ErrorBody),
        (lambda d: "files" in d, EnvironmentFilesResponse),
        (lambda d: "base_agent" in d, Agent),
        (lambda d: "total_input_tokens" in d, Usage),
        (lambda d: "file_count" in d, Environment),
        (lambda d: d.get("type") == "remote", EnvironmentConfig),
        (lambda d: "status" in d and "id" in d, Interaction),
        (lambda d: "agent" in d, CreateAgentInteraction),
        (lambda d: set(d) <= set(CreateModelInteraction.model_fields), CreateModelInteraction),
    ]
    for matches, schema in rules:
        if matches(data):
            return schema
    raise AssertionError(f"no model for example {data!r}")
