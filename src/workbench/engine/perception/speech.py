"""Speech to text with faster-whisper (CTranslate2) and the packaged Whisper base model.

The model is loaded on first use and unloaded when idle (``IdleModel``). Decoding settings are
chosen for a small CPU: int8 weights, greedy search (``beam_size=1``) and no conditioning on
the previous window (which keeps a short model from looping on its own output). The benchmark
(``benchmarks/perception.py``) calls faster-whisper directly with ``TRANSCRIBE_OPTIONS`` so the
two measurements compare like with like.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PerceptionUnavailable
from .lazy import IdleModel
from .whisper_files import INSTALL_HINT, ensure_whisper_model

TRANSCRIBE_OPTIONS: dict[str, Any] = {
    "beam_size": 1,
    "condition_on_previous_text": False,
    "vad_filter": False,
}


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: start and end in seconds, and its text."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What was said, when, and in which language."""

    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration: float

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments).strip()


def default_threads() -> int:
    """CPU threads for CTranslate2: the cores this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class Speech:
    """The speech recognizer.

    Args:
        models_dir: where the model folder is assembled from its packages.
        idle_seconds: unload the model after this long unused.
        threads: CTranslate2 CPU threads.
    """

    def __init__(self, models_dir: Path, idle_seconds: float, threads: int | None = None) -> None:
        self.models_dir = models_dir
        self.threads = threads or default_threads()
        self.model: IdleModel[Any] = IdleModel("speech", self._load, idle_seconds)

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise PerceptionUnavailable(
                f"Speech recognition needs faster-whisper; install it with: {INSTALL_HINT}"
            ) from exc
        folder = ensure_whisper_model(self.models_dir)
        return WhisperModel(
            str(folder),
            device="cpu",
            compute_type="int8",
            cpu_threads=self.threads,
            local_files_only=True,
        )

    def transcribe(self, samples: Any) -> Transcript:
        """Transcribe 16 kHz mono float32 samples (blocking: seconds per minute of audio)."""
        with self.model.use() as model:
            segments, info = model.transcribe(samples, **TRANSCRIBE_OPTIONS)
            found = tuple(
                Segment(float(s.start), float(s.end), str(s.text).strip())
                for s in segments
                if str(s.text).strip()
            )
        return Transcript(
            segments=found,
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration=float(info.duration),
        )
