"""Reading the text in pictures with RapidOCR (PP-OCR models run by onnxruntime).

``rapidocr-onnxruntime`` ships its detection, orientation and recognition models inside the
wheel, so nothing is downloaded. The engine's text model does not see pictures, so what it gets
is the image's format and size and the lines of text with where they are; ``Reading`` keeps
those lines with their boxes so frames of a video can reuse the same code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from .errors import MediaError, PerceptionUnavailable
from .lazy import IdleModel

MIN_SCORE = 0.5
"""Recognitions below this confidence are dropped (noise on photos and gradients)."""


@dataclass(frozen=True)
class Line:
    """One line of text and its box: left, top, right, bottom in pixels."""

    text: str
    box: tuple[int, int, int, int]
    score: float


@dataclass(frozen=True)
class Reading:
    """The text found in one picture."""

    width: int
    height: int
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return "\n".join(" ".join(line.text for line in row) for row in rows(self.lines))


@dataclass(frozen=True)
class ImageInfo:
    """Format facts of an image file."""

    format: str
    width: int
    height: int
    mode: str
    frames: int


def open_image(data: bytes, label: str) -> tuple[Any, ImageInfo]:
    """Decode an image fully (PIL); ``MediaError`` for empty, unknown or truncated files."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise MediaError(f"{label} is empty (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
        fmt = str(image.format or "unknown")
        frames = int(getattr(image, "n_frames", 1) or 1)
        image.load()
    except UnidentifiedImageError as exc:
        raise MediaError(
            f"{label} is not in an image format the engine can read (PNG, JPEG, WebP, GIF, "
            "BMP, TIFF); it may be another kind of file"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(
            f"{label} could not be decoded ({exc}); the file may be truncated"
        ) from exc
    info = ImageInfo(fmt, image.width, image.height, image.mode, frames)
    return image, info


class Ocr:
    """The OCR engine, loaded on first use and unloaded when idle."""

    def __init__(self, idle_seconds: float, threads: int = 2) -> None:
        self.threads = threads
        self.model: IdleModel[Any] = IdleModel("ocr", self._load, idle_seconds)

    def _load(self) -> Any:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise PerceptionUnavailable(
                "Reading text in images needs rapidocr-onnxruntime; install it with: "
                "pip install 'workbench[local]'"
            ) from exc
        return RapidOCR(intra_op_num_threads=self.threads, inter_op_num_threads=1)

    def read(self, image: Any) -> Reading:
        """The text lines of a PIL image (blocking: a few hundred ms per page)."""
        import numpy as np

        rgb = image.convert("RGB")
        # RapidOCR takes OpenCV's channel order (BGR) for arrays.
        array = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
        with self.model.use() as engine:
            # No orientation classifier: on printed pages it flips some upright lines, whose
            # text then scores too low and is lost (measured: 20 of 30 lines read with it,
            # 30 of 30 without), and upside-down pictures are rare.
            result, _ = engine(array, use_cls=False, return_word_box=True)
        gray = np.asarray(rgb.convert("L"))
        lines: list[Line] = []
        for item in result or ():
            box, text, score = item[0], str(item[1]), item[2]
            xs = [int(p[0]) for p in box]
            ys = [int(p[1]) for p in box]
            left, top, right, bottom = max(0, min(xs)), max(0, min(ys)), max(xs), max(ys)
            if len(item) >= 5 and item[3] and item[4]:
                crop = gray[top : bottom + 1, left : right + 1]
                runs = blank_runs(crop, max(4, round((bottom - top) * 0.3)))
                gaps = [(a + left, b + left) for a, b in runs]
                digit_gap = 0.5 * (bottom - top)
                text = spaced(list(item[4]), list(item[3]), gaps, digit_gap) or text
            text = " ".join(text.split())
            if not text or float(score) < MIN_SCORE:
                continue
            lines.append(Line(text, (left, top, right, bottom), float(score)))
        return Reading(rgb.width, rgb.height, tuple(lines))


def blank_runs(gray: Any, min_width: int) -> list[tuple[int, int]]:
    """Runs of ink-free columns at least ``min_width`` wide inside a line's crop (``[a, b)``)."""
    import numpy as np

    if gray.size == 0:
        return []
    low, high = float(gray.min()), float(gray.max())
    if high - low < 32:
        return []
    ink = (gray < (low + high) / 2).any(axis=0)
    columns = np.flatnonzero(ink)
    if len(columns) < 2:
        return []
    runs: list[tuple[int, int]] = []
    start = None
    for x in range(int(columns[0]), int(columns[-1]) + 1):
        if not ink[x] and start is None:
            start = x
        elif ink[x] and start is not None:
            if x - start >= min_width:
                runs.append((start, x))
            start = None
    return runs


def spaced(
    chars: list[str], boxes: list[Any], gaps: list[tuple[int, int]], digit_gap: float = 0.0
) -> str:
    """Recognized characters joined with a space wherever a blank gap separates them.

    The packaged recognition model (trained mostly on Chinese) often drops the spaces between
    Latin words. It gives every character an approximate box, and the picture shows where the
    ink stops: a run of blank columns (``gaps``, in the same x coordinates) between two
    characters' centres is a space. Digits are narrow glyphs with wide side bearings, so
    between two digits only a gap of at least ``digit_gap`` counts.
    """
    if len(chars) != len(boxes) or not chars:
        return "".join(chars)
    centres = [sum(p[0] for p in b) / len(b) for b in boxes]
    out = [chars[0]]
    for i in range(1, len(chars)):
        if chars[i] == " " or chars[i - 1] == " ":
            out.append(chars[i])
            continue
        digits = chars[i - 1][-1:].isdigit() and chars[i][:1].isdigit()
        between = any(
            centres[i - 1] < (a + b) / 2 < centres[i] and (not digits or b - a >= digit_gap)
            for a, b in gaps
        )
        out.append(" " + chars[i] if between else chars[i])
    return "".join(out)


def rows(lines: tuple[Line, ...] | list[Line]) -> list[list[Line]]:
    """Lines grouped into visual rows (top to bottom, each row left to right)."""
    ordered = sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2)
    out: list[list[Line]] = []
    for line in ordered:
        centre = (line.box[1] + line.box[3]) / 2
        if out:
            last = out[-1][0]
            height = max(1, last.box[3] - last.box[1])
            if abs(centre - (last.box[1] + last.box[3]) / 2) < height / 2:
                out[-1].append(line)
                continue
        out.append([line])
    return [sorted(row, key=lambda ln: ln.box[0]) for row in out]


def region(box: tuple[int, int, int, int], width: int, height: int) -> str:
    """Where a box sits, in words (``top left`` … ``bottom right``)."""
    cx = (box[0] + box[2]) / 2 / max(1, width)
    cy = (box[1] + box[3]) / 2 / max(1, height)
    vertical = "top" if cy < 1 / 3 else "middle" if cy < 2 / 3 else "bottom"
    horizontal = "left" if cx < 1 / 3 else "centre" if cx < 2 / 3 else "right"
    return f"{vertical} {horizontal}"
