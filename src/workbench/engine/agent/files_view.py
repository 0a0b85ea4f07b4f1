"""What the agent's model is shown of its working folder, and what a program changed.

Small models invent paths (``./demo.txt``, ``data/data.csv``) when they have to guess where
files are, and waste steps listing and reading them. The harness therefore lists every file
of the workspace in the prompt, with its size and, for short text files, its first lines,
so the model writes a program against the real paths and the real columns at once.
``snapshot`` before and after a program gives the files it created, changed or removed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HIDDEN_DIRS = {".agents", ".git", "__pycache__", ".ipynb_checkpoints"}
MAX_FILES = 200
PREVIEW_BYTES = 1200
PREVIEW_LINES = 12
PREVIEW_TOTAL = 6000


@dataclass(frozen=True)
class FileInfo:
    """One file of the workspace (``path`` relative to the root, ``/``-separated)."""

    path: str
    size: int
    mtime_ns: int


Snapshot = dict[str, FileInfo]


def snapshot(root: Path, limit: int = 5000) -> Snapshot:
    """Every regular file under ``root`` (hidden tool folders skipped, symlinks not followed)."""
    out: Snapshot = {}
    for base, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in HIDDEN_DIRS)
        for name in sorted(files):
            full = Path(base) / name
            try:
                st = full.lstat()
            except OSError:
                continue
            if not full.is_file() or full.is_symlink():
                continue
            rel = full.relative_to(root).as_posix()
            out[rel] = FileInfo(rel, st.st_size, st.st_mtime_ns)
            if len(out) >= limit:
                return out
    return out


@dataclass(frozen=True)
class Changes:
    """Files a program created, modified or deleted."""

    created: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def touched(self) -> tuple[str, ...]:
        return self.created + self.modified

    def describe(self, after: Snapshot) -> str:
        """One line per change, as the model and the step's thought read it."""
        lines = [f"created {p} ({after[p].size} bytes)" for p in self.created]
        lines += [f"changed {p} ({after[p].size} bytes)" for p in self.modified]
        lines += [f"deleted {p}" for p in self.deleted]
        return "\n".join(lines) if lines else "no files were created or changed"


def diff(before: Snapshot, after: Snapshot) -> Changes:
    """What changed between two snapshots."""
    created = tuple(p for p in after if p not in before)
    modified = tuple(
        p
        for p in after
        if p in before
        and (after[p].size != before[p].size or after[p].mtime_ns != before[p].mtime_ns)
    )
    deleted = tuple(p for p in before if p not in after)
    return Changes(created, modified, deleted)


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 4  # a multi-byte character cut by the preview limit
    return True


def preview(root: Path, info: FileInfo) -> str | None:
    """The first lines of a short text file, or None for binary or unreadable files."""
    try:
        with (root / info.path).open("rb") as handle:
            data = handle.read(PREVIEW_BYTES)
    except OSError:
        return None
    if not _is_text(data):
        return None
    text = data.decode("utf-8", "ignore")
    lines = text.splitlines()
    shown = lines[:PREVIEW_LINES]
    more = len(lines) > PREVIEW_LINES or info.size > PREVIEW_BYTES
    body = "\n".join(shown)
    if more:
        body += "\n…"
    return body


def csv_header(root: Path, path: str) -> str | None:
    """The first line of a CSV/TSV file of the workspace (None for other or unreadable files)."""
    if not path.lower().endswith((".csv", ".tsv")):
        return None
    try:
        with (root / path).open("r", encoding="utf-8", errors="replace") as handle:
            return handle.readline(65536).rstrip("\r\n")
    except OSError:
        return None


def _kind(root: Path, info: FileInfo) -> str:
    """How to read a data file, for the listing: small models read JSON with csv otherwise."""
    if info.path.lower().endswith(".json"):
        return "; JSON: read it with json.load"
    header = csv_header(root, info.path) if info.size else None
    if header:
        return f"; CSV with the header line {header.strip()!r}: read it with csv.DictReader"
    return ""


def listing(root: Path, files: Snapshot) -> str:
    """The prompt's description of the workspace: paths, sizes, previews of text files."""
    if not files:
        return "The working folder is empty."
    lines = ["Files in the working folder (paths are relative to it):"]
    budget = PREVIEW_TOTAL
    for i, info in enumerate(files.values()):
        if i >= MAX_FILES:
            lines.append(f"… and {len(files) - MAX_FILES} more files")
            break
        lines.append(f"- {info.path} ({info.size} bytes{_kind(root, info)})")
        if budget <= 0 or info.size == 0:
            continue
        shown = preview(root, info)
        if shown is None:
            continue
        budget -= len(shown)
        fence = "```"
        lines.append(f"  first lines of {info.path}:\n{fence}\n{shown}\n{fence}")
    return "\n".join(lines)
