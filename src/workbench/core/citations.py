"""Citations of an answer: numbered, linked in the text, listed as references.

Qt-free. A text block's ``annotations`` (``file_citation`` / ``url_citation``, protocol.md
§4.3) cover spans given as **byte** offsets into the UTF-8 text, end exclusive. Each distinct
source (file, page and lines — or URL) gets one number: the ``reference`` the server put in
``custom_metadata`` when it gave one (the local engine does), else the order of first use.
The local engine already writes ``[n]`` after each cited sentence; a server that does not
gets the markers inserted at the span's end, so the transcript and the export always show
numbers the reader can follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MARKERS = re.compile(r"[ \t]*((?:\[\d+\][ \t]*)+)")
_MARKER = re.compile(r"\[(\d+)\]")
_REFERENCE_LINE = re.compile(r"^(\[\d+\] .*?)[ \t]*$", re.M)
ENV_URI = re.compile(r"(?:^|/)environments/(?P<env>[^/]+)/files/(?P<path>.+)$")


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer."""

    number: int
    kind: str
    """``"file"`` or ``"url"``."""
    uri: str
    """The file's ``document_uri`` (``environments/…/files/…``, ``files/ID``, ``file://…``)
    or the web page's URL."""
    file_name: str = ""
    title: str = ""
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    passage: str = ""

    @property
    def where(self) -> str:
        """``page 2, lines 3–9`` (or what of it is known)."""
        parts = []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.line_start is not None:
            end = self.line_end if self.line_end is not None else self.line_start
            first = self.line_start
            parts.append(f"line {first}" if end == first else f"lines {first}–{end}")
        return ", ".join(parts)

    @property
    def label(self) -> str:
        """What the reference list shows: ``notes/a.md, page 2, lines 3–9`` or the page title."""
        if self.kind == "url":
            return self.title or self.uri
        name = self.file_name or self.uri.rsplit("/", 1)[-1] or self.uri
        return ", ".join(x for x in (name, self.where) if x)

    def sandbox_file(self) -> tuple[str, str] | None:
        """``(environment id, path)`` when the cited file is in a sandbox, else None."""
        match = ENV_URI.search(self.uri) if self.kind == "file" else None
        return (match.group("env"), match.group("path")) if match else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _key(note: dict[str, Any]) -> tuple[Any, ...]:
    meta = note.get("custom_metadata") or {}
    if note.get("type") == "url_citation":
        return ("url", note.get("url"))
    return (
        "file",
        note.get("document_uri") or note.get("file_name"),
        note.get("page_number"),
        meta.get("line_start"),
        meta.get("line_end"),
    )


def _citation(number: int, note: dict[str, Any]) -> Citation:
    if note.get("type") == "url_citation":
        title = str(note.get("title") or "")
        return Citation(number, "url", str(note.get("url") or ""), title=title)
    raw_meta = note.get("custom_metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    return Citation(
        number,
        "file",
        str(note.get("document_uri") or ""),
        file_name=str(note.get("file_name") or ""),
        page=_int(note.get("page_number")),
        line_start=_int(meta.get("line_start")),
        line_end=_int(meta.get("line_end")),
        passage=str(meta.get("passage") or ""),
    )


def _notes(annotations: Any) -> list[dict[str, Any]]:
    return [
        a
        for a in annotations or []
        if isinstance(a, dict) and a.get("type") in ("file_citation", "url_citation")
    ]


def number_citations(annotations: Any) -> tuple[list[Citation], list[tuple[int, int]]]:
    """The distinct citations in number order, and ``(end byte, number)`` per annotation.

    A ``reference`` number the server gave is kept; a source without one (the local
    engine's URL citations) takes the smallest number no other source has, in order of first
    use — the order the engine numbers them in, so its ``[n]`` markers still match.
    """
    notes = _notes(annotations)
    given = [_int((n.get("custom_metadata") or {}).get("reference")) for n in notes]
    taken = {g for g in given if g is not None and g > 0}
    numbers: dict[tuple[Any, ...], int] = {}
    for note, ref in zip(notes, given, strict=True):
        if ref is not None and ref > 0:
            numbers.setdefault(_key(note), ref)
    out: dict[int, Citation] = {}
    ends: list[tuple[int, int]] = []
    for note, ref in zip(notes, given, strict=True):
        key = _key(note)
        number = ref if ref is not None and ref > 0 else numbers.get(key)
        if number is None:
            number = next(n for n in range(1, len(notes) + len(taken) + 2) if n not in taken)
            taken.add(number)
            numbers[key] = number
        out.setdefault(number, _citation(number, note))
        end = _int(note.get("end_index"))
        if end is not None:
            ends.append((end, number))
    return [out[n] for n in sorted(out)], ends


def _char_offset(raw: bytes, byte_offset: int) -> int:
    byte_offset = max(0, min(len(raw), byte_offset))
    return len(raw[:byte_offset].decode("utf-8", "ignore"))


def with_markers(text: str, annotations: Any) -> tuple[str, list[Citation]]:
    """``text`` with a ``[n]`` after every cited span that has none yet, and the citations."""
    cites, ends = number_citations(annotations)
    if not cites:
        return text, []
    raw = text.encode("utf-8")
    wanted: dict[int, list[int]] = {}
    for end, number in ends:
        at = _char_offset(raw, end)
        if number not in wanted.setdefault(at, []):
            wanted[at].append(number)
    for at in sorted(wanted, reverse=True):
        follow = _MARKERS.match(text, at)
        present = {int(n) for n in _MARKER.findall(follow.group(1))} if follow else set()
        missing = [n for n in wanted[at] if n not in present]
        if missing:
            text = text[:at] + " " + "".join(f"[{n}]" for n in missing) + text[at:]
    return text, cites


def _hard_breaks(text: str) -> str:
    """Reference lines (``[n] source``) keep their own lines in Markdown (a hard break)."""
    return _REFERENCE_LINE.sub(lambda m: m.group(1) + "  ", text)


def linked_markdown(text: str, annotations: Any, href: Callable[[Citation], str]) -> str:
    """Markdown whose ``[n]`` citation markers are links (``href(citation)``).

    Only numbers that are citations become links; ``[1971]`` in an answer stays text.
    """
    marked, cites = with_markers(text, annotations)
    by_number = {c.number: c for c in cites}
    if not by_number:
        return text
    marked = _hard_breaks(marked)

    def link(match: re.Match[str]) -> str:
        start = match.start()
        if (start and marked[start - 1] in "\\[") or marked.startswith("(", match.end()):
            return match.group(0)
        cite = by_number.get(int(match.group(1)))
        if cite is None:
            return match.group(0)
        title = cite.label.replace('"', "'")
        return f'[\\[{cite.number}\\]]({href(cite)} "{title}")'

    return _MARKER.sub(link, marked)


def _has_reference_list(text: str, cites: list[Citation]) -> bool:
    lines = {line.strip()[: len(str(c.number)) + 2] for line in text.splitlines() for c in cites}
    return all(f"[{c.number}]" in lines for c in cites)


def export_markdown(text: str, annotations: Any) -> str:
    """The answer for a Markdown file: markers in the text, a numbered reference list (kept
    when the server wrote one), and ``[n]: <uri> "label"`` definitions so every number is a
    link in any Markdown viewer."""
    marked, cites = with_markers(text, annotations)
    if not cites:
        return text
    out = _hard_breaks(marked).rstrip("\n")
    if not _has_reference_list(marked, cites):
        out += "\n\n**References**\n\n" + "\n".join(
            f"[{c.number}] {c.label}" + (f" — {c.uri}" if c.kind == "file" and c.uri else "") + "  "
            for c in cites
        )
    definitions = "\n".join(
        f'[{c.number}]: <{c.uri}> "{c.label.replace(chr(34), chr(39))}"' for c in cites if c.uri
    )
    return out + ("\n\n" + definitions if definitions else "") + "\n"


__all__ = [
    "Citation",
    "export_markdown",
    "linked_markdown",
    "number_citations",
    "with_markers",
]
