"""Streaming: decoding, JSON replies, resume after cuts at random offsets, polling fallback."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from support.cut_proxy import CutProxy
from support.fake_server import FakeServer, Fault
from workbench.client import (
    APIConnectionError,
    Client,
    InteractionSnapshot,
    ProtocolViolationError,
    StreamItem,
)
from workbench.protocol import (
    InteractionCompletedEvent,
    InteractionCreatedEvent,
    StepDeltaEvent,
    UnknownEvent,
)

BODY = {"model": "gemini-3-flash-preview", "input": "hello"}


def normalized(items: list[StreamItem], interaction_id: str) -> list[str]:
    out = []
    for item in items:
        assert not isinstance(item, InteractionSnapshot)
        text = json.dumps(item.to_wire(), sort_keys=True).replace(interaction_id, "ID")
        out.append(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "T", text))
    return out


def event_ids(items: list[StreamItem]) -> list[str | None]:
    return [getattr(i, "event_id", None) for i in items]


async def test_stream_decodes_typed_events_and_ignores_comments(
    server: FakeServer, client: Client
) -> None:
    server.settings.comments = True
    server.settings.unknown_event_every = 2
    server.settings.deltas = 4
    items = await client.interactions.create_stream(BODY).collect()
    assert isinstance(items[0], InteractionCreatedEvent)
    assert isinstance(items[-1], InteractionCompletedEvent)
    assert items[-1].interaction is not None
    assert items[-1].interaction.status == "completed"
    assert sum(isinstance(i, StepDeltaEvent) for i in items) == 4
    unknown = [i for i in items if isinstance(i, UnknownEvent)]
    assert len(unknown) == 2 and unknown[0].event_type == "interaction.future_thing"
    assert event_ids(items) == [str(n) for n in range(1, len(items) + 1)]
    request = server.requests_to("POST", "interactions")[0]
    assert request.headers["accept"] == "text/event-stream"
    assert json.loads(request.body)["stream"] is True


async def test_json_reply_to_streaming_request_is_a_snapshot(
    server: FakeServer, client: Client
) -> None:
    server.settings.json_reply_to_stream = True
    async with client.interactions.create_stream(BODY) as stream:
        items = [i async for i in stream]
    assert len(items) == 1
    snap = items[0]
    assert isinstance(snap, InteractionSnapshot) and snap.source == "json_reply"
    assert snap.interaction.status == "completed"
    assert stream.snapshot is snap


async def test_non_json_data_line_is_a_protocol_violation(
    server: FakeServer, client: Client
) -> None:
    server.add_fault(Fault("POST", "interactions", kind="bad_stream"))
    with pytest.raises(ProtocolViolationError, match="not JSON"):
        await client.interactions.create_stream(BODY).collect()


async def test_get_stream_replays_after_last_event_id(server: FakeServer, client: Client) -> None:
    first = await client.interactions.create_stream(BODY).collect()
    iid = first[0].interaction.id  # type: ignore[union-attr]
    replay = await client.interactions.get_stream(iid, last_event_id="3").collect()
    assert event_ids(replay) == event_ids(first)[3:]
    assert normalized(replay, iid) == normalized(first, iid)[3:]
    full = await client.interactions.get_stream(iid).collect()
    assert normalized(full, iid) == normalized(first, iid)
    assert server.requests_to("GET", f"interactions/{iid}")[0].query == {
        "stream": "true",
        "last_event_id": "3",
    }


async def test_breaking_out_closes_the_response(server: FakeServer, client: Client) -> None:
    server.settings.event_delay = 0.05
    server.settings.deltas = 50
    async with client.interactions.create_stream(BODY) as stream:
        async for item in stream:
            if isinstance(item, StepDeltaEvent):
                break
    iid = stream.interaction_id
    assert iid is not None
    # The foreground interaction is cancelled by the server once our connection is gone.
    for _ in range(100):
        got = await client.interactions.get(iid)
        if got.status == "cancelled":
            break
        import asyncio

        await asyncio.sleep(0.02)
    assert got.status == "cancelled"


async def _uncut(
    proxy: CutProxy, make_client: Callable[..., Client]
) -> tuple[list[StreamItem], str, bytes]:
    proxy.set_plan([])
    client = make_client(proxy.url)
    items = await client.interactions.create_stream(BODY).collect()
    await client.aclose()
    iid = items[0].interaction.id  # type: ignore[union-attr]
    raw = bytes(proxy.stats()[-1].downstream)
    return items, iid, raw


async def test_resume_after_cuts_at_100_random_offsets(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.settings.deltas = 30
    rng = random.Random(20261102)
    with CutProxy("127.0.0.1", server.port, record=True) as proxy:
        baseline, base_id, raw = await _uncut(proxy, make_client)
        body_start = raw.index(b"\r\n\r\n") + 4
        first_event_end = raw.index(b"\n\n", body_start) + 2
        total = len(raw)
        expected = normalized(baseline, base_id)
        assert len(expected) == 30 + 5  # created, start, 30 deltas, stop, status, completed
        resumed = failed_early = 0
        offsets = [rng.randrange(first_event_end, total) for _ in range(90)]
        offsets += [rng.randrange(0, first_event_end) for _ in range(10)]
        for offset in offsets:
            server.clear_requests()
            proxy.set_plan([offset])
            client = make_client(proxy.url)
            stream = client.interactions.create_stream(BODY)
            try:
                items = await stream.collect()
            except APIConnectionError:
                assert offset < first_event_end, offset
                failed_early += 1
            else:
                iid = stream.interaction_id
                assert iid is not None
                assert normalized(items, iid) == expected, offset
                ids = event_ids(items)
                assert len(ids) == len(set(ids))  # nothing twice
                resumed += 1
                if offset < total - len(b"0\r\n\r\n") - len(b"event: done\ndata: [DONE]\n\n"):
                    gets = server.requests_to("GET", f"interactions/{iid}")
                    assert len(gets) == 1 and gets[0].query["stream"] == "true"
                    # An RST may discard bytes the proxy already sent, so the client can
                    # have seen fewer events than ``offset`` implies, never more.
                    last = int(gets[0].query["last_event_id"])
                    assert last <= int(ids[_last_seen(offset, raw)] or 0)
            finally:
                await client.aclose()
            # Never a second generation: exactly one POST per attempt.
            assert server.count("POST", "interactions") == 1
        assert resumed >= 90 and failed_early + resumed == 100


def _last_seen(offset: int, raw: bytes) -> int:
    """Index of the last event completely received before ``offset``."""
    body = raw[:offset]
    return body.count(b"\n\n") - 1 - (1 if body.rstrip().endswith(b"[DONE]") else 0)


async def test_background_live_stream_resumes_while_running(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.settings.deltas = 20
    server.settings.event_delay = 0.01
    body = {**BODY, "background": True}
    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.set_plan([900, 700])  # the first stream and the first reconnect both die
        client = make_client(proxy.url)
        stream = client.interactions.create_stream(body)
        items = await stream.collect()
    ids = event_ids(items)
    assert ids == [str(n) for n in range(1, len(ids) + 1)]
    assert isinstance(items[-1], InteractionCompletedEvent)
    assert items[-1].interaction is not None
    assert items[-1].interaction.status == "completed"
    assert stream.state.reconnects == 2
    assert server.count("POST", "interactions") == 1


async def test_no_event_ids_falls_back_to_polling(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.settings.emit_event_ids = False
    server.settings.deltas = 10
    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.set_plan([700])
        client = make_client(proxy.url)
        stream = client.interactions.create_stream(BODY)
        items = await stream.collect()
    snap = items[-1]
    assert isinstance(snap, InteractionSnapshot) and snap.source == "polling"
    assert snap.interaction.status == "completed"
    assert all(not isinstance(i, InteractionSnapshot) for i in items[:-1])
    assert not any(isinstance(i, InteractionCompletedEvent) for i in items)  # nothing invented
    polls = server.requests_to("GET", "interactions/.*")
    assert polls and all(p.query == {"stream": "false"} for p in polls)


async def test_reconnect_refused_with_400_falls_back_to_polling(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.settings.deltas = 10
    server.add_fault(Fault("GET", "interactions/.*", status=400, message="bad last_event_id"))
    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.set_plan([700])
        client = make_client(proxy.url)
        items = await client.interactions.create_stream(BODY).collect()
    assert isinstance(items[-1], InteractionSnapshot)
    assert items[-1].source == "polling"
    gets = server.requests_to("GET", "interactions/.*")
    assert gets[0].query["stream"] == "true" and gets[1].query == {"stream": "false"}


async def test_polling_waits_for_a_terminal_status(
    server: FakeServer, make_client: Callable[..., Client], sleeps: Any
) -> None:
    server.settings.emit_event_ids = False
    server.settings.deltas = 15
    server.settings.event_delay = 0.02
    body = {**BODY, "background": True}
    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.set_plan([600])
        client = make_client(proxy.url)
        items = await client.interactions.create_stream(body).collect()
    assert isinstance(items[-1], InteractionSnapshot)
    assert items[-1].interaction.status == "completed"


async def test_reconnect_gives_up_after_max_attempts(
    server: FakeServer, make_client: Callable[..., Client], sleeps: Any
) -> None:
    server.settings.deltas = 10
    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.set_plan([700] + [1] * 30)  # transport retries each reconnect too
        client = make_client(proxy.url)
        with pytest.raises(APIConnectionError, match="could not be resumed"):
            await client.interactions.create_stream(BODY).collect()
    assert server.count("POST", "interactions") == 1


async def test_resume_backoff_delays(server: FakeServer, sleeps: Any) -> None:
    from workbench.client import ResumePolicy, RetryPolicy

    server.settings.deltas = 10
    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.set_plan([700, 1, 1, 1])
        async with Client(
            proxy.url,
            api_key="k",
            sleep=sleeps,
            resume=ResumePolicy(max_attempts=10),
            retry=RetryPolicy(max_retries=0),  # one connection per reconnect
        ) as client:
            items = await client.interactions.create_stream(BODY).collect()
    assert isinstance(items[-1], InteractionCompletedEvent)
    assert sleeps.delays == [2.0, 4.0, 8.0, 16.0]
