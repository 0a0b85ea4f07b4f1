"""Files attached to a turn: what they are, whether they may be sent, and how.

Media (images, audio, video, PDF and office documents) are sent inline as base64 ``data``
with their ``mime_type``; plain-text files are sent as a ``text`` block with a header naming
the file. Anything else, or anything too large to send inline, is refused with a message that
says why and what to do instead.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["image", "audio", "video", "document", "text"]
KINDS_ALL: tuple[Kind, ...] = ("image", "audio", "video", "document", "text")

MAX_INLINE_BYTES = 20 * 1024 * 1024
"""Largest media file sent inline (the Gemini API caps an inline request at about 20 MB)."""

MAX_TEXT_BYTES = 1024 * 1024
"""Largest text file sent as text."""

MAX_TOTAL_BYTES = 20 * 1024 * 1024
"""Largest sum of all attachments of one turn."""

MEDIA_TYPES: dict[str, Kind] = {
    **dict.fromkeys(
        ["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif", "image/gif"],
        "image",
    ),
    **dict.fromkeys(["image/bmp", "image/tiff"], "image"),
    **dict.fromkeys(
        [
            "audio/wav",
            "audio/mp3",
            "audio/aiff",
            "audio/aac",
            "audio/ogg",
            "audio/flac",
            "audio/mpeg",
            "audio/m4a",
            "audio/opus",
            "audio/webm",
        ],
        "audio",
    ),
    **dict.fromkeys(
        [
            "video/mp4",
            "video/mpeg",
            "video/mov",
            "video/avi",
            "video/x-flv",
            "video/webm",
            "video/wmv",
            "video/3gpp",
        ],
        "video",
    ),
    **dict.fromkeys(
        [
            "application/pdf",
            "text/csv",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
        ],
        "document",
    ),
}

# What mimetypes guesses, mapped to the spelling the API knows.
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-aiff": "audio/aiff",
    "audio/mp4": "audio/m4a",
    "audio/x-m4a": "audio/m4a",
    "video/quicktime": "video/mov",
    "video/x-msvideo": "video/avi",
    "video/x-ms-wmv": "video/wmv",
    "image/x-ms-bmp": "image/bmp",
}

_EXTRA_EXTENSIONS = {
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".m4a": "audio/m4a",
    ".opus": "audio/opus",
    ".flac": "audio/flac",
    ".mov": "video/mov",
    ".webm": "video/webm",
}

# Magic numbers for content whose extension is missing or lying (pasted data, say).
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
]


class AttachmentError(Exception):
    """This file cannot be attached; the message says why and what to do instead."""


@dataclass(frozen=True)
class Attachment:
    """A file ready to go out with the next turn."""

    name: str
    mime_type: str
    kind: Kind
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sent_as(self) -> str:
        """How it will travel, in the words shown on its chip."""
        if self.kind == "text":
            return "sent as text"
        return "sent inline (base64)"

    def to_content(self) -> dict[str, Any]:
        """The content block for the request."""
        if self.kind == "text":
            return {"type": "text", "text": wrap_text(self.name, self.data.decode("utf-8"))}
        data = base64.b64encode(self.data).decode("ascii")
        return {"type": self.kind, "data": data, "mime_type": self.mime_type}


_WRAPPED = re.compile(r"\AFile `(?P<name>[^`\n]+)`:\n(?P<fence>`{3,})\n.*\n(?P=fence)\Z", re.S)


def wrap_text(name: str, text: str) -> str:
    """A text file as the model reads it: its name, then its text in a fence it cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"File `{name}`:\n{fence}\n{text}\n{fence}"


def wrapped_name(text: str) -> str | None:
    """The file name if ``text`` is a text attachment built by :func:`wrap_text`.

    The user's own turn shows the attachment as a chip, never the wrapper the app built
    for the model (issue 19).
    """
    match = _WRAPPED.match(text)
    return match.group("name") if match else None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def sniff(data: bytes) -> str | None:
    """The media type told by the first bytes, if they are a known signature."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _guess(name: str) -> str | None:
    ext = Path(name).suffix.lower()
    if ext in _EXTRA_EXTENSIONS:
        return _EXTRA_EXTENSIONS[ext]
    mime, _ = mimetypes.guess_type(name, strict=False)
    return _ALIASES.get(mime, mime) if mime else None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_SIGNED = {
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
    "application/pdf": "a PDF",
    "audio/flac": "a FLAC file",
    "audio/wav": "a WAV file",
}
"""Types whose first bytes are known: a file that only *claims* one of them is refused."""


def from_bytes(name: str, data: bytes, mime_hint: str | None = None) -> Attachment:
    """Check and describe ``data``; raise AttachmentError if it cannot be sent."""
    sniffed = sniff(data)
    claimed = (_ALIASES.get(mime_hint, mime_hint) if mime_hint else None) or _guess(name)
    if sniffed is None and claimed in _SIGNED and data:
        raise AttachmentError(
            f"“{name}” is not {_SIGNED[claimed]}, whatever its name says (its content does "
            "not match). Attach the original file, or save it in that format first."
        )
    mime = sniffed or claimed
    kind: Kind
    if mime in MEDIA_TYPES:
        kind = MEDIA_TYPES[mime]
        if len(data) > MAX_INLINE_BYTES:
            raise AttachmentError(
                f"“{name}” is {human_size(len(data))}; files sent inline may be at most "
                f"{human_size(MAX_INLINE_BYTES)}. Shrink it or split it, then attach it again."
            )
    elif (mime is None or mime.startswith("text/") or _is_texty(mime)) and _is_text(data):
        kind, mime = "text", (mime if mime and mime.startswith("text/") else "text/plain")
        if len(data) > MAX_TEXT_BYTES:
            raise AttachmentError(
                f"“{name}” is {human_size(len(data))} of text; at most "
                f"{human_size(MAX_TEXT_BYTES)} can be sent. Attach an excerpt instead."
            )
    else:
        what = mime or "an unknown type"
        raise AttachmentError(
            f"“{name}” is {what}, which cannot be sent. Attach images, audio, video, PDF or "
            f"text files."
        )
    if len(data) == 0:
        raise AttachmentError(f"“{name}” is empty; there is nothing to send.")
    return Attachment(name, mime, kind, data, hashlib.sha256(data).hexdigest())


def _is_texty(mime: str) -> bool:
    return mime in {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-sh",
        "application/x-python",
        "application/toml",
        "application/x-yaml",
        "application/yaml",
    }


def load_file(path: Path) -> Attachment:
    """Read and check a file from disk (call in an executor for large files)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AttachmentError(f"“{path.name}” cannot be read: {exc.strerror}.") from None
    if not path.is_file():
        raise AttachmentError(f"“{path.name}” is not a file.")
    if size > MAX_INLINE_BYTES:
        raise AttachmentError(
            f"“{path.name}” is {human_size(size)}; files sent inline may be at most "
            f"{human_size(MAX_INLINE_BYTES)}. Shrink it or split it, then attach it again."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AttachmentError(f"“{path.name}” cannot be read: {exc.strerror}.") from None
    return from_bytes(path.name, data)


def check_total(current: list[Attachment], new: Attachment) -> None:
    """Refuse ``new`` if the turn would get too large to send."""
    total = sum(a.size for a in current) + new.size
    if total > MAX_TOTAL_BYTES:
        raise AttachmentError(
            f"Adding “{new.name}” would make this message {human_size(total)}; one message "
            f"can carry at most {human_size(MAX_TOTAL_BYTES)} of attachments. "
            f"Send it in a separate message."
        )


EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image": ("png", "jpg", "jpeg", "webp", "gif", "heic", "heif", "bmp", "tiff"),
    "audio": ("wav", "mp3", "flac", "ogg", "m4a", "aac", "aiff", "opus"),
    "video": ("mp4", "mov", "webm", "mpeg", "avi", "wmv", "3gp"),
    "document": ("pdf", "csv", "docx", "doc", "xlsx", "pptx", "odt"),
    "text": ("txt", "md", "json", "yaml", "yml", "toml", "xml", "html", "py", "js", "ts", "sh"),
}
"""The usual file name endings of each kind, for file dialogs' type filters."""
_FILTER_NAMES = {
    "image": "Images",
    "audio": "Audio",
    "video": "Video",
    "document": "PDF and documents",
    "text": "Text files",
}


def name_filters(kinds: set[str]) -> list[str]:
    """File dialog filters: what the target reads first, then each kind, then all files."""
    order = [k for k in EXTENSIONS if k in kinds]
    every = " ".join(f"*.{e}" for k in order for e in EXTENSIONS[k])
    out = [f"Files this target reads ({every})"] if len(order) > 1 else []
    out += [f"{_FILTER_NAMES[k]} ({' '.join('*.' + e for e in EXTENSIONS[k])})" for k in order]
    return [*out, "All files (*)"]
