"""Typed errors of the client.

Every error is a :class:`WorkbenchAPIError` and carries ``status`` (the HTTP status, or
``None`` when no response arrived), ``code`` (the server's ``error.code``, a string on the
Interactions API and a number on Google's classic front end), ``message`` (the server's
message, or a plain description) and ``retry_after`` (seconds the server asked to wait).
The class is chosen from the HTTP status alone, like the SDK does (protocol.md §10.1).
All text is passed through the redactor, so no secret can appear in ``str``/``repr``.
"""

from __future__ import annotations

import json
from typing import Any

from .credentials import redact, redact_value


class WorkbenchAPIError(Exception):
    """Base of every error raised by :mod:`workbench.client`."""

    default_message = "The request failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        self.message = redact(message or self.default_message)
        self.status = status
        self.code = code if not isinstance(code, str) else redact(code)
        self.retry_after = retry_after
        self.body = redact_value(body)
        super().__init__(self.message)

    def __str__(self) -> str:
        parts: list[str] = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code is not None:
            parts.append(str(self.code))
        prefix = f"[{' '.join(parts)}] " if parts else ""
        return f"{prefix}{self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, retry_after={self.retry_after!r})"
        )


class APIStatusError(WorkbenchAPIError):
    """The server answered with an error status."""


class InvalidRequestError(APIStatusError):
    """400 (and any other 4xx without a class of its own): the request was not acceptable."""

    default_message = "The server rejected the request as invalid."


class AuthenticationError(APIStatusError):
    """401: the credential is missing or wrong."""

    default_message = "The server did not accept the API key or token."


class PermissionDeniedError(APIStatusError):
    """403: the credential is valid but may not do this."""

    default_message = "The credential is not allowed to do this."


class NotFoundError(APIStatusError):
    """404: no such interaction, agent, environment, file or model."""

    default_message = "The requested resource does not exist."


class ConflictError(APIStatusError):
    """409: e.g. an agent with this id already exists, or an upload target exists."""

    default_message = "The request conflicts with the current state of the resource."


class RateLimitError(APIStatusError):
    """429: too many requests or quota exhausted; see ``retry_after``."""

    default_message = "Too many requests; the server asked to slow down."


class ServerError(APIStatusError):
    """5xx: the server failed."""

    default_message = "The server failed to handle the request."


class APIConnectionError(WorkbenchAPIError):
    """No usable response: the connection failed or dropped.

    ``resend_refused`` is true when a create may have reached the server (the connection broke
    after the request went out, before anything identified the new interaction): the client
    did not send it again, so it cannot run twice, but it may have started there.
    """

    default_message = "Could not reach the server."
    resend_refused: bool = False


class APITimeoutError(APIConnectionError):
    """The request timed out (on our side, or a 408 from the server)."""

    default_message = "The request timed out."


class ProtocolViolationError(WorkbenchAPIError):
    """The server answered something that is not the protocol (HTML page, bad JSON, …)."""

    default_message = "The server's reply does not follow the protocol."


class ContinuationInterruptedError(WorkbenchAPIError):
    """Automatic continuation (protocol.md §6.7) failed after some hops had completed.

    ``partial`` holds the merged wire dict of the hops so far, ``continuation_token`` the
    token to resume from and ``interaction_id`` the hop that issued it.
    """

    default_message = "Automatic continuation was interrupted."

    def __init__(
        self,
        message: str | None = None,
        *,
        partial: dict[str, Any] | None = None,
        continuation_token: str | None = None,
        interaction_id: str | None = None,
        continuation_ids: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.partial = partial
        self.continuation_token = continuation_token
        self.interaction_id = interaction_id
        self.continuation_ids = list(continuation_ids or [])


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitError,
}

_PLAIN_WORDS: dict[int, str] = {
    400: "The server rejected the request as invalid",
    401: "The server did not accept the API key or token",
    403: "The credential is not allowed to do this",
    404: "Not found",
    408: "The server timed out waiting for the request",
    409: "Conflict with the current state of the resource",
    422: "The server could not process the request",
    429: "Too many requests; the server asked to slow down",
}


def error_class_for(status: int) -> type[WorkbenchAPIError]:
    if status == 408:
        return APITimeoutError
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, InvalidRequestError)


def _parse_error_body(raw: bytes, content_type: str) -> tuple[Any, str | int | None, str | None]:
    """(body, code, message) from an error reply; tolerant of any shape."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        return text[:2000], None, None
    code: str | int | None = None
    message: str | None = None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            raw_code = err.get("code")
            if isinstance(raw_code, str | int) and not isinstance(raw_code, bool):
                code = raw_code
            raw_status = err.get("status")
            if code is None and isinstance(raw_status, str):
                code = raw_status
            raw_msg = err.get("message")
            if isinstance(raw_msg, str):
                message = raw_msg
        elif isinstance(err, str):
            message = err
    return body, code, message


def error_from_response(
    status: int,
    raw_body: bytes,
    content_type: str,
    *,
    retry_after: float | None = None,
    what: str = "",
) -> WorkbenchAPIError:
    """The typed error for an HTTP error reply.

    A non-JSON body (an HTML error page from a proxy, say) still gives the class of the
    status, with a message that says the body was not JSON.
    """
    body, code, message = _parse_error_body(raw_body, content_type)
    cls = error_class_for(status)
    words = _PLAIN_WORDS.get(status) or (
        "The server failed" if status >= 500 else f"The request failed with HTTP {status}"
    )
    if message:
        text = f"{words}: {message}"
    elif isinstance(body, str) and body.strip():
        kind = "an HTML page" if "<html" in body[:500].lower() else "a non-JSON body"
        text = f"{words} (the server sent {kind} instead of a JSON error)"
    else:
        text = f"{words}."
    if what:
        text = f"{what}: {text}"
    return cls(text, status=status, code=code, retry_after=retry_after, body=body)
