"""What an attachment is, in a few words and a picture: for showing media as media.

``summarize`` looks inside an attachment's bytes for what a person wants to see before sending:
an image's size, an audio clip's duration, a video's duration, size and poster frame, a PDF's
page count, a deck's slide count, a workbook's sheets. It is Qt-free (the widgets draw the
result) and uses the decoders the engine ships (Pillow, PyAV, pypdf, python-pptx, openpyxl)
only when they are installed; without one the summary just says less. Decoding may take a
moment on big files: call it from a worker thread.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

from .attachments import Attachment, human_size

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
POSTER_SIZE = (320, 180)
THUMBNAIL_SIZE = (256, 256)
"""Pictures are shrunk to at most this before they reach the UI (a chip draws 64 px)."""


@dataclass(frozen=True)
class MediaSummary:
    """How to show one attachment.

    Attributes:
        kind: ``image``, ``audio``, ``video``, ``document`` or ``text``.
        label: a short description (``"PNG 900×320 · 24 KB"``, ``"audio 0:12 · 1.1 MB"``).
        duration: seconds of audio or video, when known.
        pages: pages, slides or sheets of a document, when known.
        poster: PNG bytes of a picture to show (the image itself, a video's first frame).
    """

    kind: str
    label: str
    duration: float | None = None
    pages: int | None = None
    poster: bytes | None = None


def sent_line(name: str, detail: str) -> str:
    """How the transcript names a sent file: ``"memo.wav · audio 0:12 · 1.1 MB"``."""
    return f"{name} · {detail}"


def clock(seconds: float) -> str:
    total = max(0, round(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def summarize(attachment: Attachment) -> MediaSummary:
    """The summary of ``attachment`` (never raises: unreadable files get a plain label)."""
    size = human_size(attachment.size)
    kind = attachment.kind
    try:
        if kind == "image":
            return _image(_source(attachment), size)
        if kind in ("audio", "video"):
            return _av(_source(attachment), kind, size)
        if kind == "document":
            return _document(attachment, size)
    except Exception:  # a damaged file still gets a chip; the server will say what is wrong
        pass
    return MediaSummary(kind, f"{kind} · {size}")


def _source(attachment: Attachment) -> Any:
    """What decoders open: the bytes in memory, or the path of a file too big to hold."""
    if not attachment.data and attachment.path is not None:
        return str(attachment.path)
    return io.BytesIO(attachment.data)


def _png(image: Any, box: tuple[int, int]) -> bytes:
    image.thumbnail(box)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _image(source: Any, size: str) -> MediaSummary:
    try:
        from PIL import Image
    except ImportError:
        return MediaSummary("image", f"image · {size}")
    with Image.open(source) as image:
        image.load()  # a cut file fails here, and gets no poster
        label = f"{image.format or 'image'} {image.width}×{image.height} · {size}"
        poster = _png(image, THUMBNAIL_SIZE)
    return MediaSummary("image", label, poster=poster)


def _av(source: Any, kind: str, size: str) -> MediaSummary:
    try:
        import av
    except ImportError:
        return MediaSummary(kind, f"{kind} · {size}")
    with av.open(source, mode="r") as container:
        duration = container.duration / 1_000_000 if container.duration else None
        poster = None
        dims = ""
        if kind == "video" and container.streams.video:
            stream = container.streams.video[0]
            dims = f" {stream.codec_context.width}×{stream.codec_context.height}"
            with contextlib.suppress(Exception):
                frame: Any = next(container.decode(stream))  # to_image() is untyped in av
                poster = _png(frame.to_image(), POSTER_SIZE)
    length = f" {clock(duration)}" if duration else ""
    return MediaSummary(kind, f"{kind}{length}{dims} · {size}", duration=duration, poster=poster)


def _document(attachment: Attachment, size: str) -> MediaSummary:
    mime, data = attachment.mime_type, _source(attachment)
    pages: int | None = None
    noun = "pages"
    if mime == "application/pdf":
        from pypdf import PdfReader

        pages, name = len(PdfReader(data).pages), "PDF"
    elif mime == PPTX:
        import pptx

        pages, name, noun = len(pptx.Presentation(data).slides), "PowerPoint", "slides"
    elif mime == XLSX:
        import openpyxl

        book = openpyxl.load_workbook(data, read_only=True)
        pages, name, noun = len(book.sheetnames), "Excel", "sheets"
        book.close()
    elif mime == DOCX:
        name = "Word document"
    else:
        name = "document"
    if pages is None:
        return MediaSummary("document", f"{name} · {size}")
    count = f"{pages} {noun if pages != 1 else noun[:-1]}"
    return MediaSummary("document", f"{name} · {count} · {size}", pages=pages)
