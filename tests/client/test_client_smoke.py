from __future__ import annotations

from support.fake_server import FakeServer
from workbench.client import Client
from workbench.protocol import InteractionCompletedEvent, InteractionCreatedEvent, StepDeltaEvent


async def test_create_get_stream(server: FakeServer, client: Client) -> None:
    inter = await client.interactions.create({"model": "gemini-3-flash-preview", "input": "hi"})
    assert inter.status == "completed"
    got = await client.interactions.get(inter.id)
    assert got.id == inter.id
    async with client.interactions.create_stream(
        {"model": "gemini-3-flash-preview", "input": "hi"}
    ) as stream:
        items = [e async for e in stream]
    assert isinstance(items[0], InteractionCreatedEvent)
    assert isinstance(items[-1], InteractionCompletedEvent)
    assert any(isinstance(e, StepDeltaEvent) for e in items)
