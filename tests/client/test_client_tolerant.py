"""The client reads as leniently as the official SDK: real responses never break an interaction.

The fake server appends steps shaped like what the real service sends and our models do not
(fully) describe: a code run that produced an image (``result`` as a list of content blocks),
a step kind from the future, a known step whose value is wider than its model, a content
block with an unexpected field type. Each must parse, keep its raw JSON, and write back
unchanged; only a reply that is not an interaction at all is a protocol violation.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from support.fake_server import FakeServer
from workbench.client import Client, ProtocolViolationError
from workbench.core.stream import StreamAccumulator
from workbench.core.transcript import read_turn
from workbench.protocol import (
    CodeExecutionResultStep,
    ImageContent,
    ModelOutputStep,
    TextContent,
    UnknownContent,
    UnknownStep,
    code_output_text,
    parse_interaction,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

WIDE_STEPS: list[dict[str, Any]] = [
    {
        "type": "code_execution_call",
        "id": "code_1",
        "arguments": {"language": "python", "code": "plot()"},
    },
    {
        "type": "code_execution_result",
        "call_id": "code_1",
        "result": [
            {"type": "text", "text": "saved plot\n"},
            {"type": "image", "mime_type": "image/png", "data": PNG},
        ],
    },
    {"type": "hologram_call", "id": "h_1", "arguments": {"depth": 3}, "new_field": [1, 2]},
    {"type": "code_execution_result", "call_id": "code_2", "result": {"stdout": "x"}},
    {
        "type": "model_output",
        "content": [
            {"type": "text", "text": "done", "brand_new": {"a": 1}},
            {"type": "text", "text": 42},
            {"type": "smell", "intensity": "strong"},
        ],
    },
]


async def test_wide_steps_parse_and_round_trip(server: FakeServer, client: Client) -> None:
    server.settings.extra_steps = copy.deepcopy(WIDE_STEPS)
    inter = await client.interactions.create({"model": "gemini-3-flash-preview", "input": "go"})
    assert inter.status == "completed"
    steps = inter.steps or []
    tail = steps[-len(WIDE_STEPS) :]
    result = tail[1]
    assert isinstance(result, CodeExecutionResultStep)
    assert isinstance(result.result, list)
    assert isinstance(result.result[1], ImageContent)
    assert code_output_text(result.result) == "saved plot\n"
    assert isinstance(tail[2], UnknownStep) and tail[2].type == "hologram_call"
    # A known tag whose value does not fit its model: kept whole as an unknown step.
    assert isinstance(tail[3], UnknownStep) and tail[3].type == "code_execution_result"
    output = tail[4]
    assert isinstance(output, ModelOutputStep)
    blocks = output.content or []
    assert isinstance(blocks[0], TextContent) and blocks[0].text == "done"
    assert isinstance(blocks[1], UnknownContent)
    assert isinstance(blocks[2], UnknownContent)
    # Everything is written back exactly as it came.
    assert inter.to_wire()["steps"][-len(WIDE_STEPS) :] == WIDE_STEPS
    got = await client.interactions.get(inter.id)
    assert got.to_wire()["steps"] == inter.to_wire()["steps"]


async def test_wide_steps_stream_fold_and_render(server: FakeServer, client: Client) -> None:
    server.settings.extra_steps = copy.deepcopy(WIDE_STEPS)
    acc = StreamAccumulator()
    async with client.interactions.create_stream(
        {"model": "gemini-3-flash-preview", "input": "go"}
    ) as stream:
        async for event in stream:
            acc.feed(event)
    snap = acc.snapshot()
    assert snap.status == "completed"
    wire = snap.to_wire()
    assert wire["steps"][-len(WIDE_STEPS) :] == WIDE_STEPS
    view = read_turn(wire)
    tools = [b for b in view.blocks if b.kind == "tool"]
    code = next(b for b in tools if b.name == "code_execution")
    assert code.result == "saved plot\n"
    assert code.images == [("image/png", PNG)]
    raws = [b.name for b in view.blocks if b.kind == "raw"]
    assert "code_execution_result" in raws  # the one whose call is not in this turn


async def test_wider_scalar_fields_are_kept(server: FakeServer, client: Client) -> None:
    data = {
        "id": "i1",
        "status": "some_future_status",
        "usage": {"total_tokens": "many", "total_input_tokens": 3},
        "created": 12345,
        "steps": [{"type": "thought", "signature": 7}],
    }
    inter = parse_interaction(copy.deepcopy(data), lenient=True)
    assert inter.usage is not None and inter.usage.total_input_tokens == 3
    assert inter.usage.unparsed == {"total_tokens": "many"}
    assert inter.unparsed == {"created": 12345}
    assert isinstance((inter.steps or [])[0], UnknownStep)
    assert inter.to_wire() == data


def test_strict_reads_still_fail() -> None:
    """Requests and the engine's checks stay strict: no lenient context, no tolerance."""
    from workbench.protocol import ProtocolError, parse_create_body

    with pytest.raises(ProtocolError):
        parse_interaction({"id": "i", "steps": [{"type": "thought", "signature": 7}]})
    with pytest.raises(ProtocolError):
        parse_create_body(
            {"model": "m", "input": [{"type": "thought", "signature": 7}], "stream": "yes"}
        )


def test_a_reply_that_is_no_interaction_is_an_error() -> None:
    from workbench.client._wire import to_interaction

    with pytest.raises(ProtocolViolationError):
        to_interaction([1, 2, 3])  # type: ignore[arg-type]
