"""Typed errors for every status, and for answers that are not the protocol."""

from __future__ import annotations

import pytest

from support.fake_server import FakeServer, Fault
from workbench.client import (
    APITimeoutError,
    AuthenticationError,
    Client,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolViolationError,
    RateLimitError,
    ServerError,
    WorkbenchAPIError,
)
from workbench.client.errors import error_from_response


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, InvalidRequestError, "invalid_request"),
        (401, AuthenticationError, "unauthenticated"),
        (403, PermissionDeniedError, "permission_denied"),
        (404, NotFoundError, "not_found"),
        (408, APITimeoutError, "deadline_exceeded"),
        (409, ConflictError, "already_exists"),
        (422, InvalidRequestError, None),
        (429, RateLimitError, "resource_exhausted"),
        (500, ServerError, "internal"),
        (503, ServerError, "unavailable"),
    ],
)
async def test_status_maps_to_typed_error(
    server: FakeServer, client: Client, status: int, cls: type[WorkbenchAPIError], code: str | None
) -> None:
    server.add_fault(
        Fault("DELETE", "agents/a", status=status, times=9, message="the server said no")
    )
    with pytest.raises(cls) as info:
        await client.agents.delete("a")
    err = info.value
    assert err.status == status
    if code is not None:
        assert err.code == code
    assert "the server said no" in err.message
    assert str(err).startswith(f"[HTTP {status}")


async def test_real_not_found_from_the_server(client: Client) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.interactions.get("v1_missing")
    assert info.value.code == "not_found"
    assert "v1_missing" in info.value.message


async def test_invalid_request_from_the_server(client: Client) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await client.interactions.create({"model": "gemini-3-flash-preview"})
    assert info.value.code == "invalid_request"


def test_numeric_code_and_status_are_kept() -> None:
    body = b'{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}'
    err = error_from_response(429, body, "application/json", retry_after=7)
    assert isinstance(err, RateLimitError)
    assert err.code == 429 and err.retry_after == 7
    assert "Quota exceeded" in str(err)


async def test_html_error_page_keeps_the_status_class(server: FakeServer, client: Client) -> None:
    server.add_fault(Fault("GET", "agents/a", status=502, kind="html", times=9))
    with pytest.raises(ServerError) as info:
        await client.agents.get("a")
    assert "HTML page" in info.value.message
    assert info.value.code is None


async def test_html_page_with_200_is_a_protocol_violation(
    server: FakeServer, client: Client
) -> None:
    server.add_fault(Fault("GET", "agents/a", status=200, kind="html"))
    with pytest.raises(ProtocolViolationError, match="HTML page"):
        await client.agents.get("a")


async def test_malformed_json_with_200_is_a_protocol_violation(
    server: FakeServer, client: Client
) -> None:
    server.add_fault(Fault("POST", "interactions", status=200, kind="malformed"))
    with pytest.raises(ProtocolViolationError, match="malformed JSON"):
        await client.interactions.create({"model": "gemini-3-flash-preview", "input": "x"})


async def test_malformed_error_body_still_typed(server: FakeServer, client: Client) -> None:
    server.add_fault(Fault("GET", "agents/a", status=403, kind="malformed"))
    with pytest.raises(PermissionDeniedError) as info:
        await client.agents.get("a")
    assert "non-JSON" in info.value.message


def test_every_error_is_a_workbench_error() -> None:
    for cls in (AuthenticationError, ServerError, ProtocolViolationError, APITimeoutError):
        assert issubclass(cls, WorkbenchAPIError)
