"""Perception: what a text-only local model receives instead of images, audio, video, documents.

* ``service``       — ``Perception``: one entry per media kind → ``Derived`` (text + note);
* ``speech``        — faster-whisper transcription (timestamps, language);
* ``ocr``           — RapidOCR text lines with boxes, image format facts;
* ``av_media``      — PyAV decoding: probe, audio track at 16 kHz, sampled video frames;
* ``documents``     — docx / xlsx / pptx / html / epub → Markdown;
* ``framing``       — the wording the model receives and the ``thought`` note;
* ``cache``         — derived text by content hash (memory + disk);
* ``lazy``          — load on first use, unload when idle;
* ``whisper_files`` — joining and verifying the packaged speech model.

The engine has one ``Perception`` (``install`` at startup, ``current`` everywhere else), so the
models and the cache are shared by every interaction and every agent turn.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import MediaError, PerceptionUnavailable
from .service import DEFAULT_IDLE_SECONDS, Derived, Perception

__all__ = [
    "DEFAULT_IDLE_SECONDS",
    "Derived",
    "MediaError",
    "Perception",
    "PerceptionUnavailable",
    "current",
    "install",
    "models_dir_for",
]

MODELS_DIR_ENV = "WORKBENCH_MODELS_DIR"
"""Overrides where packaged models are assembled (tests share one folder across engines)."""

_current: Perception | None = None
_guard = threading.Lock()


def models_dir_for(data_dir: Path) -> Path:
    """Where packaged models are assembled for an engine whose data lives in ``data_dir``."""
    override = os.environ.get(MODELS_DIR_ENV)
    return Path(override).expanduser() if override else data_dir / "models"


def install(data_dir: Path, *, idle_seconds: float = DEFAULT_IDLE_SECONDS) -> Perception:
    """Make the engine's ``Perception`` (cache under ``data_dir/perception``) current."""
    global _current
    perception = Perception(
        models_dir_for(data_dir), data_dir / "perception", idle_seconds=idle_seconds
    )
    with _guard:
        old, _current = _current, perception
    if old is not None:
        old.unload()
    return perception


def current() -> Perception:
    """The engine's ``Perception``; outside an engine, one with a memory-only cache."""
    global _current
    with _guard:
        if _current is None:
            home = os.environ.get("WORKBENCH_HOME")
            if not home:
                import platformdirs

                home = platformdirs.user_data_dir("workbench", appauthor=False)
            _current = Perception(models_dir_for(Path(home).expanduser()), None)
        return _current
