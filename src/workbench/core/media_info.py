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
            return _image(attachment.data, size)
        if kind in ("audio", "video"):
            return _av(attachment.data, kind, size)
        if kind == "document":
            return _document(attachment, size)
    except Exception:  # a damaged file still gets a chip; the server will say what is wrong
        pass
    return MediaSummary(kind, f"{kind} · {size}")


def _image(data: bytes, size: str) -> MediaSummary:
    try:
        from PIL import Image
    except ImportError:
        return MediaSummary("image", f"image · {size}", poster=data)
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # a cut file fails here, and gets no poster
        label = f"{image.format or 'image'} {image.width}×{image.height} · {size}"
    return MediaSummary("image", label, poster=data)


def _av(data: bytes, kind: str, size: str) -> MediaSummary:
    try:
        import av
    except ImportError:
        return MediaSummary(kind, f"{kind} · {size}")
    with av.open(io.BytesIO(data), mode="r") as container:
        duration = container.duration / 1_000_000 if container.duration else None
        poster = None
        dims = ""
        if kind == "video" and container.streams.video:
            stream = container.streams.video[0]
            dims = f" {stream.codec_context.width}×{stream.codec_context.height}"
            with contextlib.suppress(Exception):
                frame: Any = next(container.decode(stream))  # to_image() is untyped in av
                image = frame.to_image()
                image.thumbnail(POSTER_SIZE)
                out = io.BytesIO()
                image.save(out, format="PNG")
                poster = out.getvalue()
    length = f" {clock(duration)}" if duration else ""
    return MediaSummary(kind, f"{kind}{length}{dims} · {size}", duration=duration, poster=poster)


def _document(attachment: Attachment, size: str) -> MediaSummary:
    mime, data = attachment.mime_type, attachment.data
    pages: int | None = None
    noun = "pages"
    if mime == "application/pdf":
        from pypdf import PdfReader

        pages, name = len(PdfReader(io.BytesIO(data)).pages), "PDF"
    elif mime == PPTX:
        import pptx

        pages, name, noun = len(pptx.Presentation(io.BytesIO(data)).slides), "PowerPoint", "slides"
    elif mime == XLSX:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
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
