"""The harness's checks of the agent's final answer, before the run may end with it.

Apart from the program checks (``verify``) because they read only the answer's words and
what the workspace holds, never a program's outcome: files the answer says it wrote that are
not there, numbers it states that appear nowhere in the evidence, a plain "I could not", and
the sentences that only repeat the harness's instruction.
"""

from __future__ import annotations

import re

from .files_view import Snapshot
from .task import locate

INABILITY = re.compile(
    r"\b(cannot|can ?not|can't|could ?not|couldn't|unable|not able|impossible|does not exist|"
    r"doesn't exist|no such|not found|not available|unavailable|disabled|no network|"
    r"not possible|failed|fails|there is no|there are no|does not have|doesn.t have|has no)\b",
    re.IGNORECASE,
)


_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?![\w])")
_FILE_NAME = re.compile(r"[\w./-]*\.[A-Za-z][A-Za-z0-9]{0,7}\b")


def _numbers(text: str) -> set[float]:
    out = set()
    for raw in _NUMBER.findall(_FILE_NAME.sub(" ", text)):
        try:
            out.add(round(float(raw.replace(",", "")), 6))
        except ValueError:
            continue
    return out


def invented_numbers(answer: str, evidence: str) -> list[str]:
    """Numbers an answer states that appear nowhere in the evidence (task, program output,
    files): what a small model makes up when it summarises without looking."""
    known = _numbers(evidence)
    wrong = []
    for raw in _NUMBER.findall(_FILE_NAME.sub(" ", answer)):
        try:
            value = round(float(raw.replace(",", "")), 6)
        except ValueError:
            continue
        if value not in known and raw not in wrong:
            wrong.append(raw)
    return wrong


_CLAIMED = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.[A-Za-z][A-Za-z0-9]{0,5})\b")
_CLAUSE = re.compile(r"[.!?;,:\n](?:\s|$)|\bthen\b")
_PAST_WRITE = re.compile(
    r"\b(wrote|written|saved|created|stored|generated|exported|produced|updated|made)\b", re.I
)


def false_file_claims(answer: str, files: Snapshot) -> list[str]:
    """Files an answer says it wrote (``saved the total to total.txt``) that are not there.

    Only names after a past-tense writing verb in the same clause count: "data.csv does
    not exist", "read notes.txt" or a quoted instruction "Write REPORT.md" claim nothing.
    """
    wrong: list[str] = []
    for match in _CLAIMED.finditer(answer):
        name = match.group(1).rstrip(".")
        if re.fullmatch(r"[\d.]+", name) or name in wrong:
            continue
        clause = _CLAUSE.split(answer[max(0, match.start() - 80) : match.start()])[-1]
        if not _PAST_WRITE.search(clause) or locate(name, files) is not None:
            continue
        wrong.append(name)
    return wrong


def says_cannot(answer: str) -> bool:
    """Whether an answer states plainly that something could not be done."""
    return bool(INABILITY.search(answer))


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def without_echo(answer: str, instruction: str) -> str:
    """The answer without the sentences that repeat the harness's instruction (the 0.5B
    sometimes answers "The task is done. Now answer the user's request in one or two
    plain sentences …")."""
    said = _squash(instruction)
    kept = [
        part
        for part in _SENTENCE.split(answer.strip())
        if len(_squash(part).split()) < 2 or _squash(part).rstrip(".!?") not in said
    ]
    return " ".join(kept).strip()
