"""The official google-genai SDK against the fake server, so it cannot share our misreadings."""

from __future__ import annotations

from collections.abc import Callable

from google import genai

from support.fake_server import FakeServer
from workbench.client import Client


async def test_sdk_and_our_client_agree(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    sdk = genai.Client(api_key="k", http_options={"base_url": server.url, "api_version": "v1beta"})
    made = await sdk.aio.interactions.create(model="gemini-3-flash-preview", input="hello")
    assert made.status == "completed"
    ours = make_client(server.url, api_version="v1beta")
    mine = await ours.interactions.get(made.id)
    sdk_get = await sdk.aio.interactions.get(made.id)
    assert mine.id == sdk_get.id == made.id
    assert mine.status == sdk_get.status
    assert [s.type for s in mine.steps or []] == [s.type for s in sdk_get.steps or []]
    # And the other way round: the SDK reads what our client created.
    created = await ours.interactions.create({"model": "gemini-3-flash-preview", "input": "yo"})
    seen = await sdk.aio.interactions.get(created.id)
    assert seen.id == created.id and seen.status == "completed"
    # Both clients send the same request shape.
    sdk_post, our_post = server.requests_to("POST", "interactions")
    assert sdk_post.path == our_post.path == "interactions"
    assert sdk_post.headers["content-type"] == our_post.headers["content-type"]
    gets = server.requests_to("GET", f"interactions/{made.id}")
    assert gets[0].query == gets[1].query == {"stream": "false"}


async def test_sdk_stream_matches_ours(server: FakeServer, client: Client) -> None:
    sdk = genai.Client(api_key="k", http_options={"base_url": server.url, "api_version": "v1"})
    stream = await sdk.aio.interactions.create(
        model="gemini-3-flash-preview", input="hello", stream=True
    )
    sdk_events = [(e.event_type, e.event_id) async for e in stream]
    ours = await client.interactions.create_stream(
        {"model": "gemini-3-flash-preview", "input": "hello"}
    ).collect()
    assert [(e.event_type, e.event_id) for e in ours] == sdk_events  # type: ignore[union-attr]
