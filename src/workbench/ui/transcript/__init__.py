"""The transcript: turns rendered as rich text, repainted on a timer while streaming."""

from .view import TranscriptView, TurnEntry

__all__ = ["TranscriptView", "TurnEntry"]
