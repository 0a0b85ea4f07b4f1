"""Retries: which failures, how many, how long, and never a second generation."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from support.fake_server import FakeServer, Fault
from support.recorders import SleepRecorder
from workbench.client import (
    APIConnectionError,
    APITimeoutError,
    Client,
    ConflictError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from workbench.client.retry import parse_retry_after

BODY = {"model": "gemini-3-flash-preview", "input": "hello"}


def test_backoff_schedule_and_jitter() -> None:
    policy = RetryPolicy()
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert [policy.backoff(n, lambda: 0.0) for n in range(3)] == [0.375, 0.75, 1.5]


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": when}, now=1_000_000) == 30.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


async def test_get_retries_5xx_with_exponential_backoff(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    inter = await client.interactions.create(BODY)
    server.add_fault(Fault("GET", "interactions/.*", status=500, times=3))
    got = await client.interactions.get(inter.id)
    assert got.id == inter.id
    assert server.count("GET", "interactions/.*") == 4
    assert sleeps.delays == [0.5 * 0.875, 1.0 * 0.875, 2.0 * 0.875]  # rng fixed at 0.5


async def test_gives_up_after_four_retries(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    server.add_fault(Fault("GET", "agents/a1", status=502, times=10))
    with pytest.raises(ServerError) as info:
        await client.agents.get("a1")
    assert info.value.status == 502
    assert server.count("GET", "agents/a1") == 5
    assert len(sleeps.delays) == 4


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503, 504])
async def test_get_retries_each_retryable_status(
    server: FakeServer, client: Client, status: int
) -> None:
    await client.agents.create({"id": "helper"})
    server.add_fault(Fault("GET", "agents/helper", status=status, times=2))
    agent = await client.agents.get("helper")
    assert agent.id == "helper"
    assert server.count("GET", "agents/helper") == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_get_does_not_retry_client_errors(
    server: FakeServer, client: Client, status: int
) -> None:
    server.add_fault(Fault("GET", "agents/x", status=status, times=3))
    with pytest.raises(Exception):  # noqa: B017 - the class is checked in test_client_errors
        await client.agents.get("x")
    assert server.count("GET", "agents/x") == 1


async def test_retry_after_seconds_is_honoured(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    server.add_fault(Fault("GET", "models", status=429, times=2, headers={"Retry-After": "3"}))
    models = await client.models.list()
    assert len(models) == 5
    assert sleeps.delays == [3.0, 3.0]


async def test_retry_after_ms_is_honoured(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    server.add_fault(
        Fault("GET", "models", status=503, times=1, headers={"retry-after-ms": "1250"})
    )
    await client.models.list()
    assert sleeps.delays == [1.25]


async def test_retry_after_http_date_is_honoured(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    server.add_fault(Fault("GET", "models", status=429, times=1, headers={"Retry-After": when}))
    await client.models.list()
    assert len(sleeps.delays) == 1 and 17 <= sleeps.delays[0] <= 20


async def test_retry_after_longer_than_the_cap_is_raised_not_slept(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    server.add_fault(Fault("GET", "models", status=429, times=1, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as info:
        await client.models.list()
    assert info.value.retry_after == 3600
    assert sleeps.delays == []


@pytest.mark.parametrize("status", [429, 503])
async def test_create_is_retried_on_429_and_503(
    server: FakeServer, client: Client, status: int
) -> None:
    server.add_fault(
        Fault("POST", "interactions", status=status, times=2, headers={"Retry-After": "1"})
    )
    inter = await client.interactions.create(BODY)
    assert inter.status == "completed"
    assert server.count("POST", "interactions") == 3
    assert len(server.interactions) == 1  # one generation


@pytest.mark.parametrize("status", [408, 409, 500, 502, 504])
async def test_create_is_not_retried_on_other_statuses(
    server: FakeServer, client: Client, status: int
) -> None:
    server.add_fault(Fault("POST", "interactions", status=status, times=3))
    with pytest.raises(Exception):  # noqa: B017
        await client.interactions.create(BODY)
    assert server.count("POST", "interactions") == 1


async def test_streaming_create_retries_429_before_the_stream_starts(
    server: FakeServer, client: Client, sleeps: SleepRecorder
) -> None:
    server.add_fault(
        Fault("POST", "interactions", status=429, times=1, headers={"retry-after-ms": "10"})
    )
    items = await client.interactions.create_stream(BODY).collect()
    assert len(items) > 3
    assert server.count("POST", "interactions") == 2
    assert sleeps.delays == [0.01]


async def test_agent_create_conflict_is_never_retried(server: FakeServer, client: Client) -> None:
    await client.agents.create({"id": "dup"})
    with pytest.raises(ConflictError) as info:
        await client.agents.create({"id": "dup"})
    assert info.value.code == "already_exists"
    assert server.count("POST", "agents") == 2


def _refusing_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


async def test_create_is_retried_when_the_connection_is_refused(
    make_client: Callable[..., Client], sleeps: SleepRecorder
) -> None:
    client = make_client(f"http://127.0.0.1:{_refusing_port()}")
    with pytest.raises(APIConnectionError) as info:
        await client.interactions.create(BODY)
    assert type(info.value) is APIConnectionError
    assert len(sleeps.delays) == 4  # nothing was sent, so trying again is safe
    assert info.value.resend_refused is False


async def test_create_read_timeout_is_not_retried(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.add_fault(Fault("POST", "interactions", kind="hang", hang_seconds=1.0))
    client = make_client(server.url, timeout=httpx.Timeout(5.0, read=0.2))
    with pytest.raises(APITimeoutError) as info:
        await client.interactions.create(BODY)
    assert server.count("POST", "interactions") == 1
    assert info.value.resend_refused is True  # it went out: the app must say so


async def test_get_read_timeout_is_retried(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    client = make_client(server.url, timeout=httpx.Timeout(5.0, read=0.2))
    inter = await client.interactions.create(BODY)
    server.add_fault(Fault("GET", "interactions/.*", kind="hang", hang_seconds=1.0))
    got = await client.interactions.get(inter.id)
    assert got.id == inter.id
    assert server.count("GET", "interactions/.*") == 2


async def test_retries_off(server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(server.url, retry=RetryPolicy(max_retries=0))
    server.add_fault(Fault("GET", "models", status=503, times=1))
    with pytest.raises(ServerError):
        await client.models.list()
    assert server.count("GET", "models") == 1
