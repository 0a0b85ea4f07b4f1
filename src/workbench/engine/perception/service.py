"""``Perception``: media bytes in, framed text for a text model out, cached by content hash.

One object per engine owns the cache and the two lazily loaded models (speech, OCR), so memory
is shared by every interaction and freed when media stops arriving. Each entry point is
blocking (the runner calls it from a worker thread) and returns a ``Derived``: the text the
model receives and a one-line note for the ``thought`` step that says what the model got
instead of the media.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import av_media, documents, framing
from .cache import DerivedCache, content_key
from .errors import MediaError
from .ocr import Ocr, open_image
from .speech import Speech, default_threads

DEFAULT_IDLE_SECONDS = 300.0
"""Models unused this long are unloaded."""

FRAME_EVERY_MIN = 2.0
"""Sample a video frame at most this often (seconds)."""
MAX_FRAMES = 40
"""At most this many frames of one video are read."""
SAME_FRAME = 2.0
"""Mean absolute difference (0–255, on a 32×18 thumbnail) below which a frame is unchanged."""

RECIPES = {
    "speech": "speech:faster-whisper-base:beam1:v1",
    "image": "image:rapidocr-1.4.4:nocls:v2",
    "video": "video:pyav+whisper-base+rapidocr:v2",
    "document": "document:markdown:v1",
    "scanned-pdf": "scanned-pdf:pypdf+rapidocr-1.4.4:nocls:v1",
}
MAX_SCANNED_PAGES = 50
"""At most this many pages of a scanned PDF are read by OCR."""


@dataclass(frozen=True)
class Derived:
    """What a text model receives for one media block, and the note that says so."""

    text: str
    note: str


class Perception:
    """The engine's perception of media.

    Args:
        models_dir: where the speech model is assembled from its packages.
        cache_dir: where derived text is kept across restarts (None: memory only).
        idle_seconds: unload a model after this long unused.
        threads: CPU threads for the models (default: the usable cores, at most 4).
    """

    def __init__(
        self,
        models_dir: Path,
        cache_dir: Path | None,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        threads: int | None = None,
    ) -> None:
        threads = threads or default_threads()
        self.cache = DerivedCache(cache_dir)
        self.speech = Speech(models_dir, idle_seconds, threads)
        self.ocr = Ocr(idle_seconds, threads)
        self._busy: dict[str, threading.Lock] = {}
        self._busy_guard = threading.Lock()

    # -- entry points ------------------------------------------------------------------------

    def audio(self, data: bytes, label: str) -> Derived:
        """A transcript with timestamps and the detected language."""
        value = self._cached("speech", data, lambda: self._speech(data, label))
        return Derived(framing.speech_text(value, label), framing.speech_note(value, label))

    def image(self, data: bytes, label: str) -> Derived:
        """Format, size and the text read by OCR, with its layout."""
        value = self._cached("image", data, lambda: self._image(data, label))
        return Derived(framing.image_text(value, label), framing.image_note(value, label))

    def video(self, data: bytes, label: str) -> Derived:
        """A timeline of the audio transcript and the text on sampled frames."""
        value = self._cached("video", data, lambda: self._video(data, label))
        return Derived(framing.video_text(value, label), framing.video_note(value, label))

    def document(self, data: bytes, mime: str, label: str) -> Derived:
        """An Office, HTML or EPUB document as Markdown."""
        recipe = f"document:{mime}"
        value = self._cached(
            recipe, data, lambda: {"markdown": documents.to_markdown(data, mime, label)}
        )
        kind = documents.kind_name(mime)
        text = framing.document_text(str(value["markdown"]), label, kind)
        return Derived(text, f"The engine converted {label} ({kind}) to text for me.")

    def scanned_pdf(self, data: bytes, label: str) -> Derived:
        """The text of a PDF without a text layer, read by OCR from its page images."""
        value = self._cached("scanned-pdf", data, lambda: self._scanned_pdf(data, label))
        pages: list[list[Any]] = value["pages"]
        head = (
            f"[Document {label} (PDF, {value['page_count']} pages, scanned: it has no text "
            "layer, so the engine read the text in its page images by OCR; layout, pictures "
            "and handwriting may be missing)]"
        )
        body = [f"Page {n}:\n{text}" for n, text in pages] or ["(OCR found no text)"]
        text = "\n\n".join([head, *body, f"[end of document {label}]"])
        note = (
            f"{label} is a scanned PDF; the engine read its {len(pages)} pages with text by "
            "OCR, and I answer from that text."
        )
        return Derived(text, note)

    def status(self) -> dict[str, Any]:
        """Which models are loaded, and cache counters (for benchmarks and diagnostics)."""
        return {
            "speech_loaded": self.speech.model.loaded,
            "ocr_loaded": self.ocr.model.loaded,
            "cache_hits": self.cache.hits,
            "cache_misses": self.cache.misses,
        }

    def unload(self) -> None:
        """Free both models now (those in use stay until their caller is done)."""
        self.speech.model.unload()
        self.ocr.model.unload()

    # -- work --------------------------------------------------------------------------------

    def _cached(self, kind: str, data: bytes, work: Any) -> dict[str, Any]:
        key = content_key(data, RECIPES.get(kind, kind))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        with self._busy_guard:
            lock = self._busy.setdefault(key, threading.Lock())
        try:
            with lock:  # a second request for the same bytes waits for the first
                hit = self.cache.get(key)
                if hit is not None:
                    return hit
                value: dict[str, Any] = work()
                self.cache.put(key, value)
                return value
        finally:
            with self._busy_guard:
                self._busy.pop(key, None)

    def _speech(self, data: bytes, label: str) -> dict[str, Any]:
        samples = av_media.decode_audio(data, label)
        return _transcript_value(self.speech.transcribe(samples))

    def _image(self, data: bytes, label: str) -> dict[str, Any]:
        image, info = open_image(data, label)
        reading = self.ocr.read(image)
        return {
            "info": {
                "format": info.format,
                "width": info.width,
                "height": info.height,
                "mode": info.mode,
                "frames": info.frames,
            },
            "lines": [[ln.text, list(ln.box), round(ln.score, 3)] for ln in reading.lines],
        }

    def _scanned_pdf(self, data: bytes, label: str) -> dict[str, Any]:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(io.BytesIO(data))
            pages: list[list[Any]] = []
            for number, page in enumerate(reader.pages[:MAX_SCANNED_PAGES], start=1):
                texts = [self.ocr.read(picture.image).text for picture in page.images]
                text = "\n".join(t for t in texts if t)
                if text:
                    pages.append([number, text])
            count = len(reader.pages)
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
            raise MediaError(f"the page images of {label} could not be read ({exc})") from exc
        return {"pages": pages, "page_count": count}

    def _video(self, data: bytes, label: str) -> dict[str, Any]:
        info = av_media.probe(data, label)
        if info.video_codec is None:
            raise MediaError(f"{label} has no video track; send it as audio")
        if info.container.endswith("_pipe") or info.container == "image2":
            raise MediaError(
                f"{label} is a still image ({info.container.removesuffix('_pipe')}), not a "
                "video; send it as an image block"
            )
        duration = info.duration or 0.0
        every = max(FRAME_EVERY_MIN, round(duration / MAX_FRAMES, 1))
        frames: list[list[Any]] = []
        last_thumb: Any = None
        last_text = ""
        for when, image in av_media.sample_frames(data, label, every, MAX_FRAMES):
            thumb = _thumbnail(image)
            if last_thumb is not None and _difference(thumb, last_thumb) < SAME_FRAME:
                continue  # no scene change: the text on screen is the same
            last_thumb = thumb
            text = self.ocr.read(image).text.replace("\n", " | ")
            if text and text != last_text:
                frames.append([round(when, 2), text])
            last_text = text
        value: dict[str, Any] = {
            "info": {
                "container": info.container,
                "duration": duration,
                "width": info.width,
                "height": info.height,
                "video_codec": info.video_codec,
                "audio_codec": info.audio_codec,
            },
            "every": every,
            "frames": frames,
            "has_audio": info.audio_codec is not None,
            "segments": [],
        }
        if info.audio_codec is not None:
            samples = av_media.decode_audio(data, label, required=False)
            if samples is not None and len(samples):
                value.update(_transcript_value(self.speech.transcribe(samples)))
        return value


def _transcript_value(transcript: Any) -> dict[str, Any]:
    return {
        "segments": [[round(s.start, 2), round(s.end, 2), s.text] for s in transcript.segments],
        "language": transcript.language,
        "language_probability": round(transcript.language_probability, 3),
        "duration": round(transcript.duration, 2),
    }


def _thumbnail(image: Any) -> Any:
    import numpy as np

    return np.asarray(image.convert("L").resize((32, 18)), dtype=np.float32)


def _difference(a: Any, b: Any) -> float:
    import numpy as np

    return float(np.mean(np.abs(a - b)))
