"""The two ways perception fails, kept apart so callers can answer each honestly.

``MediaError`` means the bytes themselves are the problem (truncated, not what the MIME type
says, a codec that cannot be decoded): the request is at fault, 400. ``PerceptionUnavailable``
means this engine lacks a component (a model package, a library): the engine is at fault, and
the message says what to install.
"""

from __future__ import annotations


class MediaError(ValueError):
    """The media cannot be read: its message says what is wrong and what would work."""


class PerceptionUnavailable(RuntimeError):
    """A perception component is not installed; the message names the install step."""
