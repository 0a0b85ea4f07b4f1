"""The second opinion on a run's first passing program, as the loop asks it (``vote.py``
has the rules and why)."""

from __future__ import annotations

import asyncio
from typing import Any

from workbench.engine.backends.base import Message

from . import vote
from .actions import Program, find_program
from .execute import ProgramRunner
from .task import TaskPlan
from .verify import Check


class SecondOpinion(ProgramRunner):
    """Samples and runs programs on copies of the workspace; asked once per run."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.voted = False

    async def _second_opinion(
        self, work: list[Message], program: Program, check: Check, plan: TaskPlan
    ) -> tuple[Program, Check | None]:
        """Sampled programs run on copies of the workspace (``vote.py``): the first program
        stays unless two of them agree on another result, whose program then runs. Asked
        once per run, for a program (not a file edit) of a task no test judges."""
        pristine = self.before_copy
        if (
            self.voted or self.limits.votes <= 0 or program.target is not None or plan.tests
            or pristine is None or self.code_tool is None or self.last_run is None
        ):  # fmt: skip
            return program, check
        self.voted = True
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
        self.out.thought("Second opinion: the programs sampled afresh did not agree on another "
                         "result; the first result stands.")  # fmt: skip
        self.out.close()
        return program, check
