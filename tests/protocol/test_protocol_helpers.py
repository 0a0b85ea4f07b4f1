"""Helpers and wire details: int64, base64, input forms, pending calls, output text, errors."""

from __future__ import annotations

import typing
from typing import Any, get_args

import pytest
from protocol_checks import assert_round_trip

import workbench.protocol as wp
from workbench.protocol import (
    AntigravityAgentConfig,
    Content,
    CreateAgentInteraction,
    CreateModelInteraction,
    Delta,
    Environment,
    EnvironmentConfig,
    EnvironmentFile,
    ErrorBody,
    ErrorEvent,
    Event,
    FunctionCallStep,
    FunctionResultStep,
    ImageContent,
    Interaction,
    ListModelsResponse,
    ModelOutputStep,
    ProtocolError,
    Step,
    TextContent,
    TextResponseFormat,
    ThoughtStep,
    Tool,
    UserInputStep,
    decode_bytes,
    encode_bytes,
    is_legacy_turn,
    normalize_input,
    output_text,
    parse_create_body,
    parse_event,
    parse_interaction,
    pending_function_calls,
    upload_result_files,
)

# --- construction in code -----------------------------------------------------------------


def _members(union: Any) -> list[Any]:
    """The model classes of an ``Annotated[Union[Annotated[cls, Tag], ...], Discriminator]``."""
    inner = get_args(union)[0]
    return [get_args(member)[0] for member in get_args(inner)]


@pytest.mark.parametrize(
    "union", [Content, Step, Tool, Delta], ids=["content", "step", "tool", "delta"]
)
def test_every_known_member_writes_its_tag(union: Any) -> None:
    for cls in _members(union):
        if cls.__name__.startswith("Unknown"):
            continue
        tag = cls.model_fields["type"].default
        assert cls().to_wire() == {"type": tag}, cls.__name__


def test_events_write_their_event_type() -> None:
    for cls in _members(Event):
        if cls.__name__ != "UnknownEvent":
            assert cls().to_wire() == {"event_type": cls.model_fields["event_type"].default}


def test_pleasant_construction() -> None:
    assert TextContent(text="hi").to_wire() == {"type": "text", "text": "hi"}
    assert TextResponseFormat(schema_={"type": "object"}).to_wire() == {
        "type": "text",
        "schema": {"type": "object"},
    }
    assert EnvironmentConfig(environment_id="e").to_wire() == {
        "type": "remote",
        "environment_id": "e",
    }
    body = CreateModelInteraction(model="m", input=[UserInputStep(content=[TextContent(text="q")])])
    assert body.to_wire() == {
        "model": "m",
        "input": [{"type": "user_input", "content": [{"type": "text", "text": "q"}]}],
    }
    assert ErrorEvent(error=wp.ErrorDetail(code="x", message="y")).to_wire() == {
        "event_type": "error",
        "error": {"code": "x", "message": "y"},
    }


def test_parsed_payload_without_constant_type_stays_without_it() -> None:
    assert_round_trip(EnvironmentConfig, {"environment_id": "e"})
    assert_round_trip(CreateAgentInteraction, {"agent": "a", "environment": {"sources": []}})


# --- int64 and bytes ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2000000", 2000000, " 2000000 "])
def test_int64_reads_string_or_number_and_writes_string(value: Any) -> None:
    config = AntigravityAgentConfig.model_validate(
        {"type": "antigravity", "max_total_tokens": value}
    )
    assert config.max_total_tokens == 2000000
    assert config.to_wire() == {"type": "antigravity", "max_total_tokens": "2000000"}


def test_int64_fields_of_environment_and_files() -> None:
    env = Environment.model_validate({"id": "e", "file_count": 3, "size_bytes": "-1"})
    assert (env.file_count, env.size_bytes) == (3, -1)
    assert env.to_wire() == {"id": "e", "file_count": "3", "size_bytes": "-1"}
    assert EnvironmentFile(size_bytes=12).to_wire() == {"size_bytes": "12"}
    assert Environment(environment_id="x").effective_id == "x"


@pytest.mark.parametrize("bad", ["12a", "1.5", "", True, 1.5, [1]])
def test_int64_rejects_non_integers(bad: Any) -> None:
    with pytest.raises(ProtocolError):
        wp.parse(Environment, {"file_count": bad})


def test_base64_helpers() -> None:
    assert encode_bytes(b"\xff\xfe\x00") == "//4A"
    assert decode_bytes("//4A") == b"\xff\xfe\x00"
    assert decode_bytes("__4A") == b"\xff\xfe\x00"  # URL-safe alphabet tolerated
    assert decode_bytes("aGk") == b"hi"  # missing padding tolerated
    with pytest.raises(ValueError, match="base64"):
        decode_bytes("a$b")
    image = ImageContent(data=encode_bytes(b"png"), mime_type="image/png")
    assert decode_bytes(image.data or "") == b"png"


# --- input forms ----------------------------------------------------------------------------


def _wire(steps: list[Any]) -> list[Any]:
    return [s.to_wire() for s in steps]


def test_normalize_input_all_four_forms() -> None:
    user = {"type": "user_input", "content": [{"type": "text", "text": "hi"}]}
    assert _wire(normalize_input("hi")) == [user]
    assert _wire(normalize_input({"type": "text", "text": "hi"})) == [user]
    assert _wire(normalize_input([{"type": "text", "text": "hi"}])) == [user]
    steps = [
        user,
        {"type": "model_output", "content": []},
        {"type": "function_result", "call_id": "c"},
    ]
    normalized = normalize_input(steps)
    assert _wire(normalized) == steps
    assert isinstance(normalized[2], FunctionResultStep)
    assert normalize_input(None) == []
    assert normalize_input([]) == []
    assert _wire(normalize_input(TextContent(text="hi"))) == [user]


def test_input_list_with_any_non_content_item_is_steps() -> None:
    body = CreateModelInteraction.model_validate(
        {"model": "m", "input": [{"type": "text", "text": "a"}, {"type": "thought"}]}
    )
    assert isinstance(body.input, list)
    assert [type(x).__name__ for x in body.input] == ["UnknownStep", "ThoughtStep"]
    mixed = {"model": "m", "input": [{"type": "image", "uri": "u"}, {"type": "text", "text": "t"}]}
    parsed = assert_round_trip(CreateModelInteraction, mixed)
    assert isinstance(parsed.input, list) and isinstance(parsed.input[0], ImageContent)


def test_legacy_turn_detection() -> None:
    assert is_legacy_turn({"role": "user", "content": [{"type": "text", "text": "x"}]})
    assert is_legacy_turn([{"role": "user", "content": "x"}])
    assert is_legacy_turn([{"type": "user_input"}, {"role": "model", "parts": []}])
    assert not is_legacy_turn("hi")
    assert not is_legacy_turn([{"type": "user_input", "content": []}])
    assert not is_legacy_turn({"type": "text", "text": "role"})
    parsed = CreateModelInteraction.model_validate({"model": "m", "input": [{"role": "user"}]})
    assert is_legacy_turn(parsed.input)


# --- steps helpers ----------------------------------------------------------------------------


def _steps(raw: list[dict[str, Any]]) -> list[Any]:
    return parse_interaction({"steps": raw}).steps or []


def test_pending_function_calls() -> None:
    steps = _steps(
        [
            {"type": "user_input", "content": [{"type": "text", "text": "go"}]},
            {"type": "function_call", "id": "fs_1", "name": "read_file", "arguments": {}},
            {"type": "function_result", "call_id": "fs_1", "result": "data"},
            {"type": "thought", "signature": "AA=="},
            {"type": "function_call", "id": "c1", "name": "weather", "arguments": {"city": "MV"}},
            {"type": "function_call", "id": "c2", "name": "time", "arguments": {}},
            {"type": "function_result", "call_id": "c0", "result": "stale"},
        ]
    )
    pending = pending_function_calls(steps)
    assert [c.id for c in pending] == ["c1", "c2"]
    assert all(isinstance(c, FunctionCallStep) for c in pending)
    # A result *before* the call does not answer it.
    early = _steps(
        [
            {"type": "function_result", "call_id": "c1", "result": "x"},
            {"type": "function_call", "id": "c1", "name": "f", "arguments": {}},
        ]
    )
    assert [c.id for c in pending_function_calls(early)] == ["c1"]
    assert pending_function_calls(None) == []


def test_output_text() -> None:
    steps = _steps(
        [
            {"type": "user_input", "content": [{"type": "text", "text": "old question"}]},
            {"type": "model_output", "content": [{"type": "text", "text": "old answer"}]},
            {"type": "user_input", "content": [{"type": "text", "text": "q"}]},
            {"type": "model_output", "content": [{"type": "text", "text": "ignored"}]},
            {"type": "function_call", "id": "c", "name": "f", "arguments": {}},
            {"type": "model_output", "content": [{"type": "text", "text": "A"}]},
            {"type": "thought", "summary": [{"type": "text", "text": "hmm"}]},
            {
                "type": "model_output",
                "content": [{"type": "text", "text": "B"}, {"type": "text", "text": "C"}],
            },
        ]
    )
    assert output_text(steps) == "ABC"  # thought steps do not break the run
    interrupted = [
        ModelOutputStep(
            content=[TextContent(text="A"), ImageContent(uri="u"), TextContent(text="B")]
        )
    ]
    assert output_text(interrupted) == "B"  # a non-text block ends the run
    assert (
        output_text(_steps([{"type": "user_input", "content": [{"type": "text", "text": "q"}]}]))
        == ""
    )
    only_image = [ModelOutputStep(content=[TextContent(text="x"), ImageContent(uri="u")])]
    assert output_text(only_image) == "x"
    assert output_text([ThoughtStep(), ModelOutputStep(content=[TextContent(text="y")])]) == "y"
    assert output_text(None) == ""


# --- unions that are not tagged -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "kind"),
    [
        ("Sunny", str),
        ({"temp_c": 21}, dict),
        ([{"type": "text", "text": "a"}, {"type": "image", "data": "AA=="}], list),
        ([1, "two"], list),
        (3.5, float),
        (None, type(None)),
        (True, bool),
    ],
)
def test_function_result_value_forms(result: Any, kind: Any) -> None:
    step = {"type": "function_result", "call_id": "c", "result": result}
    if result is None:
        parsed = Interaction.model_validate({"steps": [step]})
    else:
        parsed = assert_round_trip(Interaction, {"steps": [step]})
    value: Any = parsed.steps[0].result  # type: ignore[index, union-attr]
    assert isinstance(value, kind)
    if isinstance(result, list) and isinstance(result[0], dict):
        assert isinstance(value[0], TextContent)


# --- create bodies and errors -----------------------------------------------------------------


def test_parse_create_body_picks_the_shape() -> None:
    assert isinstance(parse_create_body({"model": "m", "input": "x"}), CreateModelInteraction)
    assert isinstance(parse_create_body({"agent": "a", "input": "x"}), CreateAgentInteraction)
    assert isinstance(parse_create_body({"model": "m", "agent": None}), CreateModelInteraction)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "agent": "a"},
        {"model": "m", "agent_config": {"type": "dynamic"}},
        {"agent": "a", "generation_config": {}},
        {"agent": "a", "cached_content": "cachedContents/1"},
        {"input": "x"},
        {"model": 5},
        "not an object",
    ],
)
def test_parse_create_body_rejects(body: Any) -> None:
    with pytest.raises(ProtocolError):
        parse_create_body(body)


@pytest.mark.parametrize(
    ("event", "where"),
    [
        (
            {"event_type": "step.delta", "index": 1, "delta": {"type": "text", "text": 5}},
            "delta.text",
        ),
        ({"event_type": "step.start", "index": "1"}, "index"),
        (
            {"event_type": "interaction.completed", "interaction": {"steps": {}}},
            "interaction.steps",
        ),
        ({"event_type": "error", "error": {"code": 1.5}}, "error.code"),
        ({"event_type": 7}, "event_type"),
    ],
)
def test_parse_event_errors_are_readable(event: Any, where: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event(event)
    message = str(info.value)
    assert message.startswith("invalid event: ")
    assert f"{where}:" in message
    assert "errors.pydantic.dev" not in message and "input_value" not in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("data", [None, [], "x", 3])
def test_parse_event_rejects_non_objects(data: Any) -> None:
    with pytest.raises(ProtocolError):
        parse_event(data)


def test_error_bodies_accept_string_and_numeric_codes() -> None:
    engine = {"error": {"code": "invalid_request", "message": "m", "status": "INVALID_ARGUMENT"}}
    google = {
        "error": {"code": 429, "message": "m", "status": "RESOURCE_EXHAUSTED", "details": [{}]}
    }
    assert assert_round_trip(ErrorBody, engine).error.code == "invalid_request"
    assert assert_round_trip(ErrorBody, google).error.code == 429
    rpc = {"steps": [{"type": "model_output", "error": {"code": 3, "message": "x", "details": []}}]}
    assert_round_trip(Interaction, rpc)


# --- other resources ------------------------------------------------------------------------


def test_upload_result_shapes() -> None:
    f = {"name": "a.txt", "path": "a.txt", "type": "file", "size_bytes": "3"}
    for body in ({"files": [f]}, {"file": f}, f):
        files = upload_result_files(body)
        assert [x.to_wire() for x in files] == [f]
    with pytest.raises(ProtocolError):
        upload_result_files({"files": "nope"})


def test_models_list_is_camel_case() -> None:
    data = {
        "models": [
            {
                "name": "models/gemini-3-flash-preview",
                "displayName": "Gemini 3 Flash",
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent"],
                "temperature": 1,
                "maxTemperature": 2,
                "topP": 0.95,
                "topK": 64,
                "thinking": True,
                "newField": 1,
            }
        ],
        "nextPageToken": "p2",
    }
    page = assert_round_trip(ListModelsResponse, data)
    assert page.models is not None
    assert page.models[0].model_id == "gemini-3-flash-preview"
    assert page.models[0].display_name == "Gemini 3 Flash"


def test_public_names() -> None:
    for name in [
        "Interaction",
        "CreateModelInteraction",
        "CreateAgentInteraction",
        "Agent",
        "Environment",
        "EnvironmentFile",
        "parse_event",
        "parse_interaction",
        "Event",
        "Step",
        "Content",
        "Tool",
        "Usage",
        "ErrorBody",
        "ProtocolError",
    ]:
        assert name in wp.__all__
    assert len(set(wp.__all__)) == len(wp.__all__)
    assert all(hasattr(wp, name) for name in wp.__all__)
    assert typing.get_origin(wp.Step) is typing.Annotated  # type: ignore[comparison-overlap]
