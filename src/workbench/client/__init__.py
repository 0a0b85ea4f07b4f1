"""Async client for the Gemini Interactions API (and the local engine).

``Client`` is the entry point; see ``docs`` in each module for the exact retry
(:mod:`.retry`), resume (:mod:`.resume`) and continuation (:mod:`.continuation`) rules.
"""

from ._client import Client
from ._version import __version__
from .credentials import Credential, RedactingFilter, redact
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    ContinuationInterruptedError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolViolationError,
    RateLimitError,
    ServerError,
    WorkbenchAPIError,
)
from .models import ModelInfo
from .retry import Idempotency, ResumePolicy, RetryPolicy
from .streams import InteractionSnapshot, InteractionStream, StreamItem

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "ContinuationInterruptedError",
    "Credential",
    "Idempotency",
    "InteractionSnapshot",
    "InteractionStream",
    "InvalidRequestError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolViolationError",
    "RateLimitError",
    "RedactingFilter",
    "ResumePolicy",
    "RetryPolicy",
    "ServerError",
    "StreamItem",
    "WorkbenchAPIError",
    "__version__",
    "redact",
]
