"""One model turn and one tool call inside an agent run: the parts both loop shapes share.

``TurnRunner`` streams a generation (text and thoughts out to the step sink unless the turn
is held back, tool calls collected, usage summed, the token budget enforced), and runs native
tool calls (client functions pause the run; every other tool runs cancel-aware and its result
goes back to the model as a ``tool`` message). ``loop.py`` decides what the turns are for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from workbench.engine.backends.base import (
    Backend,
    BackendError,
    FunctionSpec,
    GenerationRequest,
    Message,
    TextChunk,
    ThoughtChunk,
    ToolCall,
    ToolCallChunk,
    UsageChunk,
)

from .actions import program_closed
from .prompt import HARNESS
from .tools import ToolContext, ToolOutcome, ToolRegistry, shorten, until_cancelled

log = logging.getLogger("workbench.engine.agent")

Outcome = tuple[str, list[dict[str, str]] | None]


class StepSink(Protocol):
    """Where the loop's steps go (``convert.OutputAssembler``)."""

    def text(self, text: str) -> None: ...

    def thought(self, text: str) -> None: ...

    def tool_step(self, step: dict[str, Any]) -> None: ...

    def close(self) -> None: ...

    def emit(self, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class LoopLimits:
    """Bounds of one agent interaction.

    Attributes:
        max_steps: programs and tool calls run before the run gives up.
        max_calls_per_turn: calls of one turn that are run (the rest are dropped).
        turn_tokens: output tokens of one model turn.
        answer_tokens: output tokens of the final answer turn.
        result_chars: characters of a tool result shown to the model.
        max_total_tokens: the run's token budget (``budget_exceeded`` past it), or None.
        temperature: sampling temperature of the first attempt (0: greedy).
        resample_temperature: temperature of later attempts, after repairs did not help.
        repairs: repair rounds of one attempt before a fresh attempt.
        seed: sampling seed of the first attempt (each later attempt adds one).
        votes: programs sampled for a second opinion on the first program that passes the
            checks (``vote.py``); 0 turns it off.
    """

    max_steps: int = 10
    max_calls_per_turn: int = 4
    turn_tokens: int = 1024
    answer_tokens: int = 200
    result_chars: int = 2000
    max_total_tokens: int | None = None
    temperature: float | None = 0.0
    resample_temperature: float = 0.7
    repairs: int = 2
    seed: int = 1
    votes: int = 0


@dataclass
class Usage:
    """Token counts summed over the turns of a run."""

    input: int = 0
    output: int = 0
    thought: int = 0
    initial_input: int | None = None
    turns: int = 0
    tool_calls: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.thought

    def add(self, input_tokens: int, output_tokens: int, thought_tokens: int) -> None:
        if self.initial_input is None:
            self.initial_input = input_tokens
        self.input += input_tokens
        self.output += output_tokens
        self.thought += thought_tokens
        self.turns += 1

    def wire(self) -> dict[str, Any]:
        """The ``usage`` object of the Interaction (protocol.md §3.9)."""
        return {
            "total_input_tokens": self.input,
            "total_output_tokens": self.output,
            "total_thought_tokens": self.thought,
            "total_tokens": self.total,
            "initial_input_tokens": self.initial_input or 0,
            "input_tokens_by_modality": [{"modality": "text", "tokens": self.input}],
            "output_tokens_by_modality": [{"modality": "text", "tokens": self.output}],
        }


@dataclass
class Turn:
    """What one generation produced."""

    text: str = ""
    calls: list[ToolCallChunk] = field(default_factory=list)
    failure: dict[str, str] | None = None
    over_budget: bool = False


def _words(messages: tuple[Message, ...]) -> int:
    return sum(len(m.text.split()) for m in messages)


def harness(text: str) -> Message:
    """A message the harness adds to the conversation (see ``prompt.HARNESS``)."""
    return Message(role="user", text=text, name=HARNESS)


class TurnRunner:
    """Model turns and native tool calls of one run (``AgentLoop`` builds on it)."""

    def __init__(
        self,
        *,
        backend: Backend,
        model: str,
        registry: ToolRegistry,
        ctx: ToolContext,
        out: StepSink,
        limits: LoopLimits,
        cancel: asyncio.Event,
        new_call_id: Any,
    ) -> None:
        self.backend = backend
        self.model = model
        self.registry = registry
        self.ctx = ctx
        self.out = out
        self.limits = limits
        self.cancel = cancel
        self.new_call_id = new_call_id
        self.usage = Usage()

    def over_budget(self, pending: int = 0) -> bool:
        budget = self.limits.max_total_tokens
        return budget is not None and self.usage.total + pending > budget

    def request(
        self,
        messages: list[Message],
        specs: tuple[FunctionSpec, ...],
        *,
        tokens: int,
        temperature: float | None,
        seed: int | None = None,
        choice: Literal["auto", "any", "none"] = "auto",
        allowed: tuple[str, ...] | None = None,
    ) -> GenerationRequest:
        return GenerationRequest(
            messages=tuple(messages),
            model=self.model,
            functions=specs,
            tool_choice=choice,
            allowed_functions=allowed,
            max_output_tokens=tokens,
            temperature=temperature,
            seed=seed,
        )

    async def turn(
        self, request: GenerationRequest, *, buffered: bool, watch: bool = False
    ) -> Turn:
        """One generation. Text streams out unless ``buffered``; with ``watch`` the
        generation stops as soon as the first program block of the text has closed."""
        turn = Turn()
        prompt_estimate = _words(request.messages)
        produced = 0
        usage: UsageChunk | None = None
        stream = self.backend.generate(request, self.cancel)
        try:
            async for chunk in stream:
                if self.cancel.is_set():
                    break
                if isinstance(chunk, TextChunk | ThoughtChunk):
                    produced += 1
                    if self.over_budget(prompt_estimate + produced):
                        turn.over_budget = True
                        break
                    if isinstance(chunk, ThoughtChunk):
                        self.out.thought(chunk.text)
                        continue
                    turn.text += chunk.text
                    if not buffered:
                        self.out.text(chunk.text)
                    if watch and "`" in chunk.text and program_closed(turn.text):
                        break
                elif isinstance(chunk, ToolCallChunk):
                    turn.calls.append(chunk)
                elif isinstance(chunk, UsageChunk):
                    usage = chunk
        except BackendError as exc:
            turn.failure = {"code": exc.code or "internal", "message": str(exc) or "failed"}
        except Exception as exc:
            log.exception("agent model turn failed")
            turn.failure = {"code": "internal", "message": f"generation failed: {exc}"}
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
            self.out.close()
        log.debug(
            "turn %d (T=%s, tools %s): text=%r calls=%r",
            self.usage.turns + 1,
            request.temperature,
            [f.name for f in request.functions],
            turn.text[:400],
            [(c.name, c.arguments) for c in turn.calls],
        )
        if usage is not None:
            self.usage.add(usage.input_tokens, usage.output_tokens, usage.thought_tokens)
        else:
            self.usage.add(prompt_estimate, produced, 0)
        return turn

    def _stopped(self) -> Outcome | None:
        if self.cancel.is_set():
            return "cancelled", None
        if self.over_budget():
            return "budget_exceeded", None
        return None

    def _turn_end(self, turn: Any) -> Outcome | None:
        if self.cancel.is_set():
            return "cancelled", None
        if turn.failure is not None:
            self.out.emit({"event_type": "error", "error": turn.failure})
            return "failed", [turn.failure]
        if turn.over_budget or self.over_budget():
            return "budget_exceeded", None
        return None

    def _thought(self, text: str) -> None:
        if text.strip():
            self.out.thought(text.strip())
            self.out.close()

    async def run_calls(
        self, text: str, calls: list[ToolCallChunk], into: list[Message]
    ) -> Outcome | None:
        """Run one turn's native calls, appending the exchange to ``into``; an outcome when
        the run must stop (a client function pauses it, or a cancel)."""
        made: list[ToolCall] = []
        results: list[Message] = []
        paused = False
        for call in calls[: self.limits.max_calls_per_turn]:
            call_id = self.new_call_id()
            tool = self.registry.get(call.name)
            args = tool.normalize(dict(call.arguments)) if tool else dict(call.arguments)
            if tool is None:
                self.out.tool_step(
                    {"type": "function_call", "id": call_id, "name": call.name, "arguments": args}
                )
            else:
                self.out.tool_step(tool.call_step(call_id, args).to_wire())
            made.append(ToolCall(id=call_id, name=call.name, arguments=args))
            if tool is not None and tool.kind == "client":
                paused = True
                continue
            outcome = await self.run_tool(call.name, args)
            if outcome is None:
                return "cancelled", None
            self.usage.tool_calls += 1
            if tool is None:
                self.out.tool_step(
                    {
                        "type": "function_result",
                        "call_id": call_id,
                        "name": call.name,
                        "result": outcome.text,
                        "is_error": True,
                    }
                )
            else:
                step = tool.result_step(call_id, outcome)
                if step is not None:
                    self.out.tool_step(step.to_wire())
            shown = shorten(outcome.text or "(no output)", self.limits.result_chars)
            if outcome.is_error:
                shown = f"Error: {shown}"
            results.append(Message(role="tool", text=shown, tool_call_id=call_id, name=call.name))
        into.append(Message(role="assistant", text=text, tool_calls=tuple(made)))
        into.extend(results)
        return ("requires_action", None) if paused else None

    async def run_tool(self, name: str, args: dict[str, Any]) -> ToolOutcome | None:
        """Run a tool; None when the interaction was cancelled meanwhile (tool stopped)."""
        task = asyncio.ensure_future(self.registry.run(name, args, self.ctx))
        stopped = await self.until_cancelled(task)
        return None if stopped else task.result()

    async def until_cancelled(self, task: asyncio.Future[Any]) -> bool:
        """Wait for ``task``; True (and the task stopped) when the run was cancelled first."""
        return await until_cancelled(task, self.cancel)
