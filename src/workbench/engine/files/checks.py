"""What ``PROCESSING`` does: check that an uploaded file is what its MIME type says.

A file becomes ``ACTIVE`` only once the engine knows it can use it, so an interaction that
names it later does not fail on bytes accepted hours ago. The checks are cheap (decoding
headers and a little data, not perception): an image is decoded, audio and video are opened
and their codecs looked up, Office files and EPUBs must be ZIP packages, PDFs must parse.
Anything else (text, JSON, unknown types) is stored as given. A failing check gives the
reason kept in ``error.message`` of the ``FAILED`` file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..perception import MediaError, PerceptionUnavailable, av_media
from ..perception import documents as office
from ..perception.ocr import open_image

ZIP_TYPES = frozenset({office.DOCX, office.DOTX, office.XLSX, office.PPTX, office.EPUB})
MAX_MEDIA_CHECK_BYTES = 512 * 1024 * 1024
"""Audio and video larger than this are not probed in memory (they stay ``ACTIVE``)."""


def check_file(path: Path, mime_type: str, label: str) -> str | None:
    """None when the file looks usable as ``mime_type``, else the reason it is not."""
    family = mime_type.split("/")[0]
    try:
        if family == "image":
            open_image(path.read_bytes(), label)
        elif family in ("audio", "video"):
            if path.stat().st_size <= MAX_MEDIA_CHECK_BYTES:
                _check_av(path.read_bytes(), label, family)
        elif mime_type in ZIP_TYPES:
            if not zipfile.is_zipfile(path):
                return f"{label} is not a valid {office.kind_name(mime_type)} file"
        elif mime_type == "application/pdf":
            _check_pdf(path, label)
    except MediaError as exc:
        return str(exc)
    except PerceptionUnavailable:
        return None  # the engine lacks a decoder: the file itself may be fine
    except OSError as exc:
        return f"{label} could not be read ({exc.strerror or exc})"
    return None


def video_seconds(path: Path, label: str) -> float | None:
    """A video file's duration (None when unknown or not a video)."""
    try:
        if path.stat().st_size > MAX_MEDIA_CHECK_BYTES:
            return None
        return av_media.probe(path.read_bytes(), label).duration
    except (MediaError, PerceptionUnavailable, OSError):
        return None


def _check_av(data: bytes, label: str, family: str) -> None:
    info = av_media.probe(data, label)
    if family == "audio" and info.audio_codec is None:
        raise MediaError(f"{label} has no audio track")
    if family == "video" and info.video_codec is None:
        raise MediaError(f"{label} has no video track")
    if family == "audio" or info.video_codec is None:
        av_media.decode_audio(data, label)
    else:
        next(iter(av_media.sample_frames(data, label, 1.0, 1)))


def _check_pdf(path: Path, label: str) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        PdfReader(path)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise MediaError(f"{label} is not a readable PDF ({exc})") from exc
