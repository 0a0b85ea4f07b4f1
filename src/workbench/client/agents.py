"""``client.agents``: saved custom agents (protocol.md §8). There is no update."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from workbench.protocol import has_reserved_prefix

from ._paging import iter_pages
from ._wire import Agent, body_of, to_model
from .retry import Idempotency
from .transport import Transport, decode_json_object


def check_agent_id(agent_id: str) -> None:
    """Reject reserved prefixes before sending (§12 item 26)."""
    if has_reserved_prefix(agent_id):
        raise ValueError(f"agent id {agent_id!r} starts with a reserved prefix")


def _agent_id(value: str) -> str:
    # Vertex names look like projects/p/locations/l/agents/{id}; the id is the last part.
    bare = value.rsplit("/agents/", 1)[-1] if "/agents/" in value else value
    bare = bare.removeprefix("agents/")
    if not bare:
        raise ValueError("an agent id must be a non-empty string")
    return quote(bare, safe="-_.~")


class Agents:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def create(self, agent: Agent | Mapping[str, Any]) -> Agent:
        """``POST /agents``. A 409 (id taken) is never retried; nor is anything after sending."""
        wire = body_of(agent)
        agent_id = wire.get("id")
        if isinstance(agent_id, str):
            check_agent_id(agent_id)
        response = await self._t.request(
            "POST", "agents", json_body=wire, idempotency=Idempotency.CREATE, what="create agent"
        )
        return to_model(Agent, decode_json_object(response, "create agent"), "agent")

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[Agent]:
        async for page in iter_pages(
            self._t, "agents", items_key="agents", page_size=page_size, what="list agents"
        ):
            for item in page:
                yield to_model(Agent, item, "agent")

    async def list(self, *, page_size: int | None = None) -> list[Agent]:
        """Every saved agent, across all pages."""
        return [agent async for agent in self.iter(page_size=page_size)]

    async def get(self, agent_id: str) -> Agent:
        response = await self._t.request(
            "GET", f"agents/{_agent_id(agent_id)}", what=f"get agent {agent_id}"
        )
        return to_model(Agent, decode_json_object(response, "get agent"), "agent")

    async def delete(self, agent_id: str) -> None:
        await self._t.request(
            "DELETE", f"agents/{_agent_id(agent_id)}", what=f"delete agent {agent_id}"
        )
