"""Running the model's programs in the sandbox, and the harness's check of each run.

``ProgramRunner`` holds what a run did (for an honest closing statement) and runs one
program as ``code_execution`` steps — or a whole-file block as ``write_file`` steps — then
the tests the task names, and returns ``verify.check_program``'s verdict.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from workbench.engine.sandbox import ExecResult

from . import vote
from .actions import Program, is_misplaced_program
from .files_view import Changes, Snapshot, diff, snapshot
from .task import TaskPlan
from .tools import ToolContext, ToolRegistry
from .tools_sandbox import CodeExecutionTool
from .turns import LoopLimits, StepSink, TurnRunner
from .verify import Check, check_program

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


UNDONE = "The failed program's changes to the files were undone."


class ProgramRunner(TurnRunner):
    """Programs of one run, and what they did (see the module doc)."""

    def __init__(
        self,
        *,
        backend: Any,
        model: str,
        registry: ToolRegistry,
        ctx: ToolContext,
        out: StepSink,
        limits: LoopLimits,
        cancel: asyncio.Event,
        new_call_id: Any,
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
        self.network_disabled = network_disabled
        code = registry.get("code_execution")
        self.code_tool = code if isinstance(code, CodeExecutionTool) else None
        self.did: list[str] = []  # what the run did, for an honest closing statement
        self.earlier: list[str] = []  # what earlier hops of the interaction did (client calls)
        self.last_run: tuple[ExecResult, Changes, Snapshot] | None = None
        self._copy: tempfile.TemporaryDirectory[str] | None = None

    @property
    def done_so_far(self) -> str:
        """What the interaction did, for a closing statement."""
        return "; ".join(self.earlier + self.did) or "nothing"

    @property
    def before_copy(self) -> Path | None:
        """A copy of the workspace as it was before the last program (None: too large)."""
        return Path(self._copy.name) / "w" if self._copy is not None else None

    def _take_copy(self, files: Snapshot) -> None:
        self.release_copy()
        if vote.copyable(files):
            self._copy = tempfile.TemporaryDirectory(prefix="wb-before-")
            vote.copy_tree(self.ctx.root, Path(self._copy.name) / "w")

    def release_copy(self) -> None:
        """Drop the copy of the workspace (at the end of the run)."""
        if self._copy is not None:
            self._copy.cleanup()
            self._copy = None

    async def _execute(self, program: Program, plan: TaskPlan) -> Check | None:
        """Run one program as ``code_execution`` steps; the harness's check of the result."""
        assert self.code_tool is not None
        self._thought(program.before)
        before = await asyncio.to_thread(snapshot, self.ctx.root)
        await asyncio.to_thread(self._take_copy, before)
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
        if check.verdict != "done" and not result.ok and await self._undo(changes):
            report, _, ask = check.feedback.rpartition("\n")  # the request stays last
            check = dataclasses.replace(check, feedback=f"{report}\n{UNDONE} {ask}".lstrip())
            self.did[-1] += " — its changes were undone"
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

    async def _undo(self, changes: Changes) -> bool:
        """A program that failed changes nothing: its partial outputs (a header without
        rows, a half-written file) would mislead the next attempt, which reads them as
        inputs. True when there was something to undo."""
        copy = self.before_copy
        if copy is None or not (changes.touched or changes.deleted):
            return False
        await asyncio.to_thread(vote.restore, self.ctx.root, copy, changes)
        return True

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

    async def _run_copy(self, program: Program, root: Path, plan: TaskPlan) -> vote.Result:
        """One sampled program on a throwaway copy of the workspace."""
        assert self.code_tool is not None
        args = self.code_tool.normalize({"language": program.language, "code": program.code})
        with vote.scratch_copy(root) as copy:
            before = await asyncio.to_thread(snapshot, copy)
            result = await self.ctx.runner.run(
                copy, str(args["code"]), str(args.get("language", "python")),
                network=self.ctx.network.code_network, env=self.ctx.env,
                limits=self.ctx.limits, cancel=self.ctx.cancel, egress=self.ctx.egress,
            )  # fmt: skip
            changes, after = await asyncio.to_thread(vote.changes_in, copy, before)
            self.usage.tool_calls += 1
            return vote.result_of(copy, result, changes, after, plan)
