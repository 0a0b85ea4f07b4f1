"""Content blocks → what a chat backend can take: text and image bytes.

Every content type is accepted on the wire. What the chosen model cannot use is refused with
400 ``invalid_request`` naming the content type and what would work; nothing is dropped
silently. Text-like documents (plain text, Markdown, CSV, JSON, and PDF through ``pypdf``)
become text; images go to the backend as bytes when the model reads images.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import ApiError, bad_request

TEXT_DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/x-markdown",
        "text/csv",
        "text/html",
        "text/xml",
        "application/json",
        "application/xml",
        "text/x-python",
    }
)
PDF = "application/pdf"
MEDIA_TYPES = ("image", "audio", "video", "document")
MAX_URI_BYTES = 64 * 1024 * 1024


@dataclass
class Parts:
    """Text and images gathered from a list of content blocks."""

    texts: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(t for t in self.texts if t)


def decode_base64(data: str, where: str) -> bytes:
    """Standard (or URL-safe) base64 to bytes; 400 when it is not base64."""
    text = data.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(f"{where}: 'data' is not valid base64") from exc


def _read_uri(uri: str, where: str, kind: str) -> bytes:
    """Bytes behind a ``file://`` URI; other schemes cannot be fetched offline."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise bad_request(
            f"{where}: the engine works offline and cannot fetch {kind} uri {uri!r}; "
            f"send the {kind} inline as base64 'data' (or use a file:// uri)"
        )
    path = Path(unquote(parts.path))
    try:
        size = path.stat().st_size
        if size > MAX_URI_BYTES:
            raise bad_request(f"{where}: {uri!r} is larger than {MAX_URI_BYTES} bytes")
        return path.read_bytes()
    except ApiError:
        raise
    except OSError as exc:
        raise bad_request(f"{where}: cannot read {uri!r}: {exc.strerror or exc}") from exc


def block_bytes(block: dict[str, Any], where: str, kind: str) -> bytes:
    """The bytes of a media block, from ``data`` or a ``file://`` ``uri``."""
    data = block.get("data")
    if isinstance(data, str) and data:
        return decode_base64(data, where)
    uri = block.get("uri")
    if isinstance(uri, str) and uri:
        return _read_uri(uri, where, kind)
    raise bad_request(f"{where}: a {kind} block needs 'data' (base64) or 'uri'")


def pdf_text(data: bytes, where: str) -> str:
    """Text of a PDF's pages, through pypdf; 400 when it is not a readable PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise bad_request(f"{where}: the PDF could not be read ({exc})") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise bad_request(
            f"{where}: the PDF has no extractable text (a scanned PDF needs OCR first); "
            "send its pages as images to a model that reads images"
        )
    return text


def document_text(block: dict[str, Any], where: str) -> str:
    """A document block as text; 400 for formats the engine cannot turn into text."""
    mime = str(block.get("mime_type") or "").lower().split(";")[0].strip()
    data = block_bytes(block, where, "document")
    if not mime:
        uri = str(block.get("uri") or "")
        mime = _guess_mime(uri) or "text/plain"
    if mime == PDF:
        body = pdf_text(data, where)
    elif mime in TEXT_DOCUMENT_TYPES or mime.startswith("text/"):
        body = data.decode("utf-8", errors="replace")
    else:
        supported = ", ".join(sorted(TEXT_DOCUMENT_TYPES | {PDF}))
        raise bad_request(
            f"{where}: document type {mime!r} cannot be read by the local engine; "
            f"supported document types are {supported} (convert it to one of them)"
        )
    label = block.get("name") or block.get("uri") or mime
    return f"[document: {label}]\n{body}"


def _guess_mime(uri: str) -> str | None:
    lowered = uri.lower()
    for suffix, mime in (
        (".pdf", PDF),
        (".md", "text/markdown"),
        (".csv", "text/csv"),
        (".json", "application/json"),
        (".txt", "text/plain"),
    ):
        if lowered.endswith(suffix):
            return mime
    return None


def content_parts(
    blocks: list[Any], where: str, *, model: str, modalities: tuple[str, ...]
) -> Parts:
    """Convert content blocks for ``model``; 400 for anything it cannot use."""
    parts = Parts()
    for i, block in enumerate(blocks):
        here = f"{where}.content[{i}]"
        if not isinstance(block, dict):
            raise bad_request(f"{here}: a content block must be an object")
        kind = block.get("type", "text" if "text" in block else None)
        if kind == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise bad_request(f"{here}: a text block needs a string 'text'")
            parts.texts.append(text)
        elif kind == "image":
            if "image" not in modalities:
                raise bad_request(
                    f"{here}: model {model!r} cannot read image content; describe the image "
                    "in text, or choose a model that reads images"
                )
            parts.images.append(block_bytes(block, here, "image"))
        elif kind == "document":
            parts.texts.append(document_text(block, here))
        elif kind in ("audio", "video"):
            if kind not in modalities:
                raise bad_request(
                    f"{here}: model {model!r} cannot use {kind} content; send a transcript "
                    "as text instead"
                )
            raise bad_request(f"{here}: {kind} content is not supported by the local engine")
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
