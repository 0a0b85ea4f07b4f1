"""Documents → passages small enough for a small model, keeping where each came from.

A ``Document`` is a list of ``Page`` texts (one page for text files; one per PDF page). Each
page is cut into ``Chunk``s of whole lines, about ``target_words`` words each, so a citation can
name the page and the lines it points at. A line longer than the target is cut at word
boundaries (its chunk still names that one line).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TARGET_WORDS = 80
MAX_WORDS = 140


@dataclass(frozen=True)
class Page:
    """The text of one page (``number`` is 1-based; None for documents without pages)."""

    text: str
    number: int | None = None


@dataclass
class Document:
    """A source the research loop may cite.

    Attributes:
        name: what the report calls it (a workspace path, a file's display name, a URL).
        uri: where it lives: ``file:``-style workspace path, ``files/ID`` or an ``http(s)`` URL.
        kind: ``file`` (environment or folder), ``upload`` (Files API) or ``url``.
        pages: its text, page by page.
        title: a page title (URLs only).
    """

    name: str
    uri: str
    kind: str
    pages: list[Page] = field(default_factory=list)
    title: str = ""


@dataclass(frozen=True)
class Chunk:
    """One passage: its document, page and 1-based inclusive line range."""

    doc: int
    text: str
    page: int | None
    line_start: int
    line_end: int


def _split_long(line: str, limit: int) -> list[str]:
    words = line.split()
    return [" ".join(words[i : i + limit]) for i in range(0, len(words), limit)] or [""]


def chunk_page(doc: int, page: Page, target_words: int = TARGET_WORDS) -> list[Chunk]:
    """The passages of one page: whole lines, about ``target_words`` words each; a blank
    line ends a passage early once it holds half the target (paragraphs stay together)."""
    chunks: list[Chunk] = []
    lines: list[str] = []
    words = 0
    start = 1

    def flush(end: int) -> None:
        nonlocal lines, words
        text = "\n".join(lines).strip()
        if text:
            chunks.append(Chunk(doc, text, page.number, start, end))
        lines, words = [], 0

    for number, raw in enumerate(page.text.splitlines(), start=1):
        line = raw.rstrip()
        if not lines:
            start = number
        if not line.strip():
            if words >= target_words // 2:
                flush(number - 1)
            elif lines:
                lines.append("")
            continue
        count = len(line.split())
        if count > MAX_WORDS:
            if lines:
                flush(number - 1)
            for piece in _split_long(line, target_words):
                chunks.append(Chunk(doc, piece, page.number, number, number))
            continue
        if lines and words + count > target_words:
            flush(number - 1)
            start = number
        lines.append(line)
        words += count
    if lines:
        flush(len(page.text.splitlines()))
    return chunks


def chunk_document(doc: int, document: Document, target_words: int = TARGET_WORDS) -> list[Chunk]:
    """Every passage of a document, page by page."""
    out: list[Chunk] = []
    for page in document.pages:
        out.extend(chunk_page(doc, page, target_words))
    return out
