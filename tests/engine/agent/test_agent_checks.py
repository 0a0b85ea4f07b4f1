"""The harness's reading of a task and of a model turn (pure functions, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.engine.agent.actions import find_program, program_closed, strip_code
from workbench.engine.agent.answer_checks import false_file_claims, invented_numbers, says_cannot
from workbench.engine.agent.files_view import FileInfo, diff, listing, snapshot
from workbench.engine.agent.task import TaskPlan, locate


def _files(*paths: str) -> dict[str, FileInfo]:
    return {p: FileInfo(p, 10, 0) for p in paths}


@pytest.mark.parametrize(
    ("task", "files", "inputs", "outputs"),
    [
        ("Read data.csv, total the amount column, and write only that number to total.txt.",
         ("data.csv",), {"data.csv": "data.csv"}, ["total.txt"]),
        ("Create a file hello.txt that contains exactly: Hello, world!", (), {}, ["hello.txt"]),
        ("Count the lines of notes.txt and write only the number to count.txt.",
         ("notes.txt",), {"notes.txt": "notes.txt"}, ["count.txt"]),
        ('Write a JSON file config.json with the key "version" set to 2.', (), {},
         ["config.json"]),
        ("Read sales.csv and write the total to total.txt", ("workspace/sales.csv",),
         {"sales.csv": "workspace/sales.csv"}, ["total.txt"]),
        ("Read missing.csv and write the sum to sum.txt.", (), {"missing.csv": None},
         ["sum.txt"]),
        ("Join orders.csv and customers.csv and save the totals in totals.csv",
         ("orders.csv", "customers.csv"),
         {"orders.csv": "orders.csv", "customers.csv": "customers.csv"}, ["totals.csv"]),
        ("How many people in people.csv are older than 30?", ("people.csv",),
         {"people.csv": "people.csv"}, []),
        ("Compute 3.14 times 2 and version 1.0.2, e.g. as text.", (), {}, []),
    ],
)  # fmt: skip
def test_task_plan_finds_inputs_and_outputs(
    task: str, files: tuple[str, ...], inputs: dict[str, str | None], outputs: list[str]
) -> None:
    plan = TaskPlan.of(task, _files(*files))
    assert plan.inputs == inputs
    assert plan.outputs == outputs


def test_task_plan_tests_and_urls() -> None:
    plan = TaskPlan.of(
        "Fix the bug in calc.py so that test_calc.py passes.", _files("calc.py", "test_calc.py")
    )
    assert plan.tests == ["test_calc.py"] and plan.outputs == []
    web = TaskPlan.of("Fetch https://example.com/a.csv and save it to a.csv.", {})
    assert web.urls == ["https://example.com/a.csv"] and web.outputs == ["a.csv"]


def test_locate_by_unique_base_name() -> None:
    files = _files("inputs/2026/q1.csv", "a/x.txt", "b/x.txt")
    assert locate("q1.csv", files) == "inputs/2026/q1.csv"
    assert locate("x.txt", files) is None  # two candidates: no guess
    assert locate("./inputs/2026/q1.csv", files) == "inputs/2026/q1.csv"


def test_find_program() -> None:
    text = "Here it is:\n```python\nprint(1)\n```\nIt prints 1."
    program = find_program(text)
    assert program is not None and program.code == "print(1)\n" and program.closed
    assert program.before == "Here it is:"
    assert find_program('```json\n{"a": 1}\n```') is None  # data, not a program
    assert find_program("```\nimport os\nprint(os.getcwd())") is not None  # unclosed, bare
    assert find_program("```\nhello there\n```") is None
    bash = find_program("```sh\nls -l\n```")
    assert bash is not None and bash.language == "bash"
    assert program_closed("```python\nprint(1)\n```") and not program_closed("```python\nx")
    assert strip_code(text) == "Here it is:\n\nIt prints 1."


def test_answer_checks() -> None:
    files = _files("total.txt")
    assert false_file_claims("I saved the total to summary.txt.", files) == ["summary.txt"]
    assert false_file_claims("I wrote total.txt.", files) == []
    assert false_file_claims("budget.csv does not exist.", files) == []
    assert false_file_claims("Write REPORT.md first.", files) == []  # not a claim
    assert invented_numbers("The average is 85.", "scores 70 85 90 77\nOutput: 80.5") == []
    assert invented_numbers("The average is 81.", "Output: 80.5") == ["81"]
    assert invented_numbers("It is 80.50 in part1.txt.", "80.5") == []  # file names ignored
    assert says_cannot("I could not read it: budget.csv does not exist.")
    assert not says_cannot("The total is 30.")


def test_snapshot_diff_and_listing(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / ".agents").mkdir()
    (tmp_path / ".agents" / "AGENTS.md").write_text("hidden")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" * 10)
    before = snapshot(tmp_path)
    assert set(before) == {"data.csv", "blob.bin"}
    text = listing(tmp_path, before)
    assert "- data.csv (8 bytes; CSV with the header line 'a,b'" in text and "a,b\n1,2" in text
    assert "first lines of blob.bin" not in text  # binary: size only
    (tmp_path / "out.txt").write_text("x")
    (tmp_path / "blob.bin").unlink()
    changes = diff(before, snapshot(tmp_path))
    assert changes.created == ("out.txt",) and changes.deleted == ("blob.bin",)
    assert listing(tmp_path, {}) == "The working folder is empty."


def test_a_key_error_on_a_join_says_which_file_has_the_column(tmp_path: Path) -> None:
    from workbench.engine.agent.files_view import Changes
    from workbench.engine.agent.verify import check_program
    from workbench.engine.sandbox import ExecResult

    (tmp_path / "orders.csv").write_text("order_id,customer_id,amount\n1,c1,5\n")
    (tmp_path / "customers.csv").write_text("customer_id,name\nc1,Ana\n")
    files = snapshot(tmp_path)
    task = "Join orders.csv with customers.csv and write totals.csv with name,total."
    failed = ExecResult(stderr="Traceback …\nKeyError: 'name'\n", exit_code=1)
    check = check_program(
        failed, Changes(), files, TaskPlan.of(task, files), root=tmp_path,
        network_disabled=True, task=task,
    )  # fmt: skip
    assert check.verdict == "repair"
    assert "'name' is a column of customers.csv (customer_id, name)" in check.feedback
    assert "not of orders.csv (order_id, customer_id, amount)" in check.feedback
    unknown = ExecResult(stderr="KeyError: 'zzz'\n", exit_code=1)
    check = check_program(
        unknown, Changes(), files, TaskPlan.of(task, files), root=tmp_path,
        network_disabled=True, task=task,
    )  # fmt: skip
    assert "is a column of" not in check.feedback


def test_an_output_csv_must_carry_the_header_the_task_names(tmp_path: Path) -> None:
    from workbench.engine.agent.files_view import Changes
    from workbench.engine.agent.verify import check_program
    from workbench.engine.sandbox import ExecResult

    task = "users.json holds a list of users. Write users.csv with the columns id,name,email."
    plan = TaskPlan.of(task, {})
    assert plan.headers == {"users.csv": ["id", "name", "email"]}
    (tmp_path / "users.csv").write_text("1,Ada,ada@example.org\n")
    ok = ExecResult(exit_code=0)
    files = snapshot(tmp_path)
    check = check_program(ok, Changes(created=("users.csv",)), files, plan, root=tmp_path,
                          network_disabled=True)  # fmt: skip
    assert check.verdict == "repair"
    assert "users.csv must start with the header line id,name,email" in check.feedback
    assert "'1,Ada,ada@example.org'" in check.feedback
    (tmp_path / "users.csv").write_text("id;Name;email\n1;Ada;ada@example.org\n")  # a skill's ;
    check = check_program(ok, Changes(created=("users.csv",)), snapshot(tmp_path), plan,
                          root=tmp_path, network_disabled=True)  # fmt: skip
    assert check.verdict == "done"
    semi = TaskPlan.of("write squares.csv with the columns n,square for n from 1 to 5.", {})
    assert semi.headers == {"squares.csv": ["n", "square"]}
    assert TaskPlan.of("Write total.txt with the sum.", {}).headers == {}


def test_an_answer_that_repeats_the_instruction_loses_those_sentences() -> None:
    from workbench.engine.agent.answer_checks import without_echo
    from workbench.engine.agent.prompt import FINAL_ANSWER

    instruction = FINAL_ANSWER.format(report="")
    echoed = (
        "The task is done. Now answer the user's request in one or two plain sentences: "
        "state the result itself (the facts or numbers asked for, the files written). "
        "users.csv holds 2 users."
    )
    assert without_echo(echoed, instruction) == "users.csv holds 2 users."
    assert without_echo("Done. The total is 30.", instruction) == "Done. The total is 30."
    assert without_echo("The task is done.", instruction) == ""
    assert without_echo("No code.", instruction) == ""
    assert without_echo("Done.", instruction) == "Done."


def test_a_skill_the_task_names_is_repeated_after_the_listing() -> None:
    from workbench.engine.agent.prompt import code_prompt, named_skills

    body = "---\nname: semicolon-csv\ndescription: d\n---\n# Semicolon CSV\nUse ; always."
    named = named_skills({"semicolon-csv": body, "other": "x"}, "Following the semicolon-csv "
                         "skill, write squares.csv")  # fmt: skip
    assert (
        named
        == "The task names the skill 'semicolon-csv'. Follow it:\n# Semicolon CSV\nUse ; always."
    )
    assert named_skills({"money-format": "Two decimals."}, "Use the money format skill") != ""
    assert named_skills({"money-format": "Two decimals."}, "Total the bill") == ""
    text = code_prompt("Files:\n- a.csv", named_skills=named)
    assert text.endswith(named) and text.index("Files:") < text.index(named)


def test_an_output_sorted_as_text_is_sent_back(tmp_path: Path) -> None:
    from workbench.engine.agent.files_view import Changes
    from workbench.engine.agent.verify import check_program
    from workbench.engine.sandbox import ExecResult

    task = "Sort the rows of people.csv by age, youngest first, and write them to sorted.csv."
    plan = TaskPlan.of(task, {})
    assert plan.sort_by == ("age", False)
    assert TaskPlan.of("sort scores.csv by score, highest first into top.csv", {}).sort_by == (
        "score", True)  # fmt: skip
    (tmp_path / "sorted.csv").write_text("name,age\nBen,17\nAna,34\nDora,8\n")
    ok = ExecResult(exit_code=0)
    check = check_program(ok, Changes(created=("sorted.csv",)), snapshot(tmp_path), plan,
                          root=tmp_path, network_disabled=True)  # fmt: skip
    assert check.verdict == "repair"
    assert "sorted.csv is not sorted by age as numbers, smallest first" in check.feedback
    (tmp_path / "sorted.csv").write_text("name,age\nDora,8\nBen,17\nAna,34\n")
    check = check_program(ok, Changes(created=("sorted.csv",)), snapshot(tmp_path), plan,
                          root=tmp_path, network_disabled=True)  # fmt: skip
    assert check.verdict == "done"
    (tmp_path / "sorted.csv").write_text("name,age\nBo,x\nAl,y\n")  # not numbers: not judged
    check = check_program(ok, Changes(created=("sorted.csv",)), snapshot(tmp_path), plan,
                          root=tmp_path, network_disabled=True)  # fmt: skip
    assert check.verdict == "done"
