"""Plain-language ``BackendError``s for what an OpenAI-compatible server does wrong.

Apart from the backend (``openai_compat``) so the mapping of every failure to one error code
reads as a table: ``unavailable`` (cannot connect, dropped connection, timeout),
``unauthenticated`` (401/403), ``not_found`` (404, unknown model), ``resource_exhausted``
(429), ``invalid_request`` (other 4xx), ``internal`` (garbage answers, 5xx). Every message
names the server's base URL, and the server's own error text when it sent one.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from workbench.engine.backends.base import BackendError

ERROR_TEXT_LIMIT = 300
"""How many characters of a server's text (an error body, bad arguments) a message quotes."""


def server_message(response: httpx.Response) -> str:
    """The error text a server sent, from ``{"error": {"message": …}}`` or the raw body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message: Any = body
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message", body)))
        message = error.get("message", error) if isinstance(error, dict) else error
    text = message if isinstance(message, str) else json.dumps(message)
    text = " ".join(text.split())
    return text[:ERROR_TEXT_LIMIT] or f"HTTP {response.status_code}"


def garbage_error(base_url: str, what: str) -> BackendError:
    """The server sent ``what`` (something no chat-completions server sends)."""
    return BackendError(
        f"The model server at {base_url} sent {what}; is it an OpenAI-compatible "
        "chat-completions server?",
        code="internal",
    )


def transport_error(base_url: str, exc: httpx.HTTPError) -> BackendError:
    """No answer: cannot connect, timed out, or the connection broke."""
    if isinstance(exc, httpx.ConnectError):
        return BackendError(
            f"Cannot connect to the model server at {base_url} (is it running?).",
            code="unavailable",
        )
    if isinstance(exc, httpx.TimeoutException):
        return BackendError(
            f"The model server at {base_url} did not answer in time.",
            code="unavailable",
        )
    return BackendError(
        f"The connection to the model server at {base_url} failed: "
        f"{type(exc).__name__}{': ' + str(exc) if str(exc) else ''}.",
        code="unavailable",
    )


def status_error(base_url: str, resp: httpx.Response, model: str) -> BackendError:
    """An answer with a non-200 status (asking for ``model``)."""
    status = resp.status_code
    detail = server_message(resp)
    if status in (401, 403):
        return BackendError(
            f"The model server at {base_url} refused the API key ({status}): {detail}",
            code="unauthenticated",
        )
    if status == 404:
        return BackendError(
            f"The model server at {base_url} has no model '{model}' (404): {detail}",
            code="not_found",
        )
    if status == 429:
        return BackendError(
            f"The model server at {base_url} is busy (429): {detail}",
            code="resource_exhausted",
        )
    if 400 <= status < 500:
        return BackendError(
            f"The model server at {base_url} rejected the request ({status}): {detail}",
            code="invalid_request",
        )
    return BackendError(
        f"The model server at {base_url} failed ({status}): {detail}",
        code="internal",
    )
