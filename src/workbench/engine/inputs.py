"""Content blocks → what a chat backend can take: text and image bytes.

Every content type is accepted on the wire. A model that reads images gets image bytes; for a
text-only model the engine *perceives* the media (``perception/``) and sends framed text
instead: a transcript for audio, a timeline for video, the text read by OCR for images, and
Markdown for PDF, Office, HTML and EPUB documents. Each derived text also yields a note, which
the runner shows as a ``thought`` step, so the answer does not pretend to have seen or heard the
media. What cannot be read is refused with 400 ``invalid_request`` naming the block and what
would work; nothing is dropped silently.

Media bytes come from ``data`` (base64), a ``file://`` URI, or a Files API name (``files/…``
or the engine's own ``…/files/…`` URL), resolved through the hook ``set_file_resolver``.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import ApiError, bad_request
from .perception import Derived, MediaError, PerceptionUnavailable, current
from .perception import documents as office

TEXT_DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/x-markdown",
        "text/csv",
        "text/xml",
        "application/json",
        "application/xml",
        "text/x-python",
    }
)
PDF = "application/pdf"
MEDIA_TYPES = ("image", "audio", "video", "document")
MAX_URI_BYTES = 2 * 1024**3
FILE_NAME = re.compile(r"^(?:.*/)?files/([a-z0-9-]{1,40})$")


@dataclass(frozen=True)
class ResolvedFile:
    """A Files API file behind a ``files/…`` URI."""

    path: Path
    mime_type: str
    display_name: str


FileResolver = Callable[[str, str], ResolvedFile]
"""``(file id, where) → ResolvedFile``; raises ``ApiError`` for unknown or unusable files."""

_file_resolver: FileResolver | None = None


def set_file_resolver(resolver: FileResolver | None) -> None:
    """Install (or remove) how ``files/…`` URIs are resolved (the engine's Files API)."""
    global _file_resolver
    _file_resolver = resolver


@dataclass
class Parts:
    """Text and images gathered from a list of content blocks, and notes on derived media."""

    texts: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(t for t in self.texts if t)


@dataclass(frozen=True)
class Media:
    """A media block's bytes with what is known about them."""

    data: bytes
    mime_type: str
    label: str


def decode_base64(data: str, where: str) -> bytes:
    """Standard (or URL-safe) base64 to bytes; 400 when it is not base64."""
    text = data.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(f"{where}: 'data' is not valid base64") from exc


def _file_id(uri: str) -> str | None:
    """The Files API id named by ``files/ID`` or an http(s) URL ending in ``/files/ID``."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "http", "https"):
        match = FILE_NAME.match(parts.path if parts.scheme else uri)
        if match and (parts.scheme or uri.startswith("files/")):
            return match.group(1)
    return None


def _read_path(path: Path, uri: str, where: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_URI_BYTES:
            raise ApiError(413, f"{where}: {uri!r} is larger than {MAX_URI_BYTES} bytes")
        return path.read_bytes()
    except ApiError:
        raise
    except OSError as exc:
        raise bad_request(f"{where}: cannot read {uri!r}: {exc.strerror or exc}") from exc


def _read_uri(uri: str, where: str, kind: str) -> tuple[bytes, ResolvedFile | None]:
    """Bytes behind a ``file://`` or Files API URI; other URLs cannot be fetched offline."""
    file_id = _file_id(uri)
    if file_id is not None and _file_resolver is not None:
        resolved = _file_resolver(file_id, where)
        return _read_path(resolved.path, uri, where), resolved
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise bad_request(
            f"{where}: the engine works offline and cannot fetch {kind} uri {uri!r}; "
            f"send the {kind} inline as base64 'data', upload it with the Files API and use "
            "its 'files/…' uri, or use a file:// uri"
        )
    return _read_path(Path(unquote(parts.path)), uri, where), None


def block_bytes(block: dict[str, Any], where: str, kind: str) -> bytes:
    """The bytes of a media block, from ``data`` or a ``file://`` / ``files/…`` ``uri``."""
    return block_media(block, where, kind, 0).data


def block_media(block: dict[str, Any], where: str, kind: str, number: int) -> Media:
    """A media block's bytes, MIME type and a label for the model (its name, or a number)."""
    data = block.get("data")
    resolved: ResolvedFile | None = None
    uri = block.get("uri")
    if isinstance(data, str) and data:
        raw = decode_base64(data, where)
    elif isinstance(uri, str) and uri:
        raw, resolved = _read_uri(uri, where, kind)
    else:
        raise bad_request(f"{where}: a {kind} block needs 'data' (base64) or 'uri'")
    mime = str(block.get("mime_type") or "").lower().split(";")[0].strip()
    if not mime and resolved is not None:
        mime = resolved.mime_type.lower()
    if not mime and isinstance(uri, str):
        mime = _guess_mime(uri) or ""
    family = mime.split("/")[0]
    mismatch = family != kind and not (kind == "audio" and family == "video")
    if kind in ("image", "audio", "video") and family in ("image", "audio", "video") and mismatch:
        raise bad_request(
            f"{where}: an {kind} block cannot carry {mime!r} data; send it as an "
            f"{family} block or fix its mime_type"
        )
    name = block.get("name")
    if isinstance(name, str) and name.strip():
        label = name.strip()
    elif resolved is not None:
        label = resolved.display_name or f"files/{_file_id(str(uri))}"
    elif isinstance(uri, str) and uri and not uri.startswith("files/"):
        label = Path(unquote(urlsplit(uri).path)).name or f"{kind} {number}"
    else:
        label = f"{kind} {number}" if number else f"the {kind}"
    return Media(raw, mime, label)


def pdf_text(data: bytes, where: str) -> str:
    """Text of a PDF's pages, through pypdf ("" for a scan); 400 when it is not a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data:
        raise bad_request(f"{where}: the PDF is empty (0 bytes)")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise bad_request(f"{where}: the PDF could not be read ({exc})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def document_text(block: dict[str, Any], where: str, number: int = 0) -> tuple[str, str | None]:
    """A document block as text, and a note when it was converted; 400 when unreadable."""
    media = block_media(block, where, "document", number)
    mime = media.mime_type or "text/plain"
    if mime == PDF:
        body = pdf_text(media.data, where)
        if body:
            return f"[document: {media.label}]\n{body}", None
        # no text layer: a scan, whose page images are read by OCR
        derived = _perceive(partial(current().scanned_pdf, media.data, media.label), where)
        if "(OCR found no text)" in derived.text:
            raise bad_request(
                f"{where}: the PDF has no text layer and OCR found no text in its page "
                "images; send its pages as images to a model that reads images"
            )
        return derived.text, derived.note
    if office.convertible(mime):
        derived = _perceive(lambda: current().document(media.data, mime, media.label), where)
        return derived.text, derived.note
    if mime in TEXT_DOCUMENT_TYPES or mime.startswith("text/"):
        body = media.data.decode("utf-8", errors="replace")
        return f"[document: {media.label}]\n{body}", None
    if mime in office.LEGACY:
        raise bad_request(
            f"{where}: document type {mime!r} cannot be read by the local engine; save it as "
            f"{office.LEGACY[mime]} or PDF"
        )
    supported = ", ".join(sorted(TEXT_DOCUMENT_TYPES | {PDF} | set(office.CONVERTERS)))
    raise bad_request(
        f"{where}: document type {mime!r} cannot be read by the local engine; "
        f"supported document types are {supported} (convert it to one of them)"
    )


_SUFFIXES = {
    ".pdf": PDF,
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".txt": "text/plain",
    ".html": office.HTML,
    ".htm": office.HTML,
    ".epub": office.EPUB,
    ".docx": office.DOCX,
    ".xlsx": office.XLSX,
    ".pptx": office.PPTX,
}


def _guess_mime(uri: str) -> str | None:
    lowered = urlsplit(uri).path.lower()
    for suffix, mime in _SUFFIXES.items():
        if lowered.endswith(suffix):
            return mime
    return None


def _perceive(work: Callable[[], Derived], where: str) -> Derived:
    try:
        return work()
    except MediaError as exc:
        raise bad_request(f"{where}: {exc}") from exc
    except PerceptionUnavailable as exc:
        raise ApiError(501, f"{where}: {exc}", "unimplemented") from exc


def content_parts(
    blocks: list[Any], where: str, *, model: str, modalities: tuple[str, ...]
) -> Parts:
    """Convert content blocks for ``model``; 400 for anything it cannot use."""
    parts = Parts()
    counts: dict[str, int] = {}
    for i, block in enumerate(blocks):
        here = f"{where}.content[{i}]"
        if not isinstance(block, dict):
            raise bad_request(f"{here}: a content block must be an object")
        kind = block.get("type", "text" if "text" in block else None)
        if kind in MEDIA_TYPES:
            counts[kind] = counts.get(kind, 0) + 1
        number = counts.get(str(kind), 0) if sum(counts.values()) > 1 else 0
        if kind == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise bad_request(f"{here}: a text block needs a string 'text'")
            parts.texts.append(text)
        elif kind == "image":
            media = block_media(block, here, "image", number)
            if "image" in modalities:
                parts.images.append(media.data)
            else:
                derived = _perceive(partial(current().image, media.data, media.label), here)
                parts.texts.append(derived.text)
                parts.notes.append(derived.note)
        elif kind == "document":
            text, note = document_text(block, here, number)
            parts.texts.append(text)
            if note:
                parts.notes.append(note)
        elif kind in ("audio", "video"):
            media = block_media(block, here, kind, number)
            perception = current()
            work = perception.audio if kind == "audio" else perception.video
            derived = _perceive(partial(work, media.data, media.label), here)
            parts.texts.append(derived.text)
            parts.notes.append(derived.note)
        else:
            raise bad_request(
                f"{here}: unknown content type {kind!r}; use text, image, audio, video or document"
            )
    return parts


def result_text(result: Any) -> tuple[str, list[bytes], bool]:
    """A ``function_result.result`` as text (plus images in a content-list result).

    Returns ``(text, images, is_content_list)``.
    """
    if isinstance(result, str):
        return result, [], False
    if isinstance(result, list) and all(
        isinstance(b, dict) and b.get("type") in ("text", "image") for b in result
    ):
        texts = [str(b.get("text", "")) for b in result if b.get("type") == "text"]
        images = [b for b in result if b.get("type") == "image"]
        decoded = [
            decode_base64(str(b.get("data", "")), "function_result")
            for b in images
            if isinstance(b.get("data"), str)
        ]
        return "\n".join(texts), decoded, True
    return json.dumps(result, ensure_ascii=False), [], False
