"""The API key never appears in an exception, a log record, a repr or a URL."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable

import httpx
import pytest

from support.fake_server import FakeServer, Fault, Settings
from support.recorders import API_KEY
from workbench.client import (
    AuthenticationError,
    Client,
    Credential,
    WorkbenchAPIError,
)


def _assert_clean(text: str) -> None:
    assert API_KEY not in text
    assert API_KEY[4:-4] not in text


async def test_repr_of_client_and_credential() -> None:
    client = Client("http://127.0.0.1:9", api_key=API_KEY)
    try:
        _assert_clean(repr(client))
        _assert_clean(repr(client._transport))
        cred = Credential.api_key(API_KEY)
        _assert_clean(repr(cred) + str(cred) + f"{cred}")
        with pytest.raises(TypeError):
            pickle.dumps(cred)
    finally:
        await client.aclose()


async def test_errors_and_logs_never_show_the_key(
    make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    # The server is configured with another key and echoes the one it got in its message.
    with FakeServer(settings=Settings(api_key="the-right-key")) as server:
        client = make_client(server.url)
        with pytest.raises(AuthenticationError) as info:
            await client.interactions.create({"model": "gemini-3-flash-preview", "input": "x"})
        errors.append(info.value)
        assert "***" in info.value.message  # the echoed key was scrubbed
        server.settings.api_key = None
        server.add_fault(Fault("GET", "models", status=503, times=9, message=f"bad {API_KEY}"))
        with pytest.raises(WorkbenchAPIError) as info2:
            await client.models.list()
        errors.append(info2.value)
        requests = list(server.requests)
    dead = make_client("http://127.0.0.1:9")
    with pytest.raises(WorkbenchAPIError) as info3:
        await dead.agents.list()
    errors.append(info3.value)
    for err in errors:
        chain: BaseException | None = err
        while chain is not None:
            _assert_clean(str(chain))
            _assert_clean(repr(chain))
            if isinstance(chain, WorkbenchAPIError):
                _assert_clean(repr(chain.body))
            chain = chain.__cause__ or chain.__context__
    for record in caplog.records:
        _assert_clean(record.getMessage())
        _assert_clean(str(record.args))
    assert any("retry" in r.getMessage() for r in caplog.records)
    for req in requests:
        assert API_KEY not in req.path and API_KEY not in str(req.query)
        assert req.headers.get("x-goog-api-key") == API_KEY  # in the header, and only there


async def test_key_never_in_any_url() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={"agents": []})

    async with Client("http://h", api_key=API_KEY, transport=httpx.MockTransport(handler)) as c:
        await c.agents.list()
    assert urls and all(API_KEY not in u for u in urls)


def test_redacting_filter_scrubs_third_party_messages(caplog: pytest.LogCaptureFixture) -> None:
    cred = Credential.api_key(API_KEY)
    logger = logging.getLogger("workbench.client")
    with caplog.at_level(logging.INFO, logger="workbench.client"):
        logger.info("sending with %s", cred.reveal())
    assert caplog.records and all(API_KEY not in r.getMessage() for r in caplog.records)
