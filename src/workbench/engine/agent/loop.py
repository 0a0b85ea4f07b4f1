"""The agent loop, shaped for small local coder models (measured: docs/performance.md).

With ``code_execution`` (the default agent) a run is a sequence of **programs**:

1. the model sees the task, the workspace listing (paths, sizes, first lines of text files),
   the skills in full and the user's instructions, and writes one whole Python program;
2. the harness runs it and **checks the work itself** (``verify.check_program``): exit status,
   the output files the task names (present, not empty), the test the task says must pass;
3. on a problem the model gets the outcome (status, output and error tails, changed files)
   and repairs its program — at most ``repairs`` rounds, then a fresh attempt from the
   start at a higher temperature (best-of-n against the executable check); the same
   program twice is never run again;
4. the first program that passes gets a second opinion (``second_opinion.py``): programs
   sampled afresh run on copies of the workspace and confirm its result, or — two agreeing
   on another — replace it;
5. when the checks pass, the model writes the final answer (checked for files that do not
   exist, ``endings.py``); when the task *cannot* be done (a named input file missing, the
   network disabled) the model says so and the run ends ``incomplete``; when the step
   budget runs out the run ends ``incomplete`` with a plain statement of what was tried.

Client ``function`` tools, MCP tools and ``url_context`` stay native tool calls in the same
turns (a program cannot call them): a client function pauses the run (``requires_action``).
Without ``code_execution`` the run uses the classic tool-call shape (``_tool_loop``).

Programs run in ``execute.py``; model turns and native calls in ``turns.py``.
On the wire nothing is special: programs are ``code_execution_call``/``_result`` steps, the
harness's verdicts are ``thought`` steps, the answer is ``model_output``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from workbench.engine.backends.base import FunctionSpec, Message, ToolCall, ToolCallChunk

from . import prompt
from .actions import fenced, find_program, strip_code
from .answer_checks import says_cannot
from .endings import Endings
from .files_view import Snapshot, snapshot
from .second_opinion import SecondOpinion
from .task import TaskPlan
from .tools import ToolContext, ToolRegistry
from .turns import LoopLimits, Outcome, StepSink, Usage, harness
from .verify import Check, impossible_upfront

__all__ = ["AgentLoop", "LoopLimits", "Outcome", "StepSink", "Usage"]


def _trailing_results(messages: list[Message]) -> list[Message]:
    """The tool results that end the conversation (a client answered function calls)."""
    tail: list[Message] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        tail.insert(0, message)
    return tail


def _fakes(code: str, results: dict[str, str]) -> str | None:
    """The called function a program defines itself instead of using its result."""
    return next(
        (n for n in results if re.search(rf"^\s*def\s+{re.escape(n)}\s*\(", code, re.M)), None
    )


def _asked(call: ToolCall | ToolCallChunk, task: str) -> bool:
    """Whether the task mentions one of the call's argument values (or it has none)."""
    values = [str(v) for v in call.arguments.values() if isinstance(v, str | int | float)]
    words = task.lower()
    return not values or any(len(v) > 1 and v.lower() in words for v in values)


def _call_key(call: ToolCall | ToolCallChunk) -> str:
    """A call's identity (name and arguments), to spot the same call made again."""
    return call.name + json.dumps(call.arguments, sort_keys=True)


class AgentLoop(SecondOpinion, Endings):
    """Runs one agent interaction (see the module doc).

    Args:
        messages: the conversation as chat messages (history and the new input), without
            the system message: ``system`` builds it from the workspace's current files.
        system: makes the system message from a workspace snapshot.
        offered: the tool names offered natively to the model (None: all).
        task: the user's request (the newest user input of the conversation).
        network_disabled: the environment has no network (a task that needs it cannot work).
    """

    def __init__(
        self,
        *,
        backend: Any,
        model: str,
        registry: ToolRegistry,
        ctx: ToolContext,
        out: StepSink,
        messages: list[Message],
        limits: LoopLimits,
        cancel: asyncio.Event,
        new_call_id: Any,
        system: Callable[[Snapshot], str] | None = None,
        offered: set[str] | None = None,
        task: str = "",
        network_disabled: bool = False,
    ) -> None:
        super().__init__(
            backend=backend,
            model=model,
            registry=registry,
            ctx=ctx,
            out=out,
            limits=limits,
            cancel=cancel,
            new_call_id=new_call_id,
            network_disabled=network_disabled,
        )
        self.conversation = list(messages)
        self.system = system
        self.task = task
        names = set(registry.names) if offered is None else set(offered)
        if self.code_tool is not None:
            names -= {"code_execution", "read_file", "write_file", "list_files", "delete_file"}
        self.specs = tuple(
            FunctionSpec(name=d["name"], description=d["description"], parameters=d["parameters"])
            for d in registry.declarations()
            if d["name"] in names
        )

    # -- entry ----------------------------------------------------------------------------

    async def run(self) -> Outcome:
        """Turns until an answer, a pause, the budget, a failure or a cancel."""
        if self.code_tool is None:
            return await self._tool_loop()
        try:
            return await self._code_loop()
        finally:
            self.release_copy()

    def _base(self) -> tuple[list[Message], Snapshot, TaskPlan]:
        files = snapshot(self.ctx.root)
        system = self.system(files) if self.system else ""
        base = [Message(role="system", text=system)] if system else []
        work = base + list(self.conversation)
        if self.code_tool is not None and (trailing := _trailing_results(work)):
            # After a client function's result the small model writes a program that
            # defines the function (and invents its result): say what the result is for.
            lines = "\n".join(f"{m.name or 'function'} returned {m.text}" for m in trailing)
            work.append(harness(prompt.USE_RESULTS.format(results=lines)))
        return work, files, TaskPlan.of(self.task, files)

    # -- code actions ---------------------------------------------------------------------

    async def _code_loop(self) -> Outcome:
        work, files, plan = self._base()
        reason = impossible_upfront(
            plan, self.ctx.root, files, network_disabled=self.network_disabled
        )
        if reason is not None:
            return await self._cannot(work, None, Check("impossible", "", reason))
        steps, repairs, attempt, fresh = 0, 0, 0, 0
        temperature = self.limits.temperature
        seen: set[str] = set()
        # Calls made in earlier hops count too: after a client function's result the small
        # model likes to call it again rather than use the result.
        made = {_call_key(c) for m in work if m.role == "assistant" for c in m.tool_calls}
        results = {m.name: m.text for m in work if m.role == "tool" and m.name}
        self.earlier = [
            f"called {c.name}" for m in self.conversation if m.role == "assistant"
            for c in m.tool_calls
        ]  # fmt: skip
        warned = False  # a program faking a called function was sent back once
        unasked_sent = False  # a call the task did not ask for was sent back once
        asked = False
        resampled = False
        nudged = False
        force = force_used = False
        failing: Check | None = None  # the last program's failed check, until one passes
        last_problem = "no program passed the checks"
        while True:
            if (stop := self._stopped()) is not None:
                return stop
            if self.usage.turns >= 3 * self.limits.max_steps:  # many turns, no new program
                return self._give_up(last_problem)
            # A tool the task names and the model skipped (it wrote a program instead, which
            # fakes the tool) is called next under the call grammar.
            named = self._named_uncalled(work) if force else ()
            force = False
            request = self.request(
                work,
                self.specs,
                tokens=self.limits.turn_tokens,
                temperature=temperature,
                seed=self.limits.seed + attempt,
                choice="any" if named else "auto",
                allowed=named or None,
            )
            turn = await self.turn(request, buffered=True, watch=True)
            if (stop := self._turn_end(turn)) is not None:
                return stop
            if turn.calls:
                keys = {_call_key(c) for c in turn.calls}
                if keys <= made:  # the same calls again: their results are already above
                    steps += 1
                    work += [
                        Message(role="assistant", text=turn.text),
                        harness(prompt.SAME_CALL.format(name=turn.calls[0].name)),
                    ]
                    if steps >= self.limits.max_steps:
                        return self._give_up("the step limit was reached")
                    continue
                extra = [c for c in turn.calls if c.name in results and not _asked(c, self.task)]
                if extra and len(extra) == len(turn.calls) and not unasked_sent:
                    # After the task's own call was answered the small model calls the same
                    # function for things the task never named (banana, orange, …).
                    unasked_sent = True
                    steps += 1
                    work += [
                        Message(role="assistant", text=turn.text),
                        harness(prompt.UNASKED_CALL.format(
                            name=extra[0].name, result=results[extra[0].name])),
                    ]  # fmt: skip
                    continue
                made |= keys
                steps += len(turn.calls)
                self._thought(turn.text)
                paused = await self.run_calls(turn.text, turn.calls, work)
                if paused is not None:
                    return paused
                self.did.extend(c.name for c in turn.calls)
                if steps >= self.limits.max_steps:
                    return self._give_up("the step limit was reached")
                continue
            program = find_program(turn.text)
            if program is not None and not warned and (fake := _fakes(program.code, results)):
                warned = True
                work += [
                    Message(role="assistant", text=fenced(program)),
                    harness(prompt.FAKED_RESULT.format(name=fake, result=results[fake])),
                ]
                continue
            if program is not None and not force_used and self._named_uncalled(work):
                force = force_used = True  # ask again, with the named tool's call enforced
                continue
            if program is None:
                if not asked and not self.did and (plan.inputs or plan.outputs):
                    asked = True
                    if says_cannot(turn.text):
                        self.refusal = strip_code(turn.text) or turn.text.strip()
                    work += [
                        Message(role="assistant", text=turn.text),
                        harness(prompt.WRITE_PROGRAM),
                    ]
                    continue
                if failing is not None and not nudged:
                    # An answer while the last check failed: the work is not done yet.
                    nudged = True
                    work += [
                        Message(role="assistant", text=turn.text),
                        harness(prompt.NOT_DONE.format(problem=failing.problem)),
                    ]
                    continue
                if failing is not None:
                    return self._give_up(failing.problem)
                return await self._answer(turn.text, work, plan)
            key = hashlib.sha256(program.code.encode()).hexdigest()
            if steps >= self.limits.max_steps:
                return self._give_up(last_problem)
            if key in seen and not resampled and repairs:
                # The same program again after a repair request: ask once more, sampled.
                resampled = True
                temperature = self.limits.resample_temperature
                attempt += 1
                continue
            if key in seen:
                repairs = self.limits.repairs + 1  # still the same program: start afresh
            else:
                resampled = False
                seen.add(key)
                steps += 1
                check = await self._execute(program, plan)
                if check is not None and check.verdict == "done":
                    program, check = await self._second_opinion(work, program, check, plan)
                if check is None:
                    return "cancelled", None
                if check.verdict == "done":
                    final = prompt.FINAL_ANSWER.format(report=check.feedback)
                    return await self._finish(
                        [*work, Message(role="assistant", text=fenced(program)), harness(final)],
                        plan,
                        evidence=f"{self.task}\n{check.feedback}\n{work[0].text if work else ''}",
                    )
                if check.verdict == "impossible":
                    return await self._cannot(work, program, check)
                last_problem = check.problem
                failing = check
                repairs += 1
                if repairs <= self.limits.repairs:
                    work += [
                        Message(role="assistant", text=fenced(program)),
                        harness(check.feedback),
                    ]
                    continue
            if steps >= self.limits.max_steps:
                return self._give_up(last_problem)
            attempt += 1
            fresh += 1
            repairs = 0
            temperature = self.limits.resample_temperature
            self.out.thought(f"Starting attempt {fresh + 1} afresh (earlier programs failed).")
            self.out.close()
            work, _files, plan = self._base()

    def _named_uncalled(self, work: list[Message]) -> tuple[str, ...]:
        """Native tools the task names that this conversation has not called yet."""
        called = {c.name for m in work if m.role == "assistant" for c in m.tool_calls}
        return tuple(
            spec.name
            for spec in self.specs
            if spec.name not in called and re.search(rf"\b{re.escape(spec.name)}\b", self.task)
        )

    # -- tool calls (agents without code_execution) ---------------------------------------

    async def _tool_loop(self) -> Outcome:
        work, _, plan = self._base()
        steps = 0
        while True:
            if (stop := self._stopped()) is not None:
                return stop
            final = steps >= self.limits.max_steps
            request = self.request(
                work,
                () if final else self.specs,
                tokens=self.limits.turn_tokens,
                temperature=self.limits.temperature,
            )
            turn = await self.turn(request, buffered=False)
            if (stop := self._turn_end(turn)) is not None:
                return stop
            if not turn.calls:
                files = await asyncio.to_thread(snapshot, self.ctx.root)
                missing = [o for o in plan.outputs if o not in files]
                return ("incomplete", None) if missing or final else ("completed", None)
            steps += len(turn.calls)
            paused = await self.run_calls(turn.text, turn.calls, work)
            if paused is not None:
                return paused
            self.did.extend(c.name for c in turn.calls)
