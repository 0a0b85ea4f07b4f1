"""Pure tool-call / JSON helpers shared by the backends."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.engine.backends.base import FunctionSpec, Message, ToolCall
from workbench.engine.backends.chat_messages import chat_dicts, image_mime
from workbench.engine.backends.schemas import (
    call_schema,
    callable_functions,
    normalize_schema,
    tool_dicts,
)
from workbench.engine.backends.toolcall import (
    CallOpened,
    CallPart,
    ParsedPart,
    StopFilter,
    TextPart,
    ThoughtPart,
    ToolCallParser,
    parse_call,
)

WEATHER = FunctionSpec(
    "get_weather",
    "Weather for a city",
    {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
)
TIME = FunctionSpec("get_time", "", {})


def _run(parser: ToolCallParser, pieces: list[str]) -> list[ParsedPart]:
    out: list[ParsedPart] = []
    for piece in pieces:
        out.extend(parser.feed(piece))
    out.extend(parser.finish())
    return out


def _merged(parts: list[ParsedPart]) -> list[ParsedPart]:
    """Adjacent text (or thought) parts joined, CallOpened markers dropped."""
    merged: list[ParsedPart] = []
    for part in parts:
        if isinstance(part, CallOpened):
            continue
        if merged and type(part) is type(merged[-1]) and isinstance(part, TextPart | ThoughtPart):
            merged[-1] = type(part)(merged[-1].text + part.text)  # type: ignore[union-attr]
        else:
            merged.append(part)
    return merged


def test_normalize_schema_lowercases_types_and_nullable():
    schema = {
        "type": "OBJECT",
        "propertyOrdering": ["a"],
        "properties": {
            "a": {"type": "STRING", "nullable": True},
            "b": {"type": "ARRAY", "items": {"type": "INTEGER"}},
        },
    }
    assert normalize_schema(schema) == {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"type": "array", "items": {"type": "integer"}},
        },
    }


def test_call_schema_single_and_union():
    single = call_schema([WEATHER])
    assert single["properties"]["name"] == {"const": "get_weather"}
    assert single["properties"]["arguments"]["properties"]["city"] == {"type": "string"}
    assert list(single["properties"]) == ["name", "arguments"]
    union = call_schema([WEATHER, TIME])
    assert [v["properties"]["name"]["const"] for v in union["oneOf"]] == ["get_weather", "get_time"]
    assert union["oneOf"][1]["properties"]["arguments"] == {"type": "object"}
    with pytest.raises(ValueError):
        call_schema([])


def test_callable_functions_and_tool_dicts():
    assert callable_functions([WEATHER, TIME], None) == [WEATHER, TIME]
    assert callable_functions([WEATHER, TIME], ("get_time",)) == [TIME]
    tools = tool_dicts([WEATHER])
    assert tools[0]["type"] == "function"
    assert tools[0]["function"]["parameters"]["type"] == "object"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "f", "arguments": {"x": 1}}', ("f", {"x": 1})),
        ('  {"name": "f", "arguments": "{\\"x\\": 1}"}\n', ("f", {"x": 1})),
        ('{"name": "f"}', ("f", {})),
        ('{"name": "f", "parameters": {"y": 2}}', ("f", {"y": 2})),
        ('{"name": "f", "arguments": null}', ("f", {})),
        ('{"name": "f", "arguments": [1]}', None),
        ('{"name": "f", "arguments": "{oops"}', None),
        ('{"name": 3, "arguments": {}}', None),
        ('{"name": "f", "arguments": {}} trailing', None),
        ('{"name": "f", "arguments": {', None),
        ("not json", None),
        ("[1, 2]", None),
    ],
)
def test_parse_call(text: str, expected: tuple[str, dict[str, object]] | None):
    assert parse_call(text) == expected


def test_parse_call_checks_allowed_names():
    assert parse_call('{"name": "f", "arguments": {}}', allowed={"g"}) is None
    assert parse_call('{"name": "g", "arguments": {}}', allowed={"g"}) == ("g", {})


def test_parser_text_then_call_split_across_pieces():
    parser = ToolCallParser(calls=True)
    pieces = ["Let me check", ".\n<tool", '_call>\n{"name": "get_weather", ', '"arguments": ']
    pieces += ['{"city": "Paris"}}\n</tool_', "call>\n"]
    parts = _run(parser, pieces)
    assert _merged(parts) == [
        TextPart("Let me check.\n"),
        CallPart("get_weather", {"city": "Paris"}),
    ]
    assert any(isinstance(p, CallOpened) for p in parts)
    assert parser.calls_made == 1


def test_parser_two_calls_and_whitespace_dropped():
    text = (
        '<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n'
        '<tool_call>\n{"name": "b", "arguments": {"k": [1]}}\n</tool_call>\n'
    )
    assert _merged(_run(ToolCallParser(calls=True), list(text))) == [
        CallPart("a", {}),
        CallPart("b", {"k": [1]}),
    ]


def test_parser_malformed_call_falls_back_to_text():
    text = "Sure <tool_call>{not json}</tool_call> done"
    assert _merged(_run(ToolCallParser(calls=True), [text])) == [
        TextPart("Sure <tool_call>{not json}</tool_call> done")
    ]


def test_parser_unknown_function_is_text():
    text = '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>'
    parts = _merged(_run(ToolCallParser(calls=True, allowed={"ls"}), [text]))
    assert parts == [TextPart(text)]


def test_parser_unclosed_call_at_end():
    good = _run(ToolCallParser(calls=True), ['<tool_call>\n{"name": "a", "arguments": {"x": 1}}'])
    assert _merged(good) == [CallPart("a", {"x": 1})]
    bad = _run(ToolCallParser(calls=True), ['<tool_call>\n{"name": "a", "argu'])
    assert _merged(bad) == [TextPart('<tool_call>\n{"name": "a", "argu')]


def test_parser_without_calls_passes_tags_through():
    text = 'x <tool_call>{"name": "a"}</tool_call>'
    assert _merged(_run(ToolCallParser(calls=False), [text])) == [TextPart(text)]


def test_parser_held_prefix_that_is_not_a_tag_is_released():
    parser = ToolCallParser(calls=True)
    assert _merged(parser.feed("a <tool")) == [TextPart("a ")]
    assert _merged(parser.feed("box> b")) == [TextPart("<toolbox> b")]


def test_parser_think_block_at_start():
    parts = _merged(
        _run(ToolCallParser(calls=True), ["<th", "ink>plan", " it</thi", "nk>\n\nAnswer"])
    )
    assert parts == [ThoughtPart("plan it"), TextPart("Answer")]
    later = _merged(_run(ToolCallParser(calls=True), ["Answer <think>x</think>"]))
    assert later == [TextPart("Answer <think>x</think>")]


def test_parser_complete_call_for_constrained_decoding():
    parser = ToolCallParser(calls=True, in_call=True)
    assert parser.in_call
    assert parser.complete_call('{"name": "a", "arguments": {"q": "x"}}') == [
        CallPart("a", {"q": "x"})
    ]
    assert not parser.in_call


@given(st.text(alphabet='ab<>/_toolcaleh{}":, \n', max_size=80), st.data())
def test_parser_never_loses_plain_text(text: str, data: st.DataObject):
    """Without calls or thoughts, whatever the split, the text comes out unchanged."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    parts = _run(ToolCallParser(calls=False, think=False), pieces)
    assert "".join(p.text for p in parts if isinstance(p, TextPart)) == text


@given(st.text(alphabet='ab<>/_toolcaleh{}":, \n', max_size=80), st.data())
def test_parser_with_calls_never_crashes(text: str, data: st.DataObject):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    parts = _run(ToolCallParser(calls=True), pieces)
    for part in parts:
        assert isinstance(part, TextPart | ThoughtPart | CallOpened | CallPart)


@pytest.mark.parametrize(
    ("pieces", "stops", "expected", "stopped"),
    [
        (["hello wor", "ld END more"], ["END"], "hello world ", True),
        (["abc E", "N", "D"], ["END"], "abc ", True),
        (["abc E", "NX"], ["END"], "abc ENX", False),
        (["x"], [], "x", False),
        (["one\n\ntwo"], ["\n\n", "tw"], "one", True),
    ],
)
def test_stop_filter(pieces: list[str], stops: list[str], expected: str, stopped: bool):
    f = StopFilter(stops)
    out = "".join(f.feed(p) for p in pieces) + f.flush()
    assert out == expected
    assert f.stopped is stopped


def test_chat_dicts_for_templates_and_wire():
    messages = (
        Message("user", "hi"),
        Message("system", "be brief"),
        Message("assistant", "", tool_calls=(ToolCall("c1", "get_weather", {"city": "Oslo"}),)),
        Message("tool", '{"temp": 3}', tool_call_id="c1", name="get_weather"),
        Message("user", "look", images=(b"\x89PNG\r\n\x1a\nxx",)),
    )
    wire = chat_dicts(messages, arguments_as_text=True, images=True, system_extra="JSON only")
    assert wire[0] == {"role": "system", "content": "be brief\n\nJSON only"}
    assert wire[1] == {"role": "user", "content": "hi"}
    call = wire[2]["tool_calls"][0]
    assert wire[2]["content"] is None
    assert json.loads(call["function"]["arguments"]) == {"city": "Oslo"}
    assert wire[3] == {
        "role": "tool",
        "content": '{"temp": 3}',
        "tool_call_id": "c1",
        "name": "get_weather",
    }
    assert wire[4]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    template = chat_dicts(messages, arguments_as_text=False)
    assert template[2]["tool_calls"][0]["function"]["arguments"] == {"city": "Oslo"}
    assert template[2]["content"] == ""
    assert template[4] == {"role": "user", "content": "look"}


def test_image_mime():
    assert image_mime(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert image_mime(b"GIF89a") == "image/gif"
    assert image_mime(b"RIFF\x00\x00\x00\x00WEBP") == "image/webp"
    assert image_mime(b"\x89PNG") == "image/png"


def test_parser_bare_call_without_tags():
    parser = ToolCallParser(calls=True, allowed={"get_weather"})
    parts = _run(parser, ['{"na', 'me": "get_weather", "arguments": {"city": "Paris"}}'])
    assert CallOpened(bare=True) in parts
    assert _merged(parts) == [CallPart("get_weather", {"city": "Paris"})]


def test_parser_bare_json_that_is_not_a_call_is_text():
    for text in ['{"name": "Bob", "age": 3}', '{"city": "Paris"}', '{"name": "get_weather", "x']:
        parts = _merged(_run(ToolCallParser(calls=True, allowed={"get_weather"}), [text]))
        assert parts == [TextPart(text)], text
    # Without calls, JSON is never held or taken for a call.
    assert ToolCallParser(calls=False).feed('{"name": "f"') == [TextPart('{"name": "f"')]


def test_parser_bare_call_in_a_code_fence():
    text = '```json\n{\n  "name": "get_weather",\n  "arguments": {"city": "Oslo"}\n}\n```'
    parts = _run(ToolCallParser(calls=True, allowed={"get_weather"}), list(text))
    assert CallOpened(bare=True) in parts
    assert _merged(parts) == [CallPart("get_weather", {"city": "Oslo"})]
    code = "```python\nprint(1)\n```"
    assert _merged(_run(ToolCallParser(calls=True), list(code))) == [TextPart(code)]
    fenced_json = '```json\n{"a": 1}\n```'
    assert _merged(_run(ToolCallParser(calls=True), [fenced_json])) == [TextPart(fenced_json)]


@pytest.mark.parametrize("tag", ["json", "JSON", ""])
def test_bare_call_fence_tag_is_dropped_whatever_it_is(tag: str) -> None:
    # The tag is a word to drop, not a set of characters (``.lstrip("json")`` kept "JSON").
    text = f'```{tag}\n{{"name": "get_weather", "arguments": {{"city": "Oslo"}}}}\n```'
    parts = _run(ToolCallParser(calls=True, allowed={"get_weather"}), [text])
    calls = [p for p in parts if isinstance(p, CallPart)]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Oslo"})]


def test_parser_bare_call_after_a_call():
    # Small models that write their first call as bare JSON write the next ones the same way.
    first = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    second = '\n{"name": "get_weather", "arguments": {"city": "Oslo"}}'
    parser = ToolCallParser(calls=True, allowed={"get_weather"})
    parts = _run(parser, [first, *second])
    assert _merged(parts) == [
        CallPart("get_weather", {"city": "Paris"}),
        CallPart("get_weather", {"city": "Oslo"}),
    ]
    fenced = '\n```json\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n```'
    parts = _run(ToolCallParser(calls=True, allowed={"get_weather"}), [first, fenced])
    assert [p.arguments for p in parts if isinstance(p, CallPart)] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]


def test_parser_text_after_a_call_stays_text():
    first = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    for text in ['\n{"name": "unknown", "x": 1}', "\nDone.", '\nSee {"name": "get_weather"}']:
        parts = _merged(_run(ToolCallParser(calls=True, allowed={"get_weather"}), [first, text]))
        assert parts == [CallPart("get_weather", {"city": "Paris"}), TextPart(text)], text
    # JSON after text after a call is text too.
    text = '\nok {"name": "get_weather", "arguments": {}}'
    parts = _merged(_run(ToolCallParser(calls=True, allowed={"get_weather"}), [first, text]))
    assert parts[1:] == [TextPart(text)]
