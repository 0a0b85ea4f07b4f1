"""The second opinion on a passing program (``agent/vote.py``): sampled programs run on
copies of the workspace confirm the result, or outvote it when two agree on another."""

from __future__ import annotations

from typing import Any

import pytest

from support.agent_fake import TOTAL, answer_of, program, run_loop, write_data
from workbench.engine.agent import ToolContext
from workbench.engine.agent.vote import Result, winner

pytestmark = pytest.mark.timeout(60)

RIGHT = (
    "import csv\nrows = list(csv.DictReader(open('data.csv')))\n"
    "open('total.txt', 'w').write(str(sum(int(r['amount']) for r in rows)))"
)
RIGHT_TOO = (
    "import csv\ntotal = 0\nfor r in csv.DictReader(open('data.csv')):\n"
    "    total += int(r['amount'])\nopen('total.txt', 'w').write(f'{total}\\n')"
)
WRONG = "open('total.txt', 'w').write('20')"  # took the last row only
WIPE = "import os\nos.remove('data.csv')\nopen('total.txt', 'w').write('0')"
ANSWER = "The total is 30; it is in total.txt."


def _thoughts(steps: list[dict[str, Any]]) -> str:
    return " ".join(str(s.get("summary", s)) for s in steps if s["type"] == "thought")


async def test_a_sample_that_agrees_confirms(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, steps, model = await run_loop(
        [program(RIGHT), program(RIGHT_TOO), ANSWER], ctx, TOTAL, votes=2
    )
    assert status == "completed"
    assert (ctx.root / "total.txt").read_text() == "30"
    assert "gave the same result" in _thoughts(steps)
    assert len(model.requests) == 3  # program, one sample (it agreed), answer
    sample = model.requests[1]
    assert sample.temperature == pytest.approx(0.7) and not sample.functions
    assert [s["type"] for s in steps].count("code_execution_call") == 1  # ran on a copy
    assert answer_of(steps) == ANSWER


async def test_two_samples_that_agree_outvote_the_first(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, steps, _ = await run_loop(
        [program(WRONG), program(RIGHT), program(RIGHT_TOO), ANSWER], ctx, TOTAL, votes=2
    )
    assert status == "completed"
    assert (ctx.root / "total.txt").read_text() == "30"
    assert "agree with each other" in _thoughts(steps)
    calls = [s for s in steps if s["type"] == "code_execution_call"]
    assert [c["arguments"]["code"].strip() for c in calls] == [WRONG, RIGHT]


async def test_samples_that_disagree_keep_the_first(ctx: ToolContext) -> None:
    write_data(ctx.root)
    other = "open('total.txt', 'w').write('10')"
    status, steps, _ = await run_loop(
        [program(WRONG), program(RIGHT), program(other), "The total is 20."], ctx, TOTAL, votes=2
    )
    assert status == "completed"
    assert (ctx.root / "total.txt").read_text() == "20"
    assert "the first result stands" in _thoughts(steps)


async def test_samples_never_touch_the_workspace(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, _, _ = await run_loop(
        [program(RIGHT), program(WIPE), program(WIPE), ANSWER], ctx, TOTAL, votes=2
    )
    # Two samples agree (total 0 and data.csv removed) and outvote the first: the real
    # workspace is restored from the copy taken before the first program, then theirs runs.
    assert status == "completed"
    assert not (ctx.root / "data.csv").exists()
    assert (ctx.root / "total.txt").read_text() == "0"


async def test_a_sample_that_fails_counts_for_nothing(ctx: ToolContext) -> None:
    write_data(ctx.root)
    broken = "raise SystemExit(3)"
    status, _, model = await run_loop(
        [program(WRONG), program(broken), program(broken), "The total is 20."], ctx, TOTAL,
        votes=2,
    )  # fmt: skip
    assert status == "completed"
    assert (ctx.root / "data.csv").exists()
    assert (ctx.root / "total.txt").read_text() == "20"
    assert len(model.requests) == 4


async def test_votes_off_asks_no_sample(ctx: ToolContext) -> None:
    write_data(ctx.root)
    _, _, model = await run_loop([program(RIGHT), ANSWER], ctx, TOTAL, votes=0)
    assert len(model.requests) == 2


def test_winner_rules() -> None:
    a, b, c = Result("a", True), Result("b", True), Result("c", True)
    bad = Result("failed", False)
    assert winner(a, [a]) is None
    assert winner(a, [b, b]) == 0
    assert winner(a, [b, c]) is None
    assert winner(a, [b, a]) is None
    assert winner(a, [bad, bad]) is None
    assert winner(a, [b, bad, b]) == 0


async def test_a_failed_program_changes_nothing(ctx: ToolContext) -> None:
    write_data(ctx.root)
    partial = (
        "open('total.txt', 'w').write('name,total\\n')\n"
        "open('data.csv', 'a').write('mar,oops\\n')\nraise KeyError('amount')"
    )
    status, _, model = await run_loop(
        [program(partial), program(RIGHT), ANSWER], ctx, TOTAL, votes=0
    )
    assert status == "completed"
    feedback = model.requests[1].messages[-1].text
    assert "changes to the files were undone" in feedback
    assert feedback.rstrip().endswith("write the whole corrected program.")
    assert (ctx.root / "data.csv").read_text() == "month,amount\njan,10\nfeb,20\n"
    assert (ctx.root / "total.txt").read_text() == "30"
