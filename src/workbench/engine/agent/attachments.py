"""Media sent to an agent: the file itself in the workspace, and words saying where it is.

A model interaction gets derived text for media its model cannot read (``inputs``); an agent
gets that too (its conversation goes through the same ``to_messages``), and more: each image,
audio, video or document block of the new input — inline ``data``, a ``file://`` URI or a
Files API ``files/…`` name — is written into the sandbox under ``attachments/`` so a program
can open it (``pandas.read_excel("attachments/sales.xlsx")``). The model is told the paths
in its task message. A name already taken by other bytes gets a ``-2``, ``-3``… suffix, so a
reused environment never loses a file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..backends.base import Message
from ..inputs import MEDIA_TYPES, block_media
from ..sandbox import files as sfiles

FOLDER = "attachments"
_FALLBACK = re.compile(r"^(?:the )?(image|audio|video|document)(?: (\d+))?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_EXTENSIONS = {
    "audio/wav": ".wav",
    "audio/mp3": ".mp3",
    "audio/mpeg": ".mp3",
    "audio/m4a": ".m4a",
    "video/mov": ".mov",
    "image/jpeg": ".jpg",
    "text/plain": ".txt",
}


@dataclass(frozen=True)
class Placed:
    """One attachment written into the workspace."""

    path: str
    mime_type: str
    size: int


def _file_name(label: str, kind: str, mime: str) -> str:
    """A safe file name for a block's label (its ``name``, upload name or URI file name)."""
    fallback = _FALLBACK.match(label)
    if fallback:
        stem = kind + (f"-{fallback.group(2)}" if fallback.group(2) else "")
    else:
        stem = _UNSAFE.sub("_", Path(label).name).strip(" .") or kind
    if not Path(stem).suffix:
        stem += _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime or "") or ""
    return stem[:200]


def _free_name(root: Path, name: str, data: bytes) -> tuple[str, bool]:
    """``attachments/name``, or a numbered variant when other bytes hold it; whether the
    same bytes are there already."""
    stem, suffix = Path(name).stem, Path(name).suffix
    digest = hashlib.sha256(data).digest()
    for n in range(1, 1000):
        candidate = f"{FOLDER}/{name if n == 1 else f'{stem}-{n}{suffix}'}"
        target = root / candidate
        if not target.exists():
            return candidate, False
        if target.is_file() and hashlib.sha256(target.read_bytes()).digest() == digest:
            return candidate, True
    raise ValueError(f"too many attachments named {name!r}")


def place_media(root: Path, steps: list[dict[str, Any]], where: str = "input") -> list[Placed]:
    """Write the media blocks of the ``user_input`` steps into ``root/attachments``.

    Runs after the conversation was built, so every block was already checked (a bad one
    was a 400 then); call it in a worker thread.
    """
    placed: list[Placed] = []
    for i, step in enumerate(steps):
        if step.get("type") != "user_input":
            continue
        blocks = [b for b in step.get("content") or [] if isinstance(b, dict)]
        counts: dict[str, int] = {}
        media = [b for b in blocks if b.get("type") in MEDIA_TYPES]
        for j, block in enumerate(blocks):
            kind = str(block.get("type"))
            if kind not in MEDIA_TYPES:
                continue
            counts[kind] = counts.get(kind, 0) + 1
            number = counts[kind] if len(media) > 1 else 0
            got = block_media(block, f"{where}[{i}].content[{j}]", kind, number)
            name = _file_name(got.label, kind, got.mime_type)
            rel, present = _free_name(root, name, got.data)
            if not present:
                sfiles.write_bytes(root, rel, got.data, overwrite=False)
            placed.append(Placed(rel, got.mime_type or "application/octet-stream", len(got.data)))
    return placed


def workspace_note(placed: list[Placed]) -> str:
    """What the model is told about the files: their paths, types and sizes."""
    if not placed:
        return ""
    lines = [f"- `{p.path}` ({p.mime_type}, {p.size} bytes)" for p in placed]
    what = "file is" if len(placed) == 1 else "files are"
    return (
        f"The attached {what} saved in the workspace, so a program can open "
        + ("it" if len(placed) == 1 else "them")
        + ":\n"
        + "\n".join(lines)
    )


def with_note(messages: list[Message], note: str) -> list[Message]:
    """``messages`` with ``note`` added to the last user message (the new task)."""
    if not note:
        return messages
    for n in range(len(messages) - 1, -1, -1):
        if messages[n].role == "user":
            text = f"{messages[n].text}\n\n{note}" if messages[n].text else note
            return [*messages[:n], replace(messages[n], text=text), *messages[n + 1 :]]
    return [*messages, Message(role="user", text=note)]
