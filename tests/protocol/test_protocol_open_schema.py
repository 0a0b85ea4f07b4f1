"""Unknown tags, fields and enum values survive a parse and are written back unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from protocol_checks import assert_round_trip

from workbench.protocol import (
    EVENT_ADAPTER,
    Agent,
    CreateAgentInteraction,
    CreateModelInteraction,
    Environment,
    EnvironmentConfig,
    InlineSource,
    Interaction,
    StepDeltaEvent,
    UnknownAgentConfig,
    UnknownAnnotation,
    UnknownContent,
    UnknownDelta,
    UnknownEvent,
    UnknownSource,
    UnknownStep,
    UnknownTool,
    UserInputStep,
    parse_event,
    parse_interaction,
)

RAW = {"nested": {"a": [1, "two", None, {"b": True}]}, "n": 1.5}


@pytest.mark.parametrize(
    ("data", "path", "expected"),
    [
        (
            {"id": "i", "status": "completed", "steps": [{"type": "hologram", "x": 1, **RAW}]},
            lambda m: m.steps[0],
            UnknownStep,
        ),
        (
            {"steps": [{"type": "user_input", "content": [{"type": "smell", **RAW}]}]},
            lambda m: m.steps[0].content[0],
            UnknownContent,
        ),
        (
            {
                "steps": [
                    {
                        "type": "model_output",
                        "content": [
                            {"type": "text", "text": "t", "annotations": [{"type": "vibe", **RAW}]}
                        ],
                    }
                ]
            },
            lambda m: m.steps[0].content[0].annotations[0],
            UnknownAnnotation,
        ),
        (
            {"tools": [{"type": "teleport", "range": 3, **RAW}]},
            lambda m: m.tools[0],
            UnknownTool,
        ),
        (
            {"agent": "a", "agent_config": {"type": "future-agent", **RAW}},
            lambda m: m.agent_config,
            UnknownAgentConfig,
        ),
        (
            {"environment": {"type": "remote", "sources": [{"type": "ftp", **RAW}]}},
            lambda m: m.environment.sources[0],
            UnknownSource,
        ),
        (
            {
                "steps": [
                    {
                        "type": "function_result",
                        "call_id": "c",
                        "result": [{"type": "hologram", **RAW}],
                    }
                ]
            },
            lambda m: m.steps[0].result[0],
            UnknownContent,
        ),
    ],
)
def test_unknown_union_members_keep_everything(data: Any, path: Any, expected: Any) -> None:
    parsed = assert_round_trip(Interaction, data)
    member: Any = path(parsed)
    assert isinstance(member, expected)
    assert member.model_extra is not None and member.model_extra["nested"] == RAW["nested"]


def test_unknown_delta_and_event() -> None:
    delta = {"event_type": "step.delta", "index": 2, "delta": {"type": "smell", **RAW}}
    event = assert_round_trip(EVENT_ADAPTER, delta)
    assert isinstance(event, StepDeltaEvent) and isinstance(event.delta, UnknownDelta)
    future = {"event_type": "interaction.in_progress", "event_id": "3", **RAW}
    unknown = parse_event(future)
    assert isinstance(unknown, UnknownEvent)
    assert unknown.event_id == "3"
    assert unknown.model_dump(mode="json", by_alias=True, exclude_unset=True) == future
    # An event without event_type is unknown, not an error.
    assert isinstance(parse_event({"foo": 1}), UnknownEvent)


def test_unknown_fields_on_known_members_survive() -> None:
    data = {
        "id": "v1_x",
        "object": "interaction",
        "status": "brand_new_status",
        "future_field": RAW,
        "usage": {"total_tokens": 3, "total_quantum_tokens": 9},
        "steps": [
            {"type": "thought", "signature": "AAAA", "summary": [], "extra": RAW},
            {"type": "user_input", "content": [{"type": "image", "uri": "u", "hdr": True}]},
        ],
        "service_tier": "galactic",
        "agent_config": {"type": "antigravity", "max_total_tokens": "5", "new_knob": [1]},
    }
    parsed = assert_round_trip(Interaction, data)
    assert parsed.status == "brand_new_status"
    assert parsed.model_extra == {"future_field": RAW}


def test_enum_values_are_open_strings() -> None:
    body = {
        "model": "gemini-99",
        "input": "x",
        "generation_config": {"thinking_level": "ultra", "tool_choice": "sometimes"},
        "safety_settings": [{"type": "new_harm", "threshold": "maybe", "method": "vibes"}],
        "response_modalities": ["smell"],
        "response_format": {"type": "hologram", "depth": 3},
        "environment": {"type": "local", "network": "sometimes"},
    }
    assert_round_trip(CreateModelInteraction, body)


def test_source_tags_match_any_case_and_keep_their_spelling() -> None:
    data = {"type": "remote", "sources": [{"type": "INLINE", "target": "a", "content": "b"}]}
    config = assert_round_trip(EnvironmentConfig, data)
    assert config.sources is not None and isinstance(config.sources[0], InlineSource)


def test_both_mcp_allowed_tools_shapes() -> None:
    sdk_shape = {
        "type": "mcp_server",
        "name": "w",
        "allowed_tools": [{"mode": "auto", "tools": ["f"]}],
    }
    names_shape = {"type": "mcp_server", "name": "w", "allowed_tools": ["f", "g"]}
    for tool in (sdk_shape, names_shape):
        agent = assert_round_trip(Agent, {"id": "a", "tools": [tool]})
        assert agent.tools is not None
    parsed = Agent.model_validate({"tools": [names_shape]})
    assert parsed.tools is not None and parsed.tools[0].allowed_tool_names() == ["f", "g"]  # type: ignore[union-attr]


def test_unknown_fields_inside_every_create_shape() -> None:
    agent_body = {
        "agent": "deep-research-preview-04-2026",
        "input": [{"type": "user_input", "content": [{"type": "text", "text": "q"}], "z": 1}],
        "agent_config": {"type": "deep-research", "visualization": "wild", "q": {"r": 1}},
        "environment": "env_1",
        "extra_body_key": [1, 2],
    }
    body = assert_round_trip(CreateAgentInteraction, agent_body)
    assert isinstance(body.input, list) and isinstance(body.input[0], UserInputStep)


def test_environment_resource_with_unknown_network_and_fields() -> None:
    data = {"id": "e", "network": {"allowlist": "disabled", "mode": "x"}, "zone": "mars"}
    assert_round_trip(Environment, data)


def test_parse_interaction_keeps_unknowns() -> None:
    data = {"id": "i", "steps": [{"type": "teleport_call", "id": "c"}]}
    assert isinstance(parse_interaction(data).steps[0], UnknownStep)  # type: ignore[index]
