"""Fixtures for the client tests: a real fake server, a cutting proxy, fast clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from support.cut_proxy import CutProxy
from support.fake_server import FakeServer
from support.recorders import API_KEY, SleepRecorder
from workbench.client import Client, ResumePolicy, RetryPolicy


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@pytest.fixture
def server(_shared_server: FakeServer) -> Iterator[FakeServer]:
    """The session's fake server, reset to a clean state for this test."""
    _shared_server.reset()
    yield _shared_server
    _shared_server.reset()


@pytest.fixture
def proxy(server: FakeServer) -> Iterator[CutProxy]:
    with CutProxy("127.0.0.1", server.port) as prx:
        yield prx


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


FAST_RESUME = ResumePolicy(initial_delay=0.0, max_delay=0.0, poll_interval=0.01, max_attempts=4)


@pytest.fixture
async def make_client(sleeps: SleepRecorder) -> AsyncIterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(base_url: str, **kwargs: Any) -> Client:
        kwargs.setdefault("api_key", API_KEY)
        kwargs.setdefault("sleep", sleeps)
        kwargs.setdefault("resume", FAST_RESUME)
        kwargs.setdefault("retry", RetryPolicy())
        kwargs.setdefault("rng", lambda: 0.5)
        client = Client(base_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(server: FakeServer, make_client: Callable[..., Client]) -> Client:
    return make_client(server.url)
