"""Pieces shared by the fake server's modules: error bodies, paging, JSON bodies."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.responses import JSONResponse, Response

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 409: "ALREADY_EXISTS",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}  # fmt: skip
CODES = {400: "invalid_request", 401: "unauthenticated", 403: "permission_denied",
         404: "not_found", 408: "deadline_exceeded", 409: "already_exists",
         429: "resource_exhausted", 500: "internal", 502: "bad_gateway", 503: "unavailable",
         504: "gateway_timeout"}  # fmt: skip


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": CODES.get(status, "error"), "message": message,
                      "status": STATUS_NAMES.get(status, "UNKNOWN")}}  # fmt: skip
    return JSONResponse(body, status_code=status, headers=headers)


class HTTPFail(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        raise HTTPFail(400, "body is not JSON") from None


def page(items: list[dict[str, Any]], key: str, query: dict[str, str]) -> Response:
    size = int(query.get("page_size") or query.get("pageSize") or 50)
    size = max(1, min(size, 1000))
    start = int(query.get("page_token") or 0)
    body: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        body["next_page_token"] = str(start + size)
    return JSONResponse(body)
