"""A fake backend that plays a small model turn by turn, and the agent loop run on it.

Shared by the agent-loop tests (``tests/engine/agent``): programs really run in the
sandbox, so the harness's checks meet real files.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from workbench.engine.agent import ToolContext, build_registry
from workbench.engine.agent.files_view import listing
from workbench.engine.agent.loop import AgentLoop, LoopLimits
from workbench.engine.agent.prompt import code_prompt
from workbench.engine.backends.base import Chunk, GenerationRequest, Message, TextChunk, UsageChunk
from workbench.engine.convert import OutputAssembler


class FakeModel:
    """Answers each turn with the next scripted text (or chunks); records the requests."""

    name = "fake"

    def __init__(self, turns: list[str | list[Chunk]]) -> None:
        self.turns = list(turns)
        self.requests: list[GenerationRequest] = []

    async def generate(
        self, request: GenerationRequest, cancel: asyncio.Event
    ) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        turn = self.turns.pop(0) if self.turns else "(out of script)"
        chunks = [TextChunk(turn)] if isinstance(turn, str) else turn
        for chunk in chunks:
            yield chunk
        yield UsageChunk(input_tokens=10, output_tokens=5)


def program(code: str, prose: str = "") -> str:
    return f"{prose}\n```python\n{code}\n```\nThis program does the task."


async def run_loop(
    turns: list[str | list[Chunk]],
    ctx: ToolContext,
    task: str,
    *,
    tools: list[dict[str, Any]] | None = None,
    network_disabled: bool = False,
    **limits: Any,
) -> tuple[str, list[dict[str, Any]], FakeModel]:
    model = FakeModel(turns)
    limits.setdefault("votes", 0)  # the second opinion has its own tests (its extra turns)
    events: list[dict[str, Any]] = []
    out = OutputAssembler(1, events.append)
    ids = (f"call_{i}" for i in itertools.count())
    root = ctx.root
    loop = AgentLoop(
        backend=model,
        model="fake",
        registry=await build_registry(tools or [{"type": "code_execution"}]),
        ctx=ctx,
        out=out,
        messages=[Message(role="user", text=task)],
        limits=LoopLimits(**limits),
        cancel=asyncio.Event(),
        new_call_id=lambda: next(ids),
        system=lambda files: code_prompt(listing(root, files)),
        task=task,
        network_disabled=network_disabled,
    )
    status, _ = await loop.run()
    return status, out.steps, model


def answer_of(steps: list[dict[str, Any]]) -> str:
    assert steps[-1]["type"] == "model_output"
    return str(steps[-1]["content"][0]["text"])


TOTAL = "Read data.csv, total the amount column and write only that number to total.txt."
GOOD = (
    "import csv\nrows = list(csv.DictReader(open('data.csv')))\n"
    "t = sum(int(r['amount']) for r in rows)\nopen('total.txt', 'w').write(str(t))\nprint(t)"
)


def write_data(root: Path) -> None:
    (root / "data.csv").write_text("month,amount\njan,10\nfeb,20\n")


async def run_resumed(
    turns: list[str | list[Chunk]],
    ctx: ToolContext,
    task: str,
    function: str,
    arguments: dict[str, Any],
    result: str,
) -> tuple[str, list[dict[str, Any]], FakeModel]:
    """The loop on a conversation that already called the client ``function`` (with
    ``arguments``) and got ``result`` back: the hop after ``requires_action``."""
    from workbench.engine.backends.base import ToolCall

    tools = [{"type": "code_execution"},
             {"type": "function", "name": function, "parameters": {"type": "object"}}]  # fmt: skip
    history = [
        Message(role="user", text=task),
        Message(role="assistant", tool_calls=(ToolCall("c1", function, arguments),)),
        Message(role="tool", text=result, tool_call_id="c1", name=function),
    ]
    model = FakeModel(turns)
    out = OutputAssembler(1, lambda _event: None)
    ids = (f"call_{i}" for i in itertools.count())
    loop = AgentLoop(
        backend=model, model="fake", registry=await build_registry(tools), ctx=ctx, out=out,
        messages=history, limits=LoopLimits(), cancel=asyncio.Event(),
        new_call_id=lambda: next(ids), task=task,
    )  # fmt: skip
    status, _ = await loop.run()
    return status, out.steps, model
