"""The code-action agent loop with a fake backend that plays a small model, turn by turn.

Programs really run in the sandbox (``CodeRunner``), so every check the harness makes —
exit status, output files, the test a task names — is exercised on real files.
"""

from __future__ import annotations

import pytest

from support.agent_fake import (
    GOOD,
    TOTAL,
    answer_of,
    program,
    run_loop,
    run_resumed,
    write_data,
)
from workbench.engine.agent import ToolContext
from workbench.engine.agent.prompt import HARNESS
from workbench.engine.agent.tools_sandbox import repair_python
from workbench.engine.backends.base import (
    Chunk,
    ToolCallChunk,
)

pytestmark = pytest.mark.timeout(60)


async def test_program_checked_then_answered(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, steps, model = await run_loop(
        [program(GOOD, "I will sum it."), "The total is 30; I wrote it to total.txt."], ctx, TOTAL
    )
    assert status == "completed"
    assert (ctx.root / "total.txt").read_text() == "30"
    kinds = [s["type"] for s in steps]
    assert kinds == ["thought", "code_execution_call", "code_execution_result", "thought",
                     "model_output"]  # fmt: skip
    assert steps[1]["arguments"]["code"].startswith("import csv")
    assert "checks pass" in str(steps[3])
    assert answer_of(steps) == "The total is 30; I wrote it to total.txt."
    first = model.requests[0]
    system = first.messages[0].text
    assert "data.csv (" in system and "month,amount" in system  # files listed with previews
    assert first.functions == ()  # no JSON tools: the program is the action
    final = model.requests[-1]
    assert final.tool_choice == "none" and final.messages[-1].name == HARNESS
    assert "created total.txt" in final.messages[-1].text


async def test_failed_program_is_repaired_from_its_traceback(ctx: ToolContext) -> None:
    write_data(ctx.root)
    broken = "import csv\nrows = list(csv.DictReader(open('data.csv')))\nprint(rows[0]['amt'])"
    status, steps, model = await run_loop(
        [program(broken), program(GOOD), "Total: 30."], ctx, TOTAL
    )
    assert status == "completed"
    feedback = model.requests[1].messages[-1]
    assert feedback.name == HARNESS and "KeyError" in feedback.text
    assert "exit status 1" in feedback.text
    assert sum(s["type"] == "code_execution_call" for s in steps) == 2


async def test_missing_output_is_not_accepted(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, _, model = await run_loop([program("print(30)"), program(GOOD), "30."], ctx, TOTAL)
    assert status == "completed"
    assert "total.txt, which does not exist yet" in model.requests[1].messages[-1].text


async def test_answer_without_work_is_sent_back_once(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, _, model = await run_loop(["The total is 30.", program(GOOD), "30."], ctx, TOTAL)
    assert status == "completed"
    assert "first write one complete Python program" in model.requests[1].messages[-1].text


async def test_missing_input_ends_incomplete_in_the_models_words(ctx: ToolContext) -> None:
    task = "Read missing.csv and write the sum of its values to sum.txt."
    code = "print(sum(int(x) for x in open('missing.csv')))"
    status, steps, model = await run_loop(
        [program(code), "I cannot do it: missing.csv does not exist."], ctx, task
    )
    assert status == "incomplete"
    assert answer_of(steps) == "I cannot do it: missing.csv does not exist."
    assert "does not exist in the working folder" in model.requests[-1].messages[-1].text
    assert not (ctx.root / "sum.txt").exists()


async def test_impossible_task_claimed_done_gets_the_harness_statement(ctx: ToolContext) -> None:
    task = "Read missing.csv and write the sum of its values to sum.txt."
    code = "print(open('missing.csv').read())"
    status, steps, _ = await run_loop([program(code), "Done! The sum is 42."], ctx, task)
    assert status == "incomplete"
    assert answer_of(steps).startswith("I could not do this task: the file missing.csv does not")


async def test_network_disabled_is_a_reason_not_a_bug(ctx: ToolContext) -> None:
    task = "Fetch https://example.com and save its title to title.txt."
    code = "import urllib.request\nprint(urllib.request.urlopen('https://example.com').read())"
    status, steps, _ = await run_loop(
        [program(code), "I could not fetch the page: the network is disabled."], ctx, task,
        network_disabled=True,
    )  # fmt: skip
    assert status == "incomplete"
    assert "network" in answer_of(steps)


async def test_same_program_after_a_repair_request_is_resampled(ctx: ToolContext) -> None:
    write_data(ctx.root)
    bad = "print(1/0)"
    status, steps, model = await run_loop(
        [program(bad), program(bad), program(GOOD), "Total 30."], ctx, TOTAL
    )
    assert status == "completed"
    assert sum(s["type"] == "code_execution_call" for s in steps) == 2  # the repeat never ran
    assert model.requests[0].temperature == 0.0 and model.requests[1].temperature == 0.0
    # The repair is asked again, sampled, with the feedback still in view.
    assert model.requests[2].temperature == 0.7 and model.requests[2].seed == 2
    assert model.requests[2].messages[-1].name == HARNESS


async def test_still_the_same_program_starts_a_fresh_attempt(ctx: ToolContext) -> None:
    write_data(ctx.root)
    bad = "print(1/0)"
    status, steps, model = await run_loop(
        [program(bad), program(bad), program(bad), program(GOOD), "Total 30."], ctx, TOTAL
    )
    assert status == "completed"
    assert len(model.requests[3].messages) == 2  # afresh: system + task only
    assert model.requests[3].temperature == 0.7
    assert any("Starting attempt 2 afresh" in str(s) for s in steps)


async def test_gives_up_plainly_at_the_step_limit(ctx: ToolContext) -> None:
    write_data(ctx.root)
    turns: list[str | list[Chunk]] = [program(f"print({i}/0)") for i in range(5)]
    status, steps, _ = await run_loop(turns, ctx, TOTAL, max_steps=3)
    assert status == "incomplete"
    text = answer_of(steps)
    assert text.startswith("I could not finish the task:")
    assert "ran a python program (exit status 1)" in text
    assert not (ctx.root / "total.txt").exists()


async def test_false_claim_in_the_answer_is_refused(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, steps, model = await run_loop(
        [program(GOOD), "I saved the total to summary.txt.", "The total, 30, is in total.txt."],
        ctx, TOTAL,
    )  # fmt: skip
    assert status == "completed"
    assert "summary.txt" in model.requests[-1].messages[-1].text
    assert answer_of(steps) == "The total, 30, is in total.txt."


async def test_named_test_must_pass(ctx: ToolContext) -> None:
    (ctx.root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ctx.root / "test_calc.py").write_text("from calc import add\nassert add(2, 3) == 5\n")
    task = "Fix the bug in calc.py so that test_calc.py passes."
    noop = "print('looked at it')"
    fix = "open('calc.py', 'w').write('def add(a, b):\\n    return a + b\\n')"
    status, _, model = await run_loop([program(noop), program(fix), "Fixed add."], ctx, task)
    assert status == "completed"
    assert "the test still fails" in model.requests[1].messages[-1].text
    assert "AssertionError" in model.requests[1].messages[-1].text


async def test_client_function_pauses_therun_loop(ctx: ToolContext) -> None:
    tools = [{"type": "code_execution"},
             {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]  # fmt: skip
    call = ToolCallChunk(name="get_weather", arguments={"city": "Oslo"})
    status, steps, model = await run_loop([[call]], ctx, "Weather in Oslo?", tools=tools)
    assert status == "requires_action"
    assert [s["type"] for s in steps] == ["function_call"]
    assert [f.name for f in model.requests[0].functions] == ["get_weather"]


async def test_budget(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, _, _ = await run_loop([program("print(1/0)"), program("print(2/0)")], ctx, TOTAL,
                              max_total_tokens=20)  # fmt: skip
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


async def test_invented_number_in_the_answer_is_refused(ctx: ToolContext) -> None:
    write_data(ctx.root)
    status, steps, model = await run_loop(
        [program(GOOD), "The total is 85.", "The total is 30."], ctx, TOTAL
    )
    assert status == "completed"
    assert "gives 85" in model.requests[-1].messages[-1].text
    assert answer_of(steps) == "The total is 30."


async def test_the_answer_sees_short_output_files(ctx: ToolContext) -> None:
    write_data(ctx.root)
    quiet = GOOD.replace("\nprint(t)", "")
    _, _, model = await run_loop([program(quiet), "30."], ctx, TOTAL)
    assert "total.txt now holds:\n```\n30\n```" in model.requests[-1].messages[-1].text


async def test_a_whole_file_block_is_written_notrun_loop(ctx: ToolContext) -> None:
    (ctx.root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ctx.root / "test_calc.py").write_text("from calc import add\nassert add(2, 3) == 5\n")
    task = "Fix the bug in calc.py so that test_calc.py passes."
    block = "```python\n# file: calc.py\ndef add(a, b):\n    return a + b\n```"
    status, steps, _ = await run_loop([block, "I fixed add in calc.py."], ctx, task)
    assert status == "completed"
    assert (ctx.root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    kinds = [s["type"] for s in steps]
    assert kinds[:2] == ["function_call", "function_result"]
    assert steps[0]["name"] == "write_file" and steps[0]["arguments"]["path"] == "calc.py"


async def test_an_answer_after_a_failed_check_is_not_a_success(ctx: ToolContext) -> None:
    (ctx.root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ctx.root / "test_calc.py").write_text("from calc import add\nassert add(2, 3) == 5\n")
    task = "Fix the bug in calc.py so that test_calc.py passes."
    status, steps, model = await run_loop(
        [program("print('ok')"), "I fixed it.", "It is fixed now."], ctx, task
    )
    assert status == "incomplete"
    assert "Do not answer yet" in model.requests[2].messages[-1].text
    assert answer_of(steps).startswith("I could not finish the task: The task is not done")


async def test_a_refusal_that_stays_a_refusal_ends_incomplete_in_its_words(
    ctx: ToolContext,
) -> None:
    write_data(ctx.root)
    status, steps, model = await run_loop(["I cannot open data.csv.", "Sorry, no."], ctx, TOTAL)
    assert status == "incomplete"
    assert "first write one complete Python program" in model.requests[1].messages[-1].text
    assert answer_of(steps) == "I cannot open data.csv."


async def test_a_program_in_a_file_block_for_a_new_output_isrun_loop(ctx: ToolContext) -> None:
    write_data(ctx.root)
    block = f"```python\n# file: total.txt\n{GOOD}\n```"
    status, _, _ = await run_loop([block, "The total is 30."], ctx, TOTAL)
    assert status == "completed"
    assert (ctx.root / "total.txt").read_text() == "30"  # the program ran and wrote it


async def test_a_program_faking_a_named_tool_gets_the_call_enforced(ctx: ToolContext) -> None:
    tools = [{"type": "code_execution"},
             {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]  # fmt: skip
    fake = (
        "def get_weather(city):\n    return 'sunny'\nopen('w.txt', 'w').write(get_weather('Oslo'))"
    )
    call = ToolCallChunk(name="get_weather", arguments={"city": "Oslo"})
    status, steps, model = await run_loop(
        [program(fake), [call]], ctx, "Call get_weather for Oslo and write it to w.txt.",
        tools=tools,
    )  # fmt: skip
    assert status == "requires_action"
    assert [s["type"] for s in steps] == ["function_call"]  # the fake never ran
    assert not (ctx.root / "w.txt").exists()
    forced = model.requests[1]
    assert forced.tool_choice == "any" and forced.allowed_functions == ("get_weather",)


async def test_a_named_column_no_csv_has_ends_before_any_program(ctx: ToolContext) -> None:
    (ctx.root / "items.csv").write_text("item,quantity\nnails,3\n")
    task = "Write the total of the price column of items.csv to price_total.txt."
    status, steps, model = await run_loop(["There is no price column in items.csv."], ctx, task)
    assert status == "incomplete"
    assert [s["type"] for s in steps] == ["thought", "model_output"]
    assert "no column named 'price'" in model.requests[0].messages[-1].text
    assert answer_of(steps) == "There is no price column in items.csv."


async def test_a_fetch_with_the_network_disabled_ends_before_any_program(ctx: ToolContext) -> None:
    task = "Download https://example.com/data.csv and write its number of lines to lines.txt."
    status, steps, _ = await run_loop(["I made it up: 12 lines."], ctx, task, network_disabled=True)
    assert status == "incomplete"
    assert answer_of(steps).startswith("I could not do this task: it needs https://example.com")
    assert not (ctx.root / "lines.txt").exists()


async def test_a_client_call_repeated_after_its_result_is_not_made_again(
    ctx: ToolContext,
) -> None:
    task = "Call get_weather for Oslo and write what it returned to w.txt."
    call = ToolCallChunk(name="get_weather", arguments={"city": "Oslo"})
    write = "open('w.txt', 'w').write('sunny')\nprint('sunny')"
    status, _, model = await run_resumed(
        [[call], program(write), "It is sunny; I wrote w.txt."], ctx, task,
        "get_weather", {"city": "Oslo"}, "sunny",
    )  # fmt: skip
    assert status == "completed"
    assert "already called get_weather" in model.requests[1].messages[-1].text
    assert (ctx.root / "w.txt").read_text() == "sunny"


async def test_a_function_result_is_named_and_a_program_faking_it_is_sent_back(
    ctx: ToolContext,
) -> None:
    task = "Call get_weather for Oslo and write what it returned to w.txt."
    fake = (
        "def get_weather(city):\n    return 'rain'\nopen('w.txt', 'w').write(get_weather('Oslo'))"
    )
    write = "open('w.txt', 'w').write('sunny, 3 C')"
    status, steps, model = await run_resumed(
        [program(fake), program(write), "It is sunny, 3 C; I wrote w.txt."], ctx, task,
        "get_weather", {"city": "Oslo"}, "sunny, 3 C",
    )  # fmt: skip
    assert status == "completed"
    first = model.requests[0].messages[-1]
    assert first.name == HARNESS and first.text.startswith("get_weather returned sunny, 3 C")
    sent_back = model.requests[1].messages[-1].text
    assert "get_weather is not a Python function" in sent_back and "'sunny, 3 C'" in sent_back
    assert (ctx.root / "w.txt").read_text() == "sunny, 3 C"
    assert [s["type"] for s in steps].count("code_execution_call") == 1  # the fake never ran


async def test_a_call_for_something_the_task_never_named_is_sent_back_once(
    ctx: ToolContext,
) -> None:
    task = "Use the lookup_price function to find the price of an apple, and tell me the price."
    banana = ToolCallChunk(name="lookup_price", arguments={"item": "banana"})
    status, steps, model = await run_resumed(
        [[banana], "An apple costs 0.45 EUR."], ctx, task,
        "lookup_price", {"item": "apple"}, "0.45 EUR",
    )  # fmt: skip
    assert status == "completed"
    sent_back = model.requests[1].messages[-1].text
    assert "did not ask for that" in sent_back and "'0.45 EUR'" in sent_back
    assert not [s for s in steps if s["type"] == "function_call"]  # banana was never asked
    assert answer_of(steps) == "An apple costs 0.45 EUR."


async def test_after_a_function_result_an_answer_without_the_file_is_asked_for_a_program(
    ctx: ToolContext,
) -> None:
    task = "Call the get_weather function for Paris, then write what it returned to weather.txt."
    write = "open('weather.txt', 'w').write('sunny, 21 C')"
    status, _, _ = await run_resumed(
        ["It is sunny, 21 C.", program(write), "weather.txt says sunny, 21 C."], ctx, task,
        "get_weather", {"city": "Paris"}, "sunny, 21 C",
    )  # fmt: skip
    assert status == "completed"
    assert (ctx.root / "weather.txt").read_text() == "sunny, 21 C"
