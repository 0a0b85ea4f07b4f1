"""The one long-lived HTTP connection pool, URL building and the retry loop.

URLs are ``{base}/{v}/{path}`` (``{base}/upload/{v}/{path}`` for upload handshakes), where
``base`` keeps any path prefix and loses a trailing ``/``, and ``v`` may itself contain
slashes (``v1beta1/projects/P/locations/L``). The credential is added per request by
:class:`~workbench.client.credentials.Credential` (an ``httpx.Auth``), never put in a URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._version import __version__
from .credentials import Credential, redact
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ProtocolViolationError,
    WorkbenchAPIError,
    error_from_response,
)
from .retry import (
    Idempotency,
    RetryPolicy,
    parse_retry_after,
    request_never_sent,
    status_is_retryable,
    transport_error_is_retryable,
)

log = logging.getLogger("workbench.client")

Sleep = Callable[[float], Awaitable[None]]
Params = Mapping[str, str | int | bool | None]

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=30.0)
"""Per request. ``read`` is the longest silence tolerated; streams get a keep-alive every 15 s."""

USER_AGENT = f"workbench/{__version__} httpx/{httpx.__version__}"


def normalize_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("base_url must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError("base_url must not carry a query or fragment (never put a key in a URL)")
    if parts.username or parts.password:
        raise ValueError("base_url must not carry credentials")
    return base_url.strip().rstrip("/")


def normalize_api_version(api_version: str) -> str:
    version = api_version.strip().strip("/")
    if not version or any(ch in version for ch in "?#") or ".." in version.split("/"):
        raise ValueError(f"invalid api_version {api_version!r}")
    return version


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_params(params: Params | None) -> dict[str, str]:
    """Query parameters with lowercase booleans and ``None`` left out."""
    if not params:
        return {}
    return {k: _query_value(v) for k, v in params.items() if v is not None}


def encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON object of a successful reply, or :class:`ProtocolViolationError`."""
    content_type = response.headers.get("content-type", "")
    try:
        value = json.loads(response.content)
    except ValueError:
        kind = "an HTML page" if "html" in content_type.lower() else "malformed JSON"
        raise ProtocolViolationError(
            f"{what}: the server sent {kind} instead of a JSON object "
            f"(HTTP {response.status_code}, content-type {content_type or 'missing'!r}).",
            status=response.status_code,
        ) from None
    if not isinstance(value, dict):
        raise ProtocolViolationError(
            f"{what}: expected a JSON object, got {type(value).__name__}.",
            status=response.status_code,
        )
    return value


class Transport:
    """Owns the ``httpx.AsyncClient``; sends requests with the retry policy applied."""

    def __init__(
        self,
        base_url: str,
        api_version: str,
        credential: Credential | None,
        *,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.api_version = normalize_api_version(api_version)
        self.credential = credential
        self.retry = retry or RetryPolicy()
        self.sleep: Sleep = sleep or asyncio.sleep
        self.rng: Callable[[], float] = rng or random.random
        default_headers = {"user-agent": USER_AGENT}
        for name, value in (headers or {}).items():
            default_headers[name.lower()] = value
        self._client = httpx.AsyncClient(
            auth=credential,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            headers=default_headers,
            transport=http_transport,
            follow_redirects=False,
            trust_env=False,
        )

    # -- URLs ---------------------------------------------------------------------------

    def url(self, path: str, *, upload: bool = False) -> str:
        prefix = "upload/" if upload else ""
        return f"{self.base_url}/{prefix}{self.api_version}/{path.lstrip('/')}"

    def rebase(self, absolute_url: str) -> str:
        """An absolute server URL with scheme and host replaced by ours (as the SDK does, §9.7)."""
        parts = urlsplit(absolute_url)
        if not parts.scheme:
            path = absolute_url if absolute_url.startswith("/") else "/" + absolute_url
            return f"{self._origin()}{path}"
        query = f"?{parts.query}" if parts.query else ""
        return f"{self._origin()}{parts.path}{query}"

    def _origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    # -- sending ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency: Idempotency = Idempotency.SAFE,
        what: str = "",
        upload: bool = False,
        url: str | None = None,
        stream: bool = False,
        accept: str = "application/json",
        request_timeout: httpx.Timeout | None = None,
        expect_redirect: bool = False,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise a typed error.

        With ``stream=True`` the body is not read: the caller owns the open response and
        must ``aclose()`` it. Error replies are always read and closed here.
        """
        target = url or self.url(path, upload=upload)
        req_headers: dict[str, str] = {"accept": accept}
        body_bytes = content
        if json_body is not None:
            body_bytes = encode_json(json_body)
            req_headers["content-type"] = "application/json"
        if headers:
            req_headers.update(headers)
        label = what or f"{method} {path}"
        query = encode_params(params)
        policy = self.retry
        attempt = 0
        while True:
            request = self._client.build_request(
                method,
                target,
                params=query or None,
                content=body_bytes,
                headers=req_headers,
                timeout=request_timeout
                if request_timeout is not None
                else httpx.USE_CLIENT_DEFAULT,
            )
            try:
                response = await self._client.send(
                    request,
                    stream=stream,
                    auth=httpx.USE_CLIENT_DEFAULT if authenticate else None,
                )
            except httpx.TransportError as exc:
                error = _transport_error(exc, label)
                if idempotency is Idempotency.CREATE and isinstance(error, APIConnectionError):
                    error.resend_refused = not request_never_sent(exc)
                if attempt < policy.max_retries and transport_error_is_retryable(exc, idempotency):
                    delay = policy.backoff(attempt, self.rng)
                    self._log_retry(label, attempt, delay, type(exc).__name__)
                    await self.sleep(delay)
                    attempt += 1
                    continue
                raise error from exc
            status = response.status_code
            if 200 <= status < 300 or (expect_redirect and 300 <= status < 400):
                return response
            try:
                raw = await response.aread()
            except httpx.TransportError as exc:
                raw = b""
                log.debug("%s: error body could not be read: %s", label, type(exc).__name__)
            finally:
                await response.aclose()
            retry_after = parse_retry_after(response.headers)
            if 300 <= status < 400:
                raise ProtocolViolationError(
                    f"{label}: unexpected redirect (HTTP {status}).", status=status
                )
            err = error_from_response(
                status,
                raw,
                response.headers.get("content-type", ""),
                retry_after=retry_after,
                what=label,
            )
            if attempt < policy.max_retries and status_is_retryable(status, idempotency):
                if retry_after is None:
                    delay = policy.backoff(attempt, self.rng)
                elif retry_after <= policy.max_retry_after:
                    delay = retry_after
                else:
                    raise err
                self._log_retry(label, attempt, delay, f"HTTP {status}")
                await self.sleep(delay)
                attempt += 1
                continue
            raise err

    def _log_retry(self, label: str, attempt: int, delay: float, reason: str) -> None:
        log.info("%s failed (%s); retry %d in %.2f s", label, reason, attempt + 1, delay)

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    def __repr__(self) -> str:
        auth = self.credential.kind if self.credential else "none"
        return (
            f"Transport(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"auth={auth!r})"
        )


def _transport_error(exc: httpx.TransportError, label: str) -> WorkbenchAPIError:
    detail = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"{label}: the request timed out ({detail}).")
    return APIConnectionError(f"{label}: the connection failed ({detail}).")


def connection_error(exc: BaseException, label: str) -> WorkbenchAPIError:
    """Typed error for a transport failure while reading a stream."""
    if isinstance(exc, httpx.TransportError):
        return _transport_error(exc, label)
    return APIConnectionError(f"{label}: {type(exc).__name__}.")
