"""The agent loop's guards with a fake backend that plays a confused small model."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from workbench.engine.agent import ToolContext, build_registry
from workbench.engine.agent.loop import AgentLoop, LoopLimits
from workbench.engine.agent.tools_sandbox import repair_python
from workbench.engine.backends.base import (
    Chunk,
    GenerationRequest,
    Message,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from workbench.engine.convert import OutputAssembler

pytestmark = pytest.mark.timeout(30)


class FakeModel:
    """Answers each turn with the next scripted list of chunks; records the requests."""

    name = "fake"

    def __init__(self, turns: list[list[Chunk]]) -> None:
        self.turns = list(turns)
        self.requests: list[GenerationRequest] = []

    async def generate(
        self, request: GenerationRequest, cancel: asyncio.Event
    ) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        for chunk in self.turns.pop(0) if self.turns else [TextChunk("(out of script)")]:
            yield chunk
        yield UsageChunk(input_tokens=10, output_tokens=1)


def _call(name: str, **args: Any) -> ToolCallChunk:
    return ToolCallChunk(name=name, arguments=args)


async def _run(turns: list[list[Chunk]], ctx: ToolContext, **limits: Any) -> Any:
    model = FakeModel(turns)
    events: list[dict[str, Any]] = []
    out = OutputAssembler(1, events.append)
    ids = (f"call_{i}" for i in itertools.count())
    loop = AgentLoop(
        backend=model,  # type: ignore[arg-type]
        model="fake",
        registry=await build_registry([]),
        ctx=ctx,
        out=out,
        messages=[Message(role="user", text="write a.txt")],
        limits=LoopLimits(**limits),
        cancel=asyncio.Event(),
        new_call_id=lambda: next(ids),
        task="write a.txt",
    )
    status, _ = await loop.run()
    return status, out.steps, model.requests


async def test_echoed_result_is_not_written(ctx: ToolContext) -> None:
    status, steps, requests = await _run(
        [
            [_call("write_file", path="a.txt", content="right")],
            [_call("write_file", path="a.txt", content="Wrote 5 bytes to a.txt.")],
            [TextChunk('{"name": "write_file", "arguments": {}}')],
        ],
        ctx,
    )
    assert status == "completed"
    assert (ctx.root / "a.txt").read_text() == "right"
    assert [s["type"] for s in steps] == ["function_call", "function_result", "model_output"]
    # The junk answer of the nudged turn is replaced by a summary of what was done.
    assert steps[-1]["content"][0]["text"].startswith("Done. I made 1 tool call(s)")
    assert "write_file" not in [f.name for f in requests[-1].functions]  # repeated tool held back
    assert "Task: write a.txt" in requests[1].messages[-1].text  # the reminder


async def test_second_repeat_gets_a_final_turn_without_tools(ctx: ToolContext) -> None:
    same = [_call("list_files", path=".")]
    status, steps, requests = await _run(
        [same, same, same, [TextChunk("All done.")]], ctx, max_steps=5
    )
    assert status == "completed"
    assert steps[-1]["content"][0]["text"] == "All done."
    assert requests[-1].tool_choice == "none" and not requests[-1].functions
    assert requests[-1].max_output_tokens == 300


async def test_first_call_any_and_temperature(ctx: ToolContext) -> None:
    _, _, requests = await _run([[TextChunk("hi")]], ctx, first_call="any")
    assert requests[0].tool_choice == "any" and requests[0].temperature == 0.0


async def test_step_limit_summary(ctx: ToolContext) -> None:
    status, steps, requests = await _run(
        [[_call("list_files", path=f"d{i}")] for i in range(3)] + [[]], ctx, max_steps=2
    )
    assert status == "completed"
    assert sum(s["type"] == "function_call" for s in steps) == 2
    assert "used all 2 tool calls" in requests[-1].messages[-1].text
    assert steps[-1]["content"][0]["text"].startswith("Done. I made 2 tool call(s)")


async def test_budget(ctx: ToolContext) -> None:
    status, _, _ = await _run(
        [[_call("list_files", path=".")], [_call("list_files", path="x")]], ctx,
        max_total_tokens=15,
    )  # fmt: skip
    assert status == "budget_exceeded"


@pytest.mark.parametrize(
    ("code", "fixed"),
    [
        ("import csv; rows = 1; with open('a') as f: print(f.read())",
         "import csv\nrows = 1\nwith open('a') as f: print(f.read())"),
        ("print(1); print(2)", "print(1); print(2)"),  # compiles: unchanged
        ('x = "a;b"; y = 1; if x: print(y)', 'x = "a;b"\ny = 1\nif x: print(y)'),
        ("def f(:", "def f(:"),  # broken beyond repair: unchanged
        ("a = 1\nb = 2; if a: pass", "a = 1\nb = 2; if a: pass"),  # multi-line: unchanged
    ],
)  # fmt: skip
def test_repair_python(code: str, fixed: str) -> None:
    assert repair_python(code) == fixed
