"""Automatic continuation hops (protocol.md §6.7), unary and streaming."""

from __future__ import annotations

import json

import pytest

from support.fake_server import FakeServer, Fault
from workbench.client import Client, ContinuationInterruptedError, InvalidRequestError
from workbench.client.continuation import continuation_body, merge_hops
from workbench.protocol import InteractionCompletedEvent, InteractionCreatedEvent

BODY = {"model": "gemini-3-flash-preview", "input": "hello", "generation_config": {"seed": 1}}


async def test_unary_hops_are_followed_and_merged(server: FakeServer, client: Client) -> None:
    server.settings.continuation_hops = 2
    server.settings.deltas = 2
    inter = await client.interactions.create(BODY)
    posts = server.requests_to("POST", "interactions")
    assert len(posts) == 3
    hop_ids = list(server.interactions)
    first, second, third = (json.loads(p.body) for p in posts)
    assert first == BODY
    assert second == {
        "model": "gemini-3-flash-preview",
        "generation_config": {"seed": 1},
        "continuation_token": f"tok-{hop_ids[0]}",
        "previous_interaction_id": hop_ids[0],
    }
    assert third["previous_interaction_id"] == hop_ids[1] and "input" not in third
    assert inter.id == hop_ids[2]
    assert inter.status == "completed"
    wire = inter.to_wire()
    assert wire["continuation_ids"] == hop_ids
    types = [s["type"] for s in wire["steps"]]
    assert types == ["user_input", "model_output", "model_output", "model_output"]
    assert inter.usage is not None
    assert wire["usage"]["total_output_tokens"] == 6
    assert wire["usage"]["output_tokens_by_modality"] == [{"modality": "text", "tokens": 6}]
    assert wire["usage"]["initial_input_tokens"] == 3


async def test_unary_continuation_can_be_turned_off(server: FakeServer, client: Client) -> None:
    server.settings.continuation_hops = 1
    inter = await client.interactions.create(BODY, automatic_continuation=False)
    assert inter.status == "requires_continuation"
    assert inter.continuation_token
    assert server.count("POST", "interactions") == 1


async def test_background_and_agent_bodies_are_not_continued(
    server: FakeServer, client: Client
) -> None:
    server.settings.continuation_hops = 1
    inter = await client.interactions.create({**BODY, "background": True})
    assert inter.status in ("queued", "in_progress", "completed")
    assert server.count("POST", "interactions") == 1


async def test_store_false_resends_the_input() -> None:
    body = {"model": "m", "input": "q", "store": False}
    assert continuation_body(body, "t", "h1") == {**body, "continuation_token": "t"}


async def test_failed_hop_raises_interrupted_with_partial(
    server: FakeServer, client: Client
) -> None:
    server.settings.continuation_hops = 3
    server.add_fault(Fault("POST", "interactions", status=400, body_contains=b"continuation_token"))
    with pytest.raises(ContinuationInterruptedError) as info:
        await client.interactions.create(BODY)
    err = info.value
    first = next(iter(server.interactions))
    assert err.partial is not None and err.partial["status"] == "requires_continuation"
    assert err.continuation_token == f"tok-{first}"
    assert err.interaction_id == first
    assert err.continuation_ids == [first]
    assert isinstance(err.__cause__, InvalidRequestError)


def test_merge_strips_leading_user_input_of_later_hops() -> None:
    hops = [
        {"id": "a", "status": "requires_continuation", "created": "c1", "steps": [
            {"type": "user_input"}, {"type": "model_output", "n": 1}]},
        {"id": "b", "status": "completed", "created": "c2", "steps": [
            {"type": "user_input"}, {"type": "model_output", "n": 2}]},
    ]  # fmt: skip
    merged = merge_hops(hops)
    assert merged["id"] == "b" and merged["created"] == "c1"
    assert [s.get("n") for s in merged["steps"]] == [None, 1, 2]
    assert merged["continuation_ids"] == ["a", "b"]


async def test_streaming_hops_on_one_iterator(server: FakeServer, client: Client) -> None:
    server.settings.continuation_hops = 2
    server.settings.deltas = 2
    stream = client.interactions.create_stream(BODY)
    items = await stream.collect()
    created = [i for i in items if isinstance(i, InteractionCreatedEvent)]
    completed = [i for i in items if isinstance(i, InteractionCompletedEvent)]
    assert len(created) == 3 and len(completed) == 3
    statuses = [c.interaction.status for c in completed if c.interaction]
    assert statuses == ["requires_continuation", "requires_continuation", "completed"]
    assert stream.hop_ids == list(server.interactions)
    bodies = [json.loads(p.body) for p in server.requests_to("POST", "interactions")]
    assert all(b["stream"] is True for b in bodies)
    assert "input" not in bodies[1] and bodies[1]["previous_interaction_id"] == stream.hop_ids[0]


async def test_streaming_continuation_off(server: FakeServer, client: Client) -> None:
    server.settings.continuation_hops = 2
    items = await client.interactions.create_stream(BODY, automatic_continuation=False).collect()
    assert sum(isinstance(i, InteractionCreatedEvent) for i in items) == 1
    assert server.count("POST", "interactions") == 1
