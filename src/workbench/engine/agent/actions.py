"""What a model turn asks for: a program to run, or an answer.

The small coder models this engine runs write whole programs far better than they plan JSON
tool calls, so in the code-action loop the action is a fenced block in plain text (no
grammar, no JSON wrapper: both measurably hurt models of this size). ``find_program`` takes
the first ``python`` / ``bash`` block of a turn; ``program_closed`` tells the loop, while the
turn streams, that a block has closed, so the rest of the generation (explanations of the
program the model just wrote) is never paid for.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_LANGS = {
    "python": "python",
    "python3": "python",
    "py": "python",
    "bash": "bash",
    "sh": "bash",
    "shell": "bash",
    "": "python",
}
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n", re.MULTILINE)
_CLOSE = re.compile(r"^[ \t]*```[ \t]*$", re.MULTILINE)


_FILE_LINE = re.compile(r"^\s*(?:#|//)\s*file:\s*([\w./-]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Program:
    """A program the model wrote: its language, code, and the prose around it.

    ``target`` is set when the block is a whole file rather than a program (its first line
    is ``# file: NAME``): the harness writes ``code`` to that file instead of running it —
    small models fix a bug far better by writing the fixed file than by writing a program
    that writes it.
    """

    language: str
    code: str
    before: str
    closed: bool
    target: str | None = None


def _looks_like_python(code: str) -> bool:
    return bool(re.search(r"^\s*(import |from |def |with |print\(|for |open\()", code, re.M))


def find_program(text: str) -> Program | None:
    """The first runnable fenced block of ``text`` (an unclosed last block counts too)."""
    for match in _FENCE.finditer(text):
        lang = match.group(1).lower()
        if lang not in _LANGS and not _FILE_LINE.match(text[match.end() :].split("\n", 1)[0]):
            continue  # ```text, ```json, ```csv: data shown to the user, not a program
        lang = lang if lang in _LANGS else ""
        start = match.end()
        close = _CLOSE.search(text, start)
        code = text[start : close.start()] if close else text[start:]
        if not code.strip():
            continue
        language = _LANGS[lang]
        first, _, rest = code.partition("\n")
        target = _FILE_LINE.match(first)
        if target is not None:
            body = rest.rstrip() + "\n"
            return Program(language, body, text[: match.start()].strip(), bool(close),
                           target.group(1).lstrip("./") or None)  # fmt: skip
        if lang == "" and not _looks_like_python(code):
            continue
        return Program(language, code.rstrip() + "\n", text[: match.start()].strip(), bool(close))
    return None


def strip_code(text: str) -> str:
    """``text`` without fenced blocks (what is left of an answer that also wrote code)."""
    out, pos = [], 0
    for match in _FENCE.finditer(text):
        if match.start() < pos:
            continue
        out.append(text[pos : match.start()])
        close = _CLOSE.search(text, match.end())
        pos = close.end() if close else len(text)
    out.append(text[pos:])
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()


def program_closed(text: str) -> bool:
    """Whether ``text`` (a turn so far) holds a complete runnable block."""
    found = find_program(text)
    return found is not None and found.closed


def is_misplaced_program(program: Program, existing: Collection[str]) -> bool:
    """A ``# file:`` block that is really a program: Python code aimed at a file that is not
    Python (``# file: errors.txt`` over ``import re …``; the 0.5B model once overwrote its
    input ``words.txt`` this way). Such a block is run, never written."""
    target = program.target
    if target is None or target.endswith((".py", ".pyw")):
        return False
    return _looks_like_python(program.code)


_EDITS_CODE = re.compile(r"\b(fix|bug|bugs|refactor|patch|edit the code|test\w*\.py)\b", re.I)


def wants_file_blocks(task: str) -> bool:
    """Whether the task is about changing source files, where a whole-file block helps (for
    data tasks the rule only confuses small models, measured in docs/performance.md)."""
    return bool(_EDITS_CODE.search(task))


def fenced(program: Program) -> str:
    """A program as the model wrote it (a fenced block), for the conversation."""
    head = f"# file: {program.target}\n" if program.target else ""
    return f"```{program.language}\n{head}{program.code.rstrip()}\n```"
