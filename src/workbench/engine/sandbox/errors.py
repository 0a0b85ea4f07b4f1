"""Typed failures of the sandbox layer, each carrying the HTTP status the route layer sends.

The sandbox does not import the web stack; a route catches ``SandboxError`` and answers
``error.http_status`` with ``error.message`` (and ``error.code`` when set) in the protocol's
error body (protocol.md §10.1).
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every sandbox failure.

    Attributes:
        message: a plain sentence for the caller (safe to show; never contains host paths).
        http_status: the status the route layer should answer with.
        code: the protocol error code, when it differs from the status's default.
    """

    http_status: int = 400
    code: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(SandboxError):
    """The request is malformed or asks for something unsupported (400 ``invalid_request``)."""


class SandboxPathError(InvalidRequest):
    """A path is malformed or leads outside the environment (400)."""


class NotFound(SandboxError):
    """The environment, file or upload session does not exist (404 ``not_found``)."""

    http_status = 404


class Conflict(SandboxError):
    """The target exists and overwriting was not asked for (409 ``already_exists``)."""

    http_status = 409
    code = "already_exists"


class Unavailable(SandboxError):
    """A capability is missing on this machine, e.g. the isolation tool (503)."""

    http_status = 503
