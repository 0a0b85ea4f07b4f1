"""How an agent run ends: the model's final answer, checked against the sandbox, or a
plain statement of why the task could not be done and what was tried."""

from __future__ import annotations

import asyncio
from typing import Any

from workbench.engine.backends.base import Message

from . import prompt
from .actions import Program, fenced, strip_code
from .answer_checks import false_file_claims, invented_numbers, says_cannot, without_echo
from .execute import ProgramRunner
from .files_view import snapshot
from .task import TaskPlan
from .turns import Outcome, harness
from .verify import Check


class Endings(ProgramRunner):
    """The answer turns of a run (``answer_source`` says who wrote the answer)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer_source = ""  # "model" or "harness": who wrote the final answer
        self.refusal = ""  # a first answer saying the task cannot be done (before any work)

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
            answer = without_echo(answer, prompt.FINAL_ANSWER.format(report=""))
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
        self._emit_answer(prompt.DONE_FALLBACK.format(did=self.done_so_far), "harness")
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
        tried = [Message(role="assistant", text=fenced(program))] if program else []
        report = check.feedback or "No program was run."
        answer = await self._final_text(
            [*work, *tried, harness(prompt.CANNOT.format(report=report, reason=check.reason))]
        )
        if answer is None:
            return self._stopped() or ("cancelled", None)
        if answer and says_cannot(answer):
            self._emit_answer(answer, "model")
        else:
            did = self.done_so_far
            self._emit_answer(
                prompt.CANNOT_FALLBACK.format(reason=check.reason, did=did), "harness"
            )
        return "incomplete", None

    def _give_up(self, reason: str) -> Outcome:
        did = self.done_so_far
        self._emit_answer(prompt.GAVE_UP.format(reason=reason.rstrip("."), did=did), "harness")
        return "incomplete", None
