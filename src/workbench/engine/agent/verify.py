"""The harness's own checks of the agent's programs: before the first one, and after each.

The model never decides alone that the task is done. After a program runs, ``check_program``
looks at what really happened — exit status, the files the task asks for (present, not
empty), the test the task says must pass — and returns either success, a problem the model
can repair (with the exact feedback it gets), or a reason the task *cannot* be done here (a
file the task names that does not exist, the network the environment has disabled), which
ends the run ``incomplete`` with an answer that says so. The final answer's own checks
(files it claims, numbers it invents) are in ``answer_checks``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from workbench.engine.sandbox import ExecResult

from .files_view import Changes, Snapshot, csv_header
from .task import TaskPlan, locate

Verdict = Literal["done", "repair", "impossible"]

_MISSING_FILE = re.compile(
    r"(?:FileNotFoundError|No such file or directory)[^\n]*?['\"]([^'\"\n]+)['\"]"
)
_NETWORK = re.compile(
    r"URLError|gaierror|Temporary failure in name resolution|Name or service not known|"
    r"Network is unreachable|Connection refused|nodename nor servname|"
    r"ConnectionError|NewConnectionError|Could not resolve host|getaddrinfo failed",
    re.IGNORECASE,
)
_KEY_ERROR = re.compile(r"KeyError: ['\"]([^'\"\n]+)['\"]")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"unsupported operand type\(s\) for [^:]+: '(int|float)' and 'str'|"
                r"can only concatenate str|must be real number, not str|"
                r"not supported between instances of 'str' and '(int|float)'|"
                r"unsupported operand type\(s\) for [^:]+: 'str' and '(int|float)'"),
     "Values read from a file are strings: convert them with float() or int() before "
     "arithmetic or comparisons."),
    (re.compile(r"invalid literal for int\(\) with base 10: '[A-Za-z_ ]+'|"
                r"could not convert string to float: '[A-Za-z_ ]+'"),
     "The first line of a CSV file is its header, not data: skip it, or read the rows with "
     "csv.DictReader and use the column names."),
    (re.compile(r"dict contains fields not in fieldnames|Expecting value: line 1|"
                r"'list' object has no attribute 'keys'"),
     "Read .json files with json.load and .csv files with the csv module."),
    (re.compile(r"SyntaxError|IndentationError"),
     "The program does not compile: write it again with one statement per line."),
    (re.compile(r"NameError: name '(\w+)' is not defined"),
     "A name is used before it is defined: import or define it first."),
    (re.compile(r"JSONDecodeError"),
     "The text is not valid JSON: check what the file really holds (it is listed above)."),
    (re.compile(r"DictWriter.__init__\(\) missing 1 required positional argument"),
     "csv.DictWriter needs the column names: csv.DictWriter(f, fieldnames=[...]), then "
     "writer.writeheader() and writer.writerows(rows)."),
    (re.compile(r"IndexError: list index out of range"),
     "A list is shorter than the program expects (an empty line, or the header row?)."),
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    """The harness's verdict on one program (or answer) and what to tell the model."""

    verdict: Verdict
    feedback: str = ""
    reason: str = ""
    problem: str = ""


def _tail(text: str, limit: int = 1500) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def exec_report(
    result: ExecResult, changes: Changes, after: Snapshot, root: Path | None = None
) -> str:
    """The program's outcome as the model reads it: status, output tails, changed files."""
    if result.refused:
        return f"The program was not run: {result.refused}"
    if result.timed_out:
        status = f"it was stopped after {result.duration_s:.0f} s (time limit)"
    elif result.exit_code == 0:
        status = "exit status 0 (success)"
    else:
        status = f"exit status {result.exit_code} (failure)"
    parts = [f"The program ran: {status}."]
    if result.stdout.strip():
        parts.append(f"Its output:\n```\n{_tail(result.stdout)}\n```")
    else:
        parts.append("It printed nothing.")
    if result.stderr.strip():
        parts.append(f"Errors:\n```\n{_tail(result.stderr)}\n```")
    parts.append("Files: " + changes.describe(after).replace("\n", "; ") + ".")
    for path in changes.touched[:4]:
        text = small_text(root, path) if root is not None else None
        if text is not None:
            parts.append(f"{path} now holds:\n```\n{text}\n```")
    return "\n".join(parts)


SMALL_FILE = 400


def small_text(root: Path, path: str, limit: int = SMALL_FILE) -> str | None:
    """The text of a short output file (so the final answer can quote it), else None."""
    try:
        data = (root / path).read_bytes()[: limit + 1]
    except OSError:
        return None
    if len(data) > limit or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


def _impossible_file(missing: str, plan: TaskPlan, files: Snapshot) -> str | None:
    """Why a missing file makes the task impossible, or None when it is the program's bug."""
    base = missing.rsplit("/", 1)[-1]
    if locate(base, files) is not None or any(o.endswith(base) for o in plan.outputs):
        return None  # the file exists elsewhere, or is the program's own output: a wrong path
    named = [n for n in plan.inputs if n.rsplit("/", 1)[-1] == base]
    if named and plan.inputs[named[0]] is None:
        return f"the file {named[0]} does not exist in the working folder"
    return None


def _csv_headers(root: Path, files: Snapshot) -> dict[str, list[str]]:
    """The header line of every CSV file in the workspace, as columns."""
    out: dict[str, list[str]] = {}
    for path in files:
        header = csv_header(root, path)
        if header is not None:
            sep = "\t" if path.lower().endswith(".tsv") else ("," if "," in header else ";")
            out[path] = [h.strip().strip('"') for h in header.split(sep)]
    return out


def _missing_column(key: str, task: str, root: Path, files: Snapshot) -> str | None:
    """Why a ``KeyError`` makes the task impossible: it names a column no CSV file has."""
    headers = _csv_headers(root, files)
    if not headers or not re.search(rf"\b{re.escape(key)}\b", task, re.IGNORECASE):
        return None
    if any(key.lower() == h.lower() for cols in headers.values() for h in cols):
        return None
    shown = "; ".join(f"{p} has {', '.join(c)}" for p, c in list(headers.items())[:3])
    return f"there is no column named {key!r} ({shown})"


def _wrong_header(root: Path, out: str, columns: list[str], files: Snapshot) -> str | None:
    """A problem when an output CSV does not start with the header the task names (small
    models write the rows and forget the header line)."""
    path = out if out in files else locate(out, files)
    if path is None or not files[path].size:
        return None  # reported as missing or empty already
    first = csv_header(root, path) or ""
    found = [c.strip().strip('"').lower() for c in re.split(r"[,;\t]", first)]
    if found == [c.lower() for c in columns]:
        return None
    return (
        f"{path} must start with the header line {','.join(columns)} "
        f"(its first line is {first[:80]!r})"
    )


def _unsorted(root: Path, out: str, sort_by: tuple[str, bool], files: Snapshot) -> str | None:
    """A problem when an output CSV is not sorted by the numeric column the task sorts by
    (small models sort numbers as text: "8" after "52")."""
    column, descending = sort_by
    if not out.lower().endswith(".csv") or out not in files:
        return None
    try:
        with (root / out).open(encoding="utf-8", errors="replace", newline="") as handle:
            sample = handle.read(65536)
    except OSError:
        return None
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.DictReader(io.StringIO(sample), delimiter=delimiter))
    key = next(
        (k for k in (rows[0] if rows else {}) if k and k.strip().lower() == column.lower()), None
    )
    if key is None:
        return None
    try:
        values = [float(str(r[key]).strip()) for r in rows]
    except ValueError:
        return None  # not numbers: text order is the task's order
    if values == sorted(values, reverse=descending):
        return None
    order = "largest" if descending else "smallest"
    shown = ", ".join(str(r[key]).strip() for r in rows[:8])
    return (
        f"{out} is not sorted by {column} as numbers, {order} first (its {column} values: "
        f"{shown}): convert them with int() or float() in the sort key"
    )


def _column_hint(key: str, root: Path, files: Snapshot) -> str:
    """Where a column a ``KeyError`` names really is: small models read a column from the
    wrong file of a join (``order['name']`` when name is in customers.csv)."""
    headers = _csv_headers(root, files)
    owners = [p for p, cols in headers.items() if key in cols]
    if not owners:
        return ""
    others = [p for p in headers if p not in owners][:3]
    where = ", ".join(f"{p} ({', '.join(headers[p])})" for p in owners[:3])
    hint = f" {key!r} is a column of {where}"
    if others:
        hint += "; not of " + ", ".join(f"{p} ({', '.join(headers[p])})" for p in others)
    return hint + ": read it from the rows of that file."


def impossible_upfront(
    plan: TaskPlan, root: Path, files: Snapshot, *, network_disabled: bool
) -> str | None:
    """Why the task cannot be done here, known before any program runs (a program would only
    fake it): it must fetch a web address with the network disabled, or it reads a column
    that no CSV file of the workspace has."""
    if plan.needs_network and network_disabled:
        return f"it needs {plan.urls[0]}, and the network is disabled in this environment"
    headers = _csv_headers(root, files)
    if not headers:
        return None
    known = {h.lower() for cols in headers.values() for h in cols}
    for column in plan.columns:
        if column.lower() not in known:
            shown = "; ".join(f"{p} has {', '.join(c)}" for p, c in list(headers.items())[:3])
            return f"there is no column named {column!r} ({shown})"
    return None


def check_program(
    result: ExecResult,
    changes: Changes,
    after: Snapshot,
    plan: TaskPlan,
    *,
    root: Path,
    network_disabled: bool,
    test_result: ExecResult | None = None,
    task: str = "",
) -> Check:
    """The verdict on one program run (see the module doc)."""
    report = exec_report(result, changes, after, root)
    errors = result.stderr + "\n" + result.stdout
    if not result.ok:
        missing = _MISSING_FILE.search(errors)
        if missing:
            why = _impossible_file(missing.group(1), plan, after)
            if why:
                return Check("impossible", report, why)
            near = locate(missing.group(1).rsplit("/", 1)[-1], after)
            hint = f" The file is at {near}." if near else ""
            problem = f"The file {missing.group(1)!r} does not exist.{hint}"
            return Check(
                "repair",
                f"{report}\n{problem} Fix the program and write the whole corrected program.",
                problem=problem,
            )
        key = _KEY_ERROR.search(errors)
        if key and (why := _missing_column(key.group(1), task, root, after)):
            return Check("impossible", report, why)
        if network_disabled and _NETWORK.search(errors):
            return Check("impossible", report, "the network is disabled in this environment")
        module = _NO_MODULE.search(errors)
        extra = next((" " + hint for rx, hint in _HINTS if rx.search(errors)), "")
        if key and not extra:
            extra = _column_hint(
                key.group(1), root, {p: i for p, i in after.items() if p not in changes.created}
            )  # the failed program's own outputs are undone
        if module:
            extra = (
                f" The module {module.group(1)!r} is not installed: use only Python's "
                "standard library (csv, json, re, collections, statistics, pathlib)."
            )
        return Check(
            "repair",
            f"{report}\nThe program failed.{extra} Fix it and write the whole corrected program.",
            problem=f"The program failed.{extra}",
        )
    if network_disabled and plan.urls and _NETWORK.search(errors):
        return Check("impossible", report, "the network is disabled in this environment")
    problems: list[str] = []
    for out in plan.outputs:
        info = after.get(out)
        if info is None:
            problems.append(f"the task asks for {out}, which does not exist yet")
        elif info.size == 0:
            problems.append(f"{out} is empty")
    for out, columns in plan.headers.items():
        if (wrong := _wrong_header(root, out, columns, after)) is not None:
            problems.append(wrong)
    if plan.sort_by is not None:
        problems += [p for o in plan.outputs if (p := _unsorted(root, o, plan.sort_by, after))]
    if changed_tests := [t for t in plan.tests if t in changes.touched]:
        problems.append(f"{', '.join(changed_tests)} must not be changed: fix the code it tests")
    test_output = ""
    if test_result is not None and not test_result.ok:
        problems.append("the test still fails")
        output = _tail(test_result.stdout + test_result.stderr)
        test_output = f"\nThe test's output:\n```\n{output}\n```"
    if problems:
        problem = "The task is not done: " + "; ".join(problems) + "."
        return Check(
            "repair",
            f"{report}{test_output}\n{problem} Write the whole corrected program.",
            problem=problem,
        )
    return Check("done", report)
