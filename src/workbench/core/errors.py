"""Failures in plain words, with what to do next."""

from __future__ import annotations

import re

from workbench.client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolViolationError,
    RateLimitError,
    ServerError,
    WorkbenchAPIError,
)

ClientError = WorkbenchAPIError
"""Every error the client raises for a server's answer (for views that may not import it)."""

_LABEL = re.compile(r"^[a-z][\w ().:/-]{0,60}?: (?=\S)")
"""The ``"create interaction (stream): "`` the client puts before its own words."""


def _message(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return _LABEL.sub("", str(msg if msg else exc).strip(), count=1).rstrip(".")


def _server_message(exc: BaseException) -> str | None:
    """The server's own ``error.message``, when it sent one (already redacted)."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message.strip().rstrip(".") if isinstance(message, str) and message.strip() else None


_WHERE = re.compile(r"^(?:[A-Za-z_][\w-]*(?:\[\d+\])*)(?:\.[A-Za-z_][\w-]*(?:\[\d+\])*)*: ")
"""A field path the server put before its words (``steps[0].content[1]: ``): for details."""


def split_location(message: str) -> tuple[str, str]:
    """``("steps[0].content[1]", "model … cannot read image content")`` from a server message."""
    match = _WHERE.match(message)
    if not match:
        return "", message
    return match.group(0)[:-2], message[match.end() :]


def details(exc: BaseException) -> str:
    """The technical side of a failure (status, field path, the server's exact words).

    Shown in a details expander under the plain-words message of :func:`explain`, never
    instead of it.
    """
    parts: list[str] = []
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        parts.append(f"HTTP {status}")
    told = _server_message(exc)
    if told:
        where, _ = split_location(told)
        if where:
            parts.append(f"at {where}")
        parts.append(f"server said: {told}")
    elif not isinstance(exc, APIConnectionError | APITimeoutError):
        parts.append(f"{type(exc).__name__}: {_message(exc)}")
    return " · ".join(parts)


def _not_json(exc: BaseException) -> str | None:
    """How a reply that was not an API error looked: "an HTML page", "a non-JSON body"."""
    body = getattr(exc, "body", None)
    if isinstance(body, str) and body.strip():
        return "an HTML page" if "<html" in body[:500].lower() else "an unreadable answer"
    return None


def explain(exc: BaseException, server: str = "the server") -> str:
    """One or two sentences for the user: what went wrong and what to do about it."""
    if isinstance(exc, APITimeoutError) and exc.resend_refused:
        return (
            f"{server} did not answer in time. Workbench did not send the request again, so it "
            "cannot run twice, but it may have started there. Try again; if it keeps "
            "happening, check the server."
        )
    if isinstance(exc, APITimeoutError):
        return f"{server} did not answer in time. Try again; if it keeps happening, check it."
    if isinstance(exc, APIConnectionError) and exc.resend_refused:
        return (
            f"The connection to {server} broke after the request went out, before its answer "
            "arrived. Workbench did not send it again, so it cannot run twice, but it may have "
            "started there. Check the server, then send again if nothing arrives."
        )
    if isinstance(exc, APIConnectionError):
        return f"Could not reach {server}. Check your network or that the server runs, then retry."
    if isinstance(exc, AuthenticationError):
        return "The server refused the API key. Enter a valid key in Settings (Ctrl+,)."
    if isinstance(exc, PermissionDeniedError):
        return f"The key may not do this: {_message(exc)}"
    if isinstance(exc, NotFoundError):
        return (
            f"The server does not know this model, agent or conversation ({_message(exc)}). "
            "Pick another target, or start a new session."
        )
    if isinstance(exc, RateLimitError):
        return "Too many requests for now. Wait a minute, then send again."
    if isinstance(exc, InvalidRequestError):
        _where, said = split_location(_server_message(exc) or _message(exc))
        return (
            f"The server refused the request: {said}. Change the message or the run "
            "settings, then send again."
        )
    if isinstance(exc, ServerError):
        told, status = _server_message(exc), exc.status
        if told:
            return f"The server had a problem (HTTP {status}): {told}. Try again in a moment."
        sent = _not_json(exc) or "no explanation"
        return (
            f"The server had a problem (HTTP {status}) and sent {sent} instead of an API "
            "answer. Try again in a moment; if it keeps happening, check the server address "
            "in Settings (a proxy or gateway may be in the way)."
        )
    if isinstance(exc, ProtocolViolationError):
        return (
            f"The server sent something Workbench cannot read: {_message(exc)}. Check that "
            "the profile points at a Gemini-compatible server, then try again."
        )
    if isinstance(exc, APIStatusError | WorkbenchAPIError):
        return f"The request failed: {_message(exc)}"
    if isinstance(exc, ValueError):
        return f"{exc}."
    return f"Something went wrong: {type(exc).__name__}: {exc}"
