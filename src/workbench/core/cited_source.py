"""What a citation points at, as text to show: the cited file (a PDF's cited page) and the
cited lines to highlight.

Qt-free. The files dock shows a sandbox file's bytes (downloaded through
:class:`~workbench.core.sandbox_files.SandboxFiles`) or a local ``file://`` source read here;
a Files API upload or inline data cannot be read back, so the passage the server quoted in the
citation is shown instead. Line numbers are 1-based within the page, as the research engine
counts them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .citations import Citation

MAX_LOCAL_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CitedText:
    """Text to show with the cited lines highlighted (``lines`` 1-based, inclusive)."""

    heading: str
    text: str
    lines: tuple[int, int] | None = None
    note: str = ""
    """Why the whole file is not shown (a passage only, an unreadable PDF page…)."""


def _heading(cite: Citation) -> str:
    return f"[{cite.number}] {cite.label}"


def _passage(cite: Citation, why: str) -> CitedText:
    text = cite.passage or "(the server gave no passage for this citation)"
    return CitedText(_heading(cite), text, (1, len(text.splitlines()) or 1), why)


def _lines(cite: Citation) -> tuple[int, int] | None:
    if cite.line_start is None:
        return None
    return cite.line_start, max(cite.line_start, cite.line_end or cite.line_start)


def from_bytes(cite: Citation, name: str, data: bytes) -> CitedText:
    """The cited file's text (a PDF: the cited page only) and the lines to highlight."""
    if name.lower().endswith(".pdf") or data.startswith(b"%PDF"):
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            pages = PdfReader(io.BytesIO(data)).pages
            number = cite.page or 1
            if not 1 <= number <= len(pages):
                return _passage(cite, f"The PDF has no page {number}; the cited passage:")
            text = pages[number - 1].extract_text() or ""
        except (PyPdfError, KeyError, TypeError, ValueError, OSError) as exc:
            return _passage(cite, f"The PDF could not be read ({exc}); the cited passage:")
        if not text.strip():
            return _passage(cite, f"Page {number} has no text (a scan?); the cited passage:")
        return CitedText(_heading(cite), text, _lines(cite), f"Text of page {number}")
    text = data.decode("utf-8", "replace")
    return CitedText(_heading(cite), text, _lines(cite))


def local_path(cite: Citation) -> Path | None:
    """The local file a ``file://`` citation names, or None."""
    parts = urlsplit(cite.uri)
    return Path(unquote(parts.path)) if parts.scheme == "file" and parts.path else None


def read_local(cite: Citation) -> CitedText:
    """A ``file://`` source read from disk (the local engine read it where it is)."""
    path = local_path(cite)
    if path is None:
        return _passage(cite, "This source cannot be opened here; the cited passage:")
    try:
        if path.stat().st_size > MAX_LOCAL_BYTES:
            return _passage(cite, f"{path.name} is too large to show; the cited passage:")
        data = path.read_bytes()
    except OSError as exc:
        return _passage(cite, f"{path} cannot be read ({exc.strerror}); the cited passage:")
    return from_bytes(cite, path.name, data)


def passage_only(cite: Citation) -> CitedText:
    """For sources the server keeps (Files API uploads, inline data): the quoted passage."""
    return _passage(cite, "The server keeps this file; the passage it cited:")
