"""A second opinion on a program that passed the checks: execution-based agreement.

The harness can check that a program ran and wrote the files the task names, not that
their *content* is right — the small model's remaining failures are programs that run and
write a wrong total, a dropped header, a join that lost rows. Sampled programs that
**produce the same result** are far more often right than a single greedy one (the idea
behind CodeT / MBR-exec: agreement of executions, not of texts). So once a program passes,
up to ``n`` more are sampled from the same conversation and run on **copies** of the
workspace as it was before it; the first one that agrees confirms the result, and only
when two samples agree with each other and not with the first program is theirs run
instead. The workspace itself is touched only by the program that is kept.

Measured on the task suite (docs/performance.md) before it stayed on by default.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.sandbox import ExecResult

from .files_view import Changes, Snapshot, diff, snapshot
from .task import TaskPlan

MAX_COPY_BYTES = 20 * 1024 * 1024  # larger workspaces are not copied (no second opinion)
MAX_COPY_FILES = 400


@dataclass(frozen=True)
class Result:
    """What a program produced, reduced to what the task asks for."""

    key: str
    ok: bool


def _norm(data: bytes) -> bytes:
    """Content compared without line-ending or trailing-space differences."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in text.strip().split("\n")).encode()


def result_of(
    root: Path, result: ExecResult, changes: Changes, after: Snapshot, plan: TaskPlan
) -> Result:
    """The result's identity: the task's output files (else every file the program wrote)
    and, when the task names no output file, what it printed."""
    if not result.ok:
        return Result("failed", False)
    names = list(plan.outputs) or sorted(changes.touched)
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0")
        try:
            digest.update(_norm((root / name).read_bytes()))
        except OSError:
            return Result("missing " + name, False)
        digest.update(b"\0")
    if not plan.outputs:
        digest.update(b"stdout\0" + _norm(result.stdout.encode()))
        digest.update(("deleted\0" + "\0".join(sorted(changes.deleted))).encode())
    return Result(digest.hexdigest(), True)


def copyable(files: Snapshot) -> bool:
    """Whether the workspace is small enough to copy for a second opinion."""
    return len(files) <= MAX_COPY_FILES and sum(f.size for f in files.values()) <= MAX_COPY_BYTES


def copy_tree(root: Path, dest: Path) -> None:
    """The workspace (hidden folders too: skills live there), without following links."""
    shutil.copytree(root, dest, symlinks=True, dirs_exist_ok=True)


@contextmanager
def scratch_copy(source: Path) -> Iterator[Path]:
    """A throwaway copy of ``source``, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="wb-vote-"))
    try:
        dest = base / "w"
        copy_tree(source, dest)
        yield dest
    finally:
        shutil.rmtree(base, ignore_errors=True)


def restore(root: Path, pristine: Path, changes: Changes) -> None:
    """Undo a program's changes in ``root`` from the copy taken before it ran."""
    for name in changes.created:
        (root / name).unlink(missing_ok=True)
    for name in changes.modified + changes.deleted:
        src = pristine / name
        if src.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name)
            os.utime(root / name)  # a fresh mtime: the next snapshot sees it as changed


def changes_in(root: Path, before: Snapshot) -> tuple[Changes, Snapshot]:
    """What a program changed in ``root`` since ``before``, and the files now there."""
    after = snapshot(root)
    return diff(before, after), after


def winner(first: Result, samples: list[Result]) -> int | None:
    """Index of the sample to adopt instead of the first program, or None to keep it.

    A sample that agrees with the first confirms it; two samples that agree with each
    other and not with it outvote it; anything else keeps the first (it passed the checks).
    """
    good = [(i, s) for i, s in enumerate(samples) if s.ok]
    if any(s.key == first.key for _, s in good):
        return None
    for i, s in good:
        if sum(1 for _, t in good if t.key == s.key) >= 2:
            return i
    return None
