"""The transcript: turns rendered as rich text, repainted on a timer while streaming."""

from .entry import TurnEntry
from .view import TranscriptView

__all__ = ["TranscriptView", "TurnEntry"]
