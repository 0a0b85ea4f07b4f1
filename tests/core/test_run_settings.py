from __future__ import annotations

import json

import pytest

from workbench.core.functions import parse_functions
from workbench.core.run_settings import McpServer, RunSettings, build_request, user_turn


def test_first_turn_and_continuation() -> None:
    settings = RunSettings(
        target="gemini-3-flash-preview",
        system_instruction="Be brief.",
        temperature=0.2,
        builtin_tools=["google_search"],
        functions=[{"name": "f", "parameters": {"type": "object"}}],
        mcp_servers=[McpServer(name="w", url="https://mcp.example/mcp")],
    )
    turn = user_turn([{"type": "text", "text": "hi"}])
    first = build_request(settings, turn)
    assert first["model"] == "gemini-3-flash-preview"
    assert "previous_interaction_id" not in first
    assert first["generation_config"] == {"temperature": 0.2}
    assert first["tools"][0] == {"type": "google_search"}
    assert first["tools"][1] == {"type": "function", "name": "f", "parameters": {"type": "object"}}
    assert first["tools"][2]["type"] == "mcp_server"
    assert first["stream"] is True
    assert "store" not in first
    second = build_request(settings, turn, "v1_prev")
    assert second["previous_interaction_id"] == "v1_prev"
    assert second["input"] == turn  # only the new turn
    assert second["system_instruction"] == "Be brief."  # resent every turn


def test_agents_get_no_generation_config() -> None:
    body = build_request(
        RunSettings(target_kind="agent", target="deep-research", temperature=0.5, store=False),
        user_turn([]),
    )
    assert body["agent"] == "deep-research"
    assert "generation_config" not in body
    assert body["store"] is False


def test_no_target_is_refused() -> None:
    with pytest.raises(ValueError, match="choose a model"):
        build_request(RunSettings(), user_turn([]))


def test_function_editor_validation() -> None:
    good = json.dumps(
        [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {}}}}]
    )
    decls, problems = parse_functions(good)
    assert problems == []
    assert decls[0]["name"] == "get_weather"
    _, problems = parse_functions('[{"name": "x", "parameters": {"type": "objekt"}}]')
    assert "invalid JSON Schema" in str(problems[0])
    _, problems = parse_functions('[{"name": "x", "parameters": {"type": "string"}}]')
    assert "must describe an object" in str(problems[0])
    _, problems = parse_functions('[{"name": "x"},')
    assert str(problems[0]).startswith("line 1")
    _, problems = parse_functions('[{"name": "1bad"}, {"name": "a"}, {"name": "a"}]')
    assert len(problems) == 2
    assert "declared twice" in str(problems[1])
    _, problems = parse_functions('{"name": "x", "parameters": {"properties": {"a": {"type": 5}}}}')
    assert "parameters/properties/a/type" in str(problems[0])
    assert parse_functions("  ") == ([], [])
