"""Failures in plain words, with what to do next."""

from __future__ import annotations

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


def _message(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return str(msg if msg else exc).strip()


def explain(exc: BaseException, server: str = "the server") -> str:
    """One or two sentences for the user: what went wrong and what to do about it."""
    if isinstance(exc, APITimeoutError):
        return f"{server} did not answer in time. Try again; if it keeps happening, check it."
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
        return f"The server refused the request: {_message(exc)}. Adjust the run settings."
    if isinstance(exc, ServerError):
        return f"The server had a problem ({_message(exc)}). Try again in a moment."
    if isinstance(exc, ProtocolViolationError):
        return f"The server sent something Workbench cannot read: {_message(exc)}"
    if isinstance(exc, APIStatusError | WorkbenchAPIError):
        return f"The request failed: {_message(exc)}"
    if isinstance(exc, ValueError):
        return f"{exc}."
    return f"Something went wrong: {type(exc).__name__}: {exc}"
