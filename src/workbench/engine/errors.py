"""HTTP error responses in the protocol's one shape (protocol.md §10.1).

Every error the engine sends is ``{"error": {"code": "<string>", "message": …, "status": …}}``
with ``Content-Type: application/json``. Route code raises ``ApiError``; the handlers installed
by ``install_error_handlers`` turn it, FastAPI's validation errors, Starlette's 404/405 and any
unexpected exception into that shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

log = logging.getLogger("workbench.engine")

# HTTP status → (string code, classic status name)
_CODES: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "INVALID_ARGUMENT"),
    401: ("unauthenticated", "UNAUTHENTICATED"),
    403: ("permission_denied", "PERMISSION_DENIED"),
    404: ("not_found", "NOT_FOUND"),
    405: ("method_not_allowed", "UNIMPLEMENTED"),
    408: ("deadline_exceeded", "DEADLINE_EXCEEDED"),
    409: ("already_exists", "ALREADY_EXISTS"),
    413: ("payload_too_large", "INVALID_ARGUMENT"),
    415: ("invalid_request", "INVALID_ARGUMENT"),
    422: ("invalid_request", "INVALID_ARGUMENT"),
    429: ("resource_exhausted", "RESOURCE_EXHAUSTED"),
    500: ("internal", "INTERNAL"),
    501: ("unimplemented", "UNIMPLEMENTED"),
    503: ("unavailable", "UNAVAILABLE"),
    504: ("gateway_timeout", "DEADLINE_EXCEEDED"),
}


class ApiError(Exception):
    """A request failed; becomes an HTTP error response with the protocol body."""

    def __init__(self, http_status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.code = code or _CODES.get(http_status, ("error", "UNKNOWN"))[0]


def bad_request(message: str) -> ApiError:
    """400 ``invalid_request``."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """404 ``not_found``."""
    return ApiError(404, message)


def error_body(http_status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """The JSON body for an error of this HTTP status."""
    default_code, status = _CODES.get(http_status, ("error", "UNKNOWN"))
    return {"error": {"code": code or default_code, "message": message, "status": status}}


def error_response(
    http_status: int,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A complete JSON error response; 429 and 503 carry ``Retry-After``."""
    all_headers = dict(headers or {})
    if http_status in (429, 503):
        all_headers.setdefault("Retry-After", "1")
    return JSONResponse(
        error_body(http_status, message, code), status_code=http_status, headers=all_headers
    )


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "invalid request: " + ("; ".join(parts) or "malformed parameters")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error leaving ``app`` use the protocol's error body."""

    async def on_api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.http_status, exc.message, exc.code)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, _describe_validation(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and "/fileSearchStores" in request.url.path:
            message = (
                f"{request.method} {request.url.path}: the local engine has no File Search "
                "stores (so no file_search tool); send Files API files as document input instead"
            )
        elif exc.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, headers=dict(exc.headers or {}))

    async def on_unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, f"internal error: {type(exc).__name__}")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
