"""The agent loop: the model plans, calls tools, reads their results and answers.

One ``AgentLoop.run()`` is the work of one agent interaction. Each *turn* is one model
generation with the registry's tools offered (``tool_choice="auto"``: the model chooses
between answering and calling; ``first_call="any"`` makes the first turn call a tool, for
small models that otherwise describe what they would do). Then:

* text and thoughts stream out as ``model_output`` / ``thought`` steps;
* each tool call becomes its call step, runs (cancel-aware: a cancel kills a running
  ``code_execution`` at once), and its result step; the result text, shortened to
  ``result_chars`` and followed by a one-line reminder of the task, goes back to the model
  as a ``tool`` message;
* a client ``function`` produces only its ``function_call`` step: after the turn the run
  ends ``requires_action`` (the next create with ``function_result`` steps resumes it);
* a turn without calls is the answer: the run ends ``completed``.

Guards, because the default model is small (0.5B parameters):

* **repeats** — a turn whose calls were all made before in this run, with the same
  arguments (the small model likes to call a tool again after seeing its result), is not
  run, and so is a call that passes an earlier result back verbatim as an argument (it
  wrote "Wrote 20 bytes to a.txt." into ``a.txt``). The first time the model gets a short
  nudge ("you already have this result: do the next step or answer") and one turn without
  that tool; the next time, a nudge and a final turn without tools (``tool_choice="none"``);
* **step limit** — after ``max_steps`` tool calls, the same final turn (its nudge says the
  limit was reached); the run ends ``completed``;
* a nudged turn's text is held back until it is complete: when the turn ends the run and
  its text is empty or yet another tool call written as text, the answer is a plain summary
  of the calls made instead;
* **budget** — ``max_total_tokens`` counts input + output + thought tokens of every turn;
  passing it stops the run at once with ``budget_exceeded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from workbench.engine.backends.base import (
    Backend,
    BackendError,
    FinishChunk,
    FunctionSpec,
    GenerationRequest,
    Message,
    TextChunk,
    ThoughtChunk,
    ToolCall,
    ToolCallChunk,
    UsageChunk,
)

from . import prompt
from .tools import ToolContext, ToolOutcome, ToolRegistry, shorten

log = logging.getLogger("workbench.engine.agent")

Outcome = tuple[str, list[dict[str, str]] | None]
NUDGED_TURN_TOKENS = 300
"""Output tokens of a nudged turn: a call or a short answer, never a long text."""


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
        max_steps: tool calls run before the model must answer.
        max_calls_per_turn: calls of one turn that are run (the rest are dropped).
        turn_tokens: output tokens of one model turn.
        result_chars: characters of a tool result shown to the model.
        max_total_tokens: the run's token budget (``budget_exceeded`` past it), or None.
        temperature: sampling temperature of every turn (low: small models wander).
        first_call: ``any`` makes the first turn call a tool; ``auto`` lets the model choose.
    """

    max_steps: int = 12
    max_calls_per_turn: int = 4
    turn_tokens: int = 1024
    result_chars: int = 2000
    max_total_tokens: int | None = None
    temperature: float | None = 0.0
    first_call: Literal["auto", "any"] = "auto"


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
class _Turn:
    text: str = ""
    calls: list[ToolCallChunk] = field(default_factory=list)
    failure: dict[str, str] | None = None
    over_budget: bool = False


def _key(call: ToolCallChunk) -> str:
    return call.name + json.dumps(call.arguments, sort_keys=True, ensure_ascii=False)


def _describe(call: ToolCall) -> str:
    for key in ("path", "name", "urls", "queries"):
        if key in call.arguments:
            return f"{call.name} {json.dumps(call.arguments[key], ensure_ascii=False)[:60]}"
    return call.name


def _words(messages: list[Message]) -> int:
    return sum(len(m.text.split()) for m in messages)


class AgentLoop:
    """Runs one agent interaction (see the module doc).

    Args:
        backend: the model backend.
        model: the model id the backend should use.
        registry: the run's tools (built-in, MCP, client functions, ``load_skill``).
        ctx: the tool context (environment root, network, code runner, cancel event).
        out: where steps and events go.
        messages: system prompt, history and the new input, as chat messages.
        limits: step, turn and token bounds.
        cancel: set when the interaction is cancelled.
        new_call_id: makes the id of each call step.
        offered: the tool names shown to the model (None: all); others still run when called.
        task: the user's request, restated after each turn's tool results (small models
            lose track of it after a long result).
    """

    def __init__(
        self,
        *,
        backend: Backend,
        model: str,
        registry: ToolRegistry,
        ctx: ToolContext,
        out: StepSink,
        messages: list[Message],
        limits: LoopLimits,
        cancel: asyncio.Event,
        new_call_id: Any,
        offered: set[str] | None = None,
        task: str = "",
    ) -> None:
        self.backend = backend
        self.model = model
        self.registry = registry
        self.ctx = ctx
        self.out = out
        self.messages = list(messages)
        self.limits = limits
        self.cancel = cancel
        self.new_call_id = new_call_id
        self.task = " ".join(task.split())[:400]
        self.results: dict[str, str] = {}  # call id → result text (stripped), for the echo guard
        self.usage = Usage()
        self.specs = tuple(
            FunctionSpec(name=d["name"], description=d["description"], parameters=d["parameters"])
            for d in registry.declarations()
            if offered is None or d["name"] in offered
        )

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> Outcome:
        """Turns until an answer, a pause, the budget, a failure or a cancel."""
        made: set[str] = set()
        nudge: str | None = None
        skip: str | None = None  # a repeated tool, not offered in the nudged turn
        final = False  # a turn without tools: its answer ends the run
        repeats = 0
        first = True
        while True:
            if self.cancel.is_set():
                return "cancelled", None
            if self._over_budget(0):
                return "budget_exceeded", None
            request = self._request(nudge, final=final, skip=skip, first=first)
            nudged = nudge is not None
            turn = await self._turn(request, buffered=nudged)
            nudge, skip, first = None, None, False
            if self.cancel.is_set():
                return "cancelled", None
            if turn.failure is not None:
                self.out.emit({"event_type": "error", "error": turn.failure})
                return "failed", [turn.failure]
            if turn.over_budget or self._over_budget(0):
                return "budget_exceeded", None
            if final or (nudged and not turn.calls):
                self._final_answer(turn.text)
                return "completed", None
            if not turn.calls:
                return "completed", None
            if nudged and turn.text.strip():
                self.out.text(turn.text)  # held back in a nudged turn; it made calls too
                self.out.close()
            calls = turn.calls[: self.limits.max_calls_per_turn]
            keys = {_key(c) for c in calls}
            room = self.limits.max_steps - self.usage.tool_calls
            if room <= 0:
                nudge, final = prompt.NUDGE_LIMIT.format(steps=self.limits.max_steps), True
                continue
            if keys <= made or self._echoes_a_result(calls):
                repeats += 1
                nudge, final, skip = (
                    prompt.NUDGE_REPEAT.format(name=calls[0].name),
                    repeats > 1,
                    calls[0].name,
                )
                continue
            paused = await self._run_calls(turn.text, calls[:room])
            if paused is not None:
                return paused
            made |= keys

    def _echoes_a_result(self, calls: list[ToolCallChunk]) -> bool:
        """Whether a call passes an earlier tool result back verbatim as an argument (a
        small model's confusion, e.g. writing "Wrote 20 bytes to a.txt." into a.txt)."""
        seen = set(self.results.values())
        for call in calls:
            for value in call.arguments.values():
                if isinstance(value, str) and len(value.strip()) >= 8 and value.strip() in seen:
                    return True
        return False

    def _over_budget(self, pending: int) -> bool:
        budget = self.limits.max_total_tokens
        return budget is not None and self.usage.total + pending > budget

    def _final_answer(self, text: str) -> None:
        """Emit a final turn's held-back text, or a summary when it says nothing useful."""
        stripped = text.strip()
        if not stripped or (stripped.startswith("{") and '"name"' in stripped[:40]):
            stripped = self._summary()
        self.out.text(stripped)
        self.out.close()

    def _summary(self) -> str:
        calls = [c for m in self.messages if m.role == "assistant" for c in m.tool_calls]
        if not calls:
            return prompt.NO_ANSWER
        done = "; ".join(_describe(c) for c in calls[-8:])
        return prompt.SUMMARY.format(count=len(calls), calls=done)

    # -- one model turn -------------------------------------------------------------------

    def _request(
        self, nudge: str | None, *, final: bool, skip: str | None, first: bool
    ) -> GenerationRequest:
        messages = list(self.messages)
        if nudge is not None:
            last = messages[-1] if messages else None
            if last is not None and last.role == "tool":
                messages[-1] = Message(
                    role="tool",
                    text=f"{last.text}\n\n{nudge}",
                    tool_call_id=last.tool_call_id,
                    name=last.name,
                )
            else:
                messages.append(Message(role="user", text=nudge))
        specs = () if final else tuple(s for s in self.specs if s.name != skip)
        choice: Literal["auto", "any", "none"] = "auto" if specs else "none"
        if specs and first and self.limits.first_call == "any":
            choice = "any"
        return GenerationRequest(
            messages=tuple(messages),
            model=self.model,
            functions=specs,
            tool_choice=choice,
            max_output_tokens=NUDGED_TURN_TOKENS if nudge is not None else self.limits.turn_tokens,
            temperature=self.limits.temperature,
        )

    async def _turn(self, request: GenerationRequest, *, buffered: bool) -> _Turn:
        """One generation; text streams out as it comes unless ``buffered``."""
        turn = _Turn()
        prompt_estimate = _words(list(request.messages))
        produced = 0
        usage: UsageChunk | None = None
        stream = self.backend.generate(request, self.cancel)
        try:
            async for chunk in stream:
                if self.cancel.is_set():
                    break
                if isinstance(chunk, TextChunk | ThoughtChunk):
                    produced += 1
                    if self._over_budget(prompt_estimate + produced):
                        turn.over_budget = True
                        break
                    if isinstance(chunk, TextChunk):
                        turn.text += chunk.text
                        if not buffered:
                            self.out.text(chunk.text)
                    else:
                        self.out.thought(chunk.text)
                elif isinstance(chunk, ToolCallChunk):
                    turn.calls.append(chunk)
                elif isinstance(chunk, UsageChunk):
                    usage = chunk
                elif isinstance(chunk, FinishChunk):
                    pass
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
            "turn %d (%s, tools %s): text=%r calls=%r",
            self.usage.turns + 1,
            request.tool_choice,
            [f.name for f in request.functions],
            turn.text[:300],
            [(c.name, c.arguments) for c in turn.calls],
        )
        if usage is not None:
            self.usage.add(usage.input_tokens, usage.output_tokens, usage.thought_tokens)
        else:
            self.usage.add(prompt_estimate, produced, 0)
        return turn

    # -- tool calls -----------------------------------------------------------------------

    async def _run_calls(self, text: str, calls: list[ToolCallChunk]) -> Outcome | None:
        """Run one turn's calls; an outcome when the run must stop (pause or cancel)."""
        made: list[ToolCall] = []
        results: list[Message] = []
        paused = False
        for call in calls:
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
            outcome = await self._run_tool(call.name, args)
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
            self.results[call_id] = (outcome.text or "").strip()
            shown = shorten(outcome.text or "(no output)", self.limits.result_chars)
            if outcome.is_error:
                shown = f"Error: {shown}"
            results.append(Message(role="tool", text=shown, tool_call_id=call_id, name=call.name))
        if results and self.task:
            last = results[-1]
            reminder = prompt.REMINDER.format(task=self.task)
            results[-1] = Message(
                role="tool", text=f"{last.text}\n\n{reminder}", tool_call_id=last.tool_call_id,
                name=last.name,
            )  # fmt: skip
        self.messages.append(Message(role="assistant", text=text, tool_calls=tuple(made)))
        self.messages.extend(results)
        return ("requires_action", None) if paused else None

    async def _run_tool(self, name: str, args: dict[str, Any]) -> ToolOutcome | None:
        """Run a tool; None when the interaction was cancelled meanwhile (tool stopped)."""
        task = asyncio.ensure_future(self.registry.run(name, args, self.ctx))
        stop = asyncio.ensure_future(self.cancel.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if task.cancelled() or self.cancel.is_set():
            return None
        return task.result()
