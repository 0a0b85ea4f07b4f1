"""Credentials that never show themselves, and the redaction used for logs and errors.

An API key or bearer token lives in a :class:`Credential`. Its ``repr``/``str`` print a
placeholder; the raw value is only read by :meth:`Credential.headers` when a request is
signed. Every secret a client holds is also registered with :data:`REDACTOR`, which scrubs
it from error messages, server bodies quoted in errors, and (through
:class:`RedactingFilter`) from log records of the ``workbench.client`` logger.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Generator
from typing import Any, Literal

import httpx

REDACTED = "***"

log = logging.getLogger("workbench.client")


class _Redactor:
    """Process-wide set of live secrets, scrubbed from any text passed through it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: weakref.WeakSet[Credential] = weakref.WeakSet()

    def register(self, credential: Credential) -> None:
        with self._lock:
            self._secrets.add(credential)

    def secrets(self) -> list[str]:
        with self._lock:
            values = [c.reveal() for c in self._secrets]
        # Longest first so a key that contains another key is removed whole.
        return sorted((v for v in values if v), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets():
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


REDACTOR = _Redactor()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    return REDACTOR.redact(text)


def redact_value(value: Any) -> Any:
    """Redact strings inside a JSON-like value (dicts, lists, strings)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Logging filter that removes registered secrets from a record's message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if REDACTOR.secrets():
            record.msg = redact(record.getMessage())
            record.args = None
        return True


_FILTER = RedactingFilter()
if not any(isinstance(f, RedactingFilter) for f in log.filters):
    log.addFilter(_FILTER)


class Credential(httpx.Auth):
    """An API key (``x-goog-api-key``) or an OAuth bearer token (``Authorization``).

    It is an :class:`httpx.Auth`, so the secret is added to each request as it is sent and
    never sits in the long-lived client's default headers. It is never put in a URL.
    """

    def __init__(self, value: str, kind: Literal["api_key", "bearer"] = "api_key") -> None:
        if not value:
            raise ValueError("a credential needs a non-empty value")
        if any(ch in value for ch in "\r\n"):
            raise ValueError("a credential must not contain line breaks")
        self._value = value
        self._kind: Literal["api_key", "bearer"] = kind
        REDACTOR.register(self)

    @classmethod
    def api_key(cls, key: str) -> Credential:
        return cls(key, "api_key")

    @classmethod
    def bearer(cls, token: str) -> Credential:
        return cls(token, "bearer")

    @property
    def kind(self) -> Literal["api_key", "bearer"]:
        return self._kind

    def reveal(self) -> str:
        """The raw secret. Only for signing requests."""
        return self._value

    def headers(self) -> dict[str, str]:
        if self._kind == "api_key":
            return {"x-goog-api-key": self._value}
        return {"authorization": f"Bearer {self._value}"}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # A header the caller set explicitly wins, as in the SDK (protocol.md §1.3).
        if "x-goog-api-key" not in request.headers and "authorization" not in request.headers:
            request.headers.update(self.headers())
        yield request

    def __repr__(self) -> str:
        return f"Credential(kind={self._kind!r}, value={REDACTED!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Credential cannot be pickled")
