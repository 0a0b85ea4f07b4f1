"""Files attached to a turn: what they are, whether they may be sent, and how.

Media (images, audio, video, PDF and office documents) are sent inline as base64 ``data``
with their ``mime_type`` while they are small; a file over ``UPLOAD_THRESHOLD``, or one that
would push a turn's inline part past ``MAX_TOTAL_BYTES``, is marked ``upload`` and goes through
the Files API first (``media_upload``). Plain-text files are sent as a ``text`` block with a
header naming the file. Anything else, or anything over the Files API's 2 GB, is refused with a
message that says why and what to do instead. Files over the threshold are not read into
memory: the attachment keeps their ``path`` and the upload streams them.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

Kind = Literal["image", "audio", "video", "document", "text"]
KINDS_ALL: tuple[Kind, ...] = ("image", "audio", "video", "document", "text")

MAX_INLINE_BYTES = 20 * 1024 * 1024
"""Largest inline part of one request (Gemini's advice: past ~20 MB, use the Files API)."""

UPLOAD_THRESHOLD = 16 * 1024 * 1024
"""Media larger than this is uploaded with the Files API and sent by ``uri``."""

MAX_UPLOAD_BYTES = 2 * 1024**3
"""Largest file the Files API takes (Gemini's limit, and the engine's)."""

MAX_TEXT_BYTES = 1024 * 1024
"""Largest text file sent as text."""

MAX_TOTAL_BYTES = MAX_INLINE_BYTES
"""Largest sum of the attachments of one turn sent inline; the rest are uploaded."""

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
            "application/epub+zip",
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
    """A file ready to go out with the next turn.

    ``data`` is empty for a file too big to hold in memory; ``path`` then names it (it is also
    set for any file picked from disk, so the app can open it) and ``length`` is its size.
    ``upload`` says it goes through the Files API rather than inline.
    """

    name: str
    mime_type: str
    kind: Kind
    data: bytes
    sha256: str
    path: Path | None = None
    length: int | None = None
    upload: bool = False

    @property
    def size(self) -> int:
        return self.length if self.length is not None else len(self.data)

    @property
    def sent_as(self) -> str:
        """How it will travel, in the words shown on its chip."""
        if self.kind == "text":
            return "sent as text"
        if self.upload:
            return "uploaded first (Files API)"
        return "sent inline (base64)"

    def read(self) -> bytes:
        """The bytes (from disk for a big file: call in an executor)."""
        if self.data or self.path is None:
            return self.data
        return self.path.read_bytes()

    def to_content(self) -> dict[str, Any]:
        """The inline content block for the request (``media_upload`` makes the uri ones)."""
        if self.kind == "text":
            return {"type": "text", "text": wrap_text(self.name, self.data.decode("utf-8"))}
        data = base64.b64encode(self.read()).decode("ascii")
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


def _classify(name: str, head: bytes, size: int, mime_hint: str | None) -> tuple[str, Kind]:
    """The MIME type and kind of a file from its first bytes and size; refuse what cannot go."""
    sniffed = sniff(head)
    claimed = (_ALIASES.get(mime_hint, mime_hint) if mime_hint else None) or _guess(name)
    if sniffed is None and claimed in _SIGNED and head:
        raise AttachmentError(
            f"“{name}” is not {_SIGNED[claimed]}, whatever its name says (its content does "
            "not match). Attach the original file, or save it in that format first."
        )
    mime = sniffed or claimed
    kind: Kind
    if mime in MEDIA_TYPES:
        kind = MEDIA_TYPES[mime]
        if size > MAX_UPLOAD_BYTES:
            raise AttachmentError(
                f"“{name}” is {human_size(size)}; the Files API takes files of at most "
                f"{human_size(MAX_UPLOAD_BYTES)}. Shrink it or split it, then attach it again."
            )
    elif (mime is None or mime.startswith("text/") or _is_texty(mime)) and _is_text(head):
        kind, mime = "text", (mime if mime and mime.startswith("text/") else "text/plain")
        if size > MAX_TEXT_BYTES:
            raise AttachmentError(
                f"“{name}” is {human_size(size)} of text; at most "
                f"{human_size(MAX_TEXT_BYTES)} can be sent. Attach an excerpt instead."
            )
    else:
        what = mime or "an unknown type"
        raise AttachmentError(
            f"“{name}” is {what}, which cannot be sent. Attach images, audio, video, PDF, "
            "office documents or text files."
        )
    if size == 0:
        raise AttachmentError(f"“{name}” is empty; there is nothing to send.")
    return mime, kind


def from_bytes(name: str, data: bytes, mime_hint: str | None = None) -> Attachment:
    """Check and describe ``data``; raise AttachmentError if it cannot be sent."""
    mime, kind = _classify(name, data, len(data), mime_hint)
    upload = kind != "text" and len(data) > UPLOAD_THRESHOLD
    return Attachment(name, mime, kind, data, hashlib.sha256(data).hexdigest(), upload=upload)


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
    """Read and check a file from disk (call in an executor: big files are hashed here).

    A file over ``UPLOAD_THRESHOLD`` is not read into memory: it will be uploaded from
    ``path``.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AttachmentError(f"“{path.name}” cannot be read: {exc.strerror}.") from None
    if not path.is_file():
        raise AttachmentError(f"“{path.name}” is not a file.")
    try:
        if size <= UPLOAD_THRESHOLD:
            att = from_bytes(path.name, path.read_bytes())
            return replace(att, path=path)
        with path.open("rb") as fh:
            head = fh.read(8192)
            mime, kind = _classify(path.name, head, size, None)
            digest = hashlib.sha256(head)
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
    except OSError as exc:
        raise AttachmentError(f"“{path.name}” cannot be read: {exc.strerror}.") from None
    return Attachment(path.name, mime, kind, b"", digest.hexdigest(), path, size, upload=True)


def place(current: list[Attachment], new: Attachment) -> Attachment:
    """``new`` as it will travel beside ``current``: uploaded when inline it would make the
    turn's inline part larger than ``MAX_TOTAL_BYTES`` (text always goes inline)."""
    if new.upload or new.kind == "text":
        return new
    inline = sum(a.size for a in current if not a.upload) + new.size
    return replace(new, upload=True) if inline > MAX_TOTAL_BYTES else new


def check_total(current: list[Attachment], new: Attachment) -> None:
    """Refuse text ``new`` if the turn's inline part would get too large to send."""
    if new.kind != "text":
        return
    total = sum(a.size for a in current if not a.upload) + new.size
    if total > MAX_TOTAL_BYTES:
        raise AttachmentError(
            f"Adding “{new.name}” would make this message {human_size(total)}; one message "
            f"can carry at most {human_size(MAX_TOTAL_BYTES)} sent inline. "
            f"Send it in a separate message."
        )


EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image": ("png", "jpg", "jpeg", "webp", "gif", "heic", "heif", "bmp", "tiff"),
    "audio": ("wav", "mp3", "flac", "ogg", "m4a", "aac", "aiff", "opus"),
    "video": ("mp4", "mov", "webm", "mpeg", "avi", "wmv", "3gp"),
    "document": ("pdf", "csv", "docx", "doc", "xlsx", "pptx", "odt", "epub"),
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
