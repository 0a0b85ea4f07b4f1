"""Where research material comes from, read into ``Document``s (text, page by page).

* the environment's workspace (its sources, uploads and earlier work), every readable file
  except ``.agents/``, hidden folders and the agent's own ``deep-research/`` output;
* ``document`` blocks of the input: Files API files (``files/ID``), inline ``data``, or a
  ``file://`` URI, which may name a local folder (read like a workspace);
* URLs named in the question, fetched only when ``url_context`` is offered and the
  environment's network rules allow the host (``agent.tools_web.fetch`` applies them to
  every hop); a refused or failed fetch is reported, never guessed.

Formats: plain text and code as they are, PDF page by page through pypdf, docx / xlsx / pptx /
html / epub through the engine's perception converters (Markdown). Anything else is skipped
and named in the run's notes.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..perception import documents as office
from ..perception.errors import MediaError
from .chunking import Document, Page

OUTPUT_DIR = "deep-research"
"""Where the agent writes its report (never read back as a source)."""
MAX_FILES = 500
MAX_FILE_BYTES = 20 * 1024 * 1024
_TEXT = """.txt .md .markdown .rst .csv .tsv .json .jsonl .yaml .yml .toml .ini .cfg .log .py .js
    .ts .java .c .h .cpp .go .rs .rb .sh .sql .xml .tex .org"""
TEXT_SUFFIXES = frozenset(_TEXT.split())
OFFICE_SUFFIXES = {
    ".docx": office.DOCX,
    ".xlsx": office.XLSX,
    ".pptx": office.PPTX,
    ".html": office.HTML,
    ".htm": office.HTML,
    ".epub": office.EPUB,
}
URL = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass
class Gathered:
    """The documents found and what could not be read (said in the report)."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def pdf_pages(data: bytes) -> list[Page]:
    """A PDF's text, one ``Page`` per page (1-based numbers)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [Page(p.extract_text() or "", number=i) for i, p in enumerate(reader.pages, start=1)]


def read_bytes(data: bytes, mime: str, name: str) -> list[Page] | None:
    """The pages of one file's bytes by its MIME type or name; None when not readable.

    Raises:
        MediaError / ValueError: the file claims a type it is not (a damaged PDF or docx).
    """
    suffix = Path(name).suffix.lower()
    if mime == "application/pdf" or suffix == ".pdf":
        from pypdf.errors import PyPdfError

        try:
            return pdf_pages(data)
        except (PyPdfError, KeyError, TypeError, OSError) as exc:
            raise ValueError(f"the PDF could not be read ({exc})") from exc
    office_mime = OFFICE_SUFFIXES.get(suffix) or (mime if office.convertible(mime) else None)
    if office_mime is not None:
        return [Page(office.to_markdown(data, office_mime, name))]
    if mime.startswith("text/") or suffix in TEXT_SUFFIXES or mime == "application/json":
        return [Page(data.decode("utf-8", "replace"))]
    return None


def _skip_dir(rel: str, name: str) -> bool:
    return name.startswith(".") or (rel == "" and name == OUTPUT_DIR) or name == "__pycache__"


def read_folder(root: Path, uri_prefix: str, out: Gathered, *, label_prefix: str = "") -> None:
    """Every readable file under ``root`` (sorted, at most ``MAX_FILES``) into ``out``."""
    count = 0
    for current, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(current, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirs[:] = sorted(d for d in dirs if not _skip_dir(rel_dir, d))
        for name in sorted(files):
            if name.startswith("."):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            path = Path(current) / name
            if count >= MAX_FILES:
                out.skipped.append(f"{label_prefix}{rel}: more than {MAX_FILES} files")
                return
            try:
                if path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
                    out.skipped.append(f"{label_prefix}{rel}: a link or larger than 20 MiB")
                    continue
                pages = read_bytes(path.read_bytes(), "", name)
            except (MediaError, ValueError, OSError) as exc:
                out.skipped.append(f"{label_prefix}{rel}: {exc}")
                continue
            if pages is None:
                out.skipped.append(f"{label_prefix}{rel}: not a text, PDF or office document")
                continue
            count += 1
            out.documents.append(Document(f"{label_prefix}{rel}", uri_prefix + rel, "file", pages))


def input_documents(steps: list[dict[str, Any]], out: Gathered) -> None:
    """The ``document`` blocks of the conversation's user turns (Files API, inline, file://).

    Raises:
        ApiError: a block names a file that does not exist or cannot be used (400/404).
    """
    from ..inputs import block_media

    number = 0
    for i, step in enumerate(steps):
        if step.get("type") != "user_input":
            continue
        for j, block in enumerate(step.get("content") or []):
            if block.get("type") != "document":
                continue
            number += 1
            where = f"input[{i}].content[{j}]"
            uri = str(block.get("uri") or "")
            parts = urlsplit(uri)
            if parts.scheme == "file" and Path(unquote(parts.path)).is_dir():
                folder = Path(unquote(parts.path))
                read_folder(folder, uri.rstrip("/") + "/", out, label_prefix=folder.name + "/")
                continue
            media = block_media(block, where, "document", number)
            try:
                pages = read_bytes(media.data, media.mime_type, media.label)
            except (MediaError, ValueError) as exc:
                out.skipped.append(f"{media.label}: {exc}")
                continue
            if pages is None:
                out.skipped.append(f"{media.label}: {media.mime_type or 'unknown type'} not read")
                continue
            doc_uri = uri or f"inline:{media.label}"
            out.documents.append(Document(media.label, doc_uri, "upload", pages))


def named_urls(text: str) -> list[str]:
    """The http(s) URLs a question names, in order, without repeats."""
    found: list[str] = []
    for url in URL.findall(text):
        url = url.rstrip(".,;:")
        if url not in found:
            found.append(url)
    return found
