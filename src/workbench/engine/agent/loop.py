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
4. when the checks pass, the model writes the final answer (checked for files that do not
   exist); when the task *cannot* be done (a named input file missing, the network disabled)
   the model says so and the run ends ``incomplete``; when the step budget runs out the run
   ends ``incomplete`` with a plain statement of what was tried.

Client ``function`` tools, MCP tools and ``url_context`` stay native tool calls in the same
turns (a program cannot call them): a client function pauses the run (``requires_action``).
Without ``code_execution`` the run uses the classic tool-call shape (``_tool_loop``).

On the wire nothing is special: programs are ``code_execution_call``/``_result`` steps, the
harness's verdicts are ``thought`` steps, the answer is ``model_output``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.engine.backends.base import FunctionSpec, Message, ToolCall, ToolCallChunk
from workbench.engine.sandbox import ExecResult

from . import prompt, vote
from .actions import Program, find_program, is_misplaced_program, strip_code
from .files_view import Changes, Snapshot, diff, snapshot
from .task import TaskPlan
from .tools import ToolContext, ToolRegistry
from .tools_sandbox import CodeExecutionTool
from .turns import LoopLimits, Outcome, StepSink, TurnRunner, Usage, harness
from .verify import (
    Check,
    check_program,
    false_file_claims,
    impossible_upfront,
    invented_numbers,
    says_cannot,
)

__all__ = ["AgentLoop", "LoopLimits", "Outcome", "StepSink", "Usage"]

TEST_RUNNER = """\
import os, runpy, sys, tempfile, traceback
sys.dont_write_bytecode = True
sys.pycache_prefix = tempfile.mkdtemp()  # never a stale .pyc of a file rewritten this second
sys.path.insert(0, os.getcwd())
failed = 0
for path in {paths!r}:
    ns = runpy.run_path(path, run_name="__main__")
    for name, fn in list(ns.items()):
        if name.startswith("test") and callable(fn) and not isinstance(fn, type):
            try:
                fn()
            except Exception:
                traceback.print_exc()
                failed += 1
sys.exit(1 if failed else 0)
"""


def _call_key(call: ToolCall | ToolCallChunk) -> str:
    """A call's identity (name and arguments), to spot the same call made again."""
    return call.name + json.dumps(call.arguments, sort_keys=True)


def _fenced(program: Program) -> str:
    head = f"# file: {program.target}\n" if program.target else ""
    return f"```{program.language}\n{head}{program.code.rstrip()}\n```"


class AgentLoop(TurnRunner):
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
        )
        self.conversation = list(messages)
        self.system = system
        self.task = task
        self.network_disabled = network_disabled
        code = registry.get("code_execution")
        self.code_tool = code if isinstance(code, CodeExecutionTool) else None
        names = set(registry.names) if offered is None else set(offered)
        if self.code_tool is not None:
            names -= {"code_execution", "read_file", "write_file", "list_files", "delete_file"}
        self.specs = tuple(
            FunctionSpec(name=d["name"], description=d["description"], parameters=d["parameters"])
            for d in registry.declarations()
            if d["name"] in names
        )
        self.did: list[str] = []  # what the run did, for an honest closing statement
        self.answer_source = ""  # "model" or "harness": who wrote the final answer
        self.refusal = ""  # a first answer saying the task cannot be done (before any work)
        self.voted = False  # a second opinion was asked (once per run)
        self.last_run: tuple[ExecResult, Changes, Snapshot] | None = None

    # -- entry ----------------------------------------------------------------------------

    async def run(self) -> Outcome:
        """Turns until an answer, a pause, the budget, a failure or a cancel."""
        if self.code_tool is None:
            return await self._tool_loop()
        return await self._code_loop()

    def _base(self) -> tuple[list[Message], Snapshot, TaskPlan]:
        files = snapshot(self.ctx.root)
        system = self.system(files) if self.system else ""
        base = [Message(role="system", text=system)] if system else []
        return base + list(self.conversation), files, TaskPlan.of(self.task, files)

    def _stopped(self) -> Outcome | None:
        if self.cancel.is_set():
            return "cancelled", None
        if self.over_budget():
            return "budget_exceeded", None
        return None

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
                pristine = self._pristine(program, plan)
                try:
                    check = await self._execute(program, plan)
                    if check is not None and check.verdict == "done" and pristine is not None:
                        program, check = await self._second_opinion(
                            work, program, check, plan, pristine.name
                        )
                finally:
                    if pristine is not None:
                        pristine.cleanup()
                if check is None:
                    return "cancelled", None
                if check.verdict == "done":
                    final = prompt.FINAL_ANSWER.format(report=check.feedback)
                    return await self._finish(
                        [*work, Message(role="assistant", text=_fenced(program)), harness(final)],
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
                        Message(role="assistant", text=_fenced(program)),
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

    async def _execute(self, program: Program, plan: TaskPlan) -> Check | None:
        """Run one program as ``code_execution`` steps; the harness's check of the result."""
        assert self.code_tool is not None
        self._thought(program.before)
        before = await asyncio.to_thread(snapshot, self.ctx.root)
        if program.target is not None and is_misplaced_program(program, before):
            program = dataclasses.replace(program, target=None)  # a program, run it
        if program.target is not None:
            result = await self._write_file(program)
            if result is None:
                return None
        else:
            call_id = self.new_call_id()
            args = self.code_tool.normalize({"language": program.language, "code": program.code})
            self.out.tool_step(self.code_tool.call_step(call_id, args).to_wire())
            job = asyncio.ensure_future(self.code_tool.execute(args, self.ctx))
            if await self.until_cancelled(job):
                return None
            result, outcome = job.result()
            self.usage.tool_calls += 1
            step = self.code_tool.result_step(call_id, outcome)
            if step is not None:
                self.out.tool_step(step.to_wire())
        after = await asyncio.to_thread(snapshot, self.ctx.root)
        changes = diff(before, after)
        self.last_run = (result, changes, after)
        action = (
            f"wrote {program.target}" if program.target else f"ran a {program.language} program"
        )
        self.did.append(
            f"{action} (exit status {result.exit_code}"
            + (f"; {changes.describe(after).replace(chr(10), ', ')}" if changes.touched else "")
            + ")"
        )
        test = await self._run_tests(plan) if result.ok and plan.tests else None
        check = check_program(
            result,
            changes,
            after,
            plan,
            root=self.ctx.root,
            network_disabled=self.network_disabled,
            test_result=test,
        )
        verdict = {
            "done": "the checks pass",
            "repair": "the task is not done yet",
            "impossible": "the task cannot be done here",
        }[check.verdict]
        note = f"Harness check: {verdict}."
        if check.verdict == "impossible":
            note += f" Reason: {check.reason}."
        elif check.verdict == "repair":
            note += " " + check.problem
        self.out.thought(note)
        self.out.close()
        return check

    def _pristine(
        self, program: Program, plan: TaskPlan
    ) -> tempfile.TemporaryDirectory[str] | None:
        """A copy of the workspace before a program runs, when it may get a second opinion:
        the run's first program that is not a file edit, for a task no test judges."""
        if self.voted or self.limits.votes <= 0 or program.target is not None or plan.tests:
            return None
        if not vote.copyable(snapshot(self.ctx.root)):
            return None
        keep = tempfile.TemporaryDirectory(prefix="wb-pristine-")
        vote.copy_tree(self.ctx.root, Path(keep.name) / "w")
        return keep

    async def _second_opinion(
        self, work: list[Message], program: Program, check: Check, plan: TaskPlan, keep: str
    ) -> tuple[Program, Check | None]:
        """Sampled programs run on copies of the workspace (``vote.py``): the first program
        stays unless two of them agree on another result, whose program then runs."""
        self.voted = True
        assert self.code_tool is not None and self.last_run is not None
        pristine = Path(keep) / "w"
        first = vote.result_of(self.ctx.root, *self.last_run, plan)
        samples: list[vote.Result] = []
        programs: list[Program] = []
        for k in range(self.limits.votes):
            request = self.request(
                work, (), tokens=self.limits.turn_tokens,
                temperature=self.limits.resample_temperature, seed=self.limits.seed + 101 + k,
            )  # fmt: skip
            turn = await self.turn(request, buffered=True, watch=True)
            if self._turn_end(turn) is not None:
                return program, None if self.cancel.is_set() else check
            sample = find_program(turn.text)
            if sample is None or sample.target is not None:
                continue
            samples.append(await self._run_copy(sample, pristine, plan))
            programs.append(sample)
            if samples[-1].ok and samples[-1].key == first.key:
                self.out.thought("Second opinion: a program sampled afresh and run on a copy "
                                 "of the workspace gave the same result.")  # fmt: skip
                self.out.close()
                return program, check
            if (pick := vote.winner(first, samples)) is not None:
                self.out.thought(
                    f"Second opinion: {len(samples)} programs sampled afresh and run on copies "
                    "of the workspace agree with each other and not with the first result; "
                    "the workspace is restored and their program runs instead."
                )
                self.out.close()
                await asyncio.to_thread(vote.restore, self.ctx.root, pristine, self.last_run[1])
                adopted = programs[pick]
                return adopted, await self._execute(adopted, plan)
        return program, check

    async def _run_copy(self, program: Program, root: Path, plan: TaskPlan) -> vote.Result:
        """One sampled program on a throwaway copy of the workspace."""
        assert self.code_tool is not None
        args = self.code_tool.normalize({"language": program.language, "code": program.code})
        with vote.scratch_copy(root) as copy:
            before = await asyncio.to_thread(snapshot, copy)
            result = await self.ctx.runner.run(
                copy, str(args["code"]), str(args.get("language", "python")),
                network=self.ctx.network.code_network, env=self.ctx.env,
                limits=self.ctx.limits, cancel=self.ctx.cancel,
            )  # fmt: skip
            changes, after = await asyncio.to_thread(vote.changes_in, copy, before)
            self.usage.tool_calls += 1
            return vote.result_of(copy, result, changes, after, plan)

    async def _write_file(self, program: Program) -> ExecResult | None:
        """A whole-file block, written with the ``write_file`` tool (its own typed steps);
        the outcome as an ``ExecResult`` so the same checks apply."""
        assert program.target is not None
        args = {"path": program.target, "content": program.code}
        call_id = self.new_call_id()
        tool = self.registry.get("write_file")
        if tool is None:
            return ExecResult(refused="this agent has no write_file tool")
        self.out.tool_step(tool.call_step(call_id, args).to_wire())
        outcome = await self.run_tool("write_file", args)
        if outcome is None:
            return None
        self.usage.tool_calls += 1
        step = tool.result_step(call_id, outcome)
        if step is not None:
            self.out.tool_step(step.to_wire())
        if outcome.is_error:
            return ExecResult(stderr=outcome.text, exit_code=1)
        return ExecResult(stdout=outcome.text, exit_code=0)

    async def _run_tests(self, plan: TaskPlan) -> ExecResult | None:
        """Run the tests the task says must pass: each file as a script, then its
        ``test*`` functions (pytest style), in the working folder."""
        code = TEST_RUNNER.format(paths=list(plan.tests))
        return await self.ctx.runner.run(
            self.ctx.root, code, "python", network=False, env=self.ctx.env,
            limits=self.ctx.limits, cancel=self.ctx.cancel,
        )  # fmt: skip

    # -- endings --------------------------------------------------------------------------

    async def _final_text(self, work: list[Message]) -> str | None:
        """One buffered answer turn without tools; None when the run must stop."""
        request = self.request(
            work, (), tokens=self.limits.answer_tokens, temperature=0.0, choice="none"
        )
        turn = await self.turn(request, buffered=True)
        if self._turn_end(turn) is not None:
            return None
        return strip_code(turn.text)

    def _emit_answer(self, text: str, source: str) -> None:
        self.answer_source = source
        self.out.text(text)
        self.out.close()

    async def _finish(self, work: list[Message], plan: TaskPlan, *, evidence: str) -> Outcome:
        """The work passed the checks: the model's final answer, checked for files it did
        not write and numbers that appear nowhere in the task, the output or the files."""
        for _ in range(2):
            answer = await self._final_text(work)
            if answer is None:
                return self._stopped() or ("cancelled", None)
            files = await asyncio.to_thread(snapshot, self.ctx.root)
            wrong = false_file_claims(answer, files)
            invented = invented_numbers(answer, evidence)
            if answer and not wrong and not invented:
                self._emit_answer(answer, "model")
                return "completed", None
            if wrong:
                again = prompt.FALSE_CLAIM.format(names=", ".join(wrong))
            elif invented:
                again = prompt.INVENTED.format(numbers=", ".join(invented))
            else:
                again = prompt.FINAL_ANSWER.format(report="")
            work = [*work, Message(role="assistant", text=answer or "(no answer)"), harness(again)]
        self._emit_answer(prompt.DONE_FALLBACK.format(did="; ".join(self.did)), "harness")
        return "completed", None

    async def _answer(self, text: str, work: list[Message], plan: TaskPlan) -> Outcome:
        """The model answered without (another) program: accept it only if the work holds."""
        answer = strip_code(text) or text.strip()
        files = await asyncio.to_thread(snapshot, self.ctx.root)
        missing = [o for o in plan.outputs if o not in files or files[o].size == 0]
        if missing:
            # Work not done: the model's own words when they say so, else the harness's.
            refusal = answer if says_cannot(answer) else self.refusal
            if refusal:
                self._emit_answer(refusal, "model")
                return "incomplete", None
            return self._give_up(f"{', '.join(missing)} was not written")
        wrong = false_file_claims(answer, files)
        if wrong or not answer:
            return self._give_up(
                "the answer named files that do not exist" if wrong else "the model gave no answer"
            )
        self._emit_answer(answer, "model")
        return "completed", None

    async def _cannot(self, work: list[Message], program: Program | None, check: Check) -> Outcome:
        """The task cannot be done here: the model says so (or the harness, plainly)."""
        if program is None:  # (after a program, its check already said so)
            self.out.thought(f"Harness check: the task cannot be done here: {check.reason}.")
            self.out.close()
        tried = [Message(role="assistant", text=_fenced(program))] if program else []
        report = check.feedback or "No program was run."
        answer = await self._final_text(
            [*work, *tried, harness(prompt.CANNOT.format(report=report, reason=check.reason))]
        )
        if answer is None:
            return self._stopped() or ("cancelled", None)
        if answer and says_cannot(answer):
            self._emit_answer(answer, "model")
        else:
            did = "; ".join(self.did) or "nothing"
            self._emit_answer(
                prompt.CANNOT_FALLBACK.format(reason=check.reason, did=did), "harness"
            )
        return "incomplete", None

    def _give_up(self, reason: str) -> Outcome:
        did = "; ".join(self.did) or "nothing"
        self._emit_answer(prompt.GAVE_UP.format(reason=reason.rstrip("."), did=did), "harness")
        return "incomplete", None

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
