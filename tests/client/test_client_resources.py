"""URLs, headers, bodies; interactions get/cancel/delete; agents; environments; models."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from support.fake_server import FakeServer, Settings
from workbench.client import Client, NotFoundError
from workbench.protocol import Agent, CreateModelInteraction

BODY = {"model": "gemini-3-flash-preview", "input": "hello"}


async def test_urls_keep_the_prefix_and_version() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"models": []})

    version = "v1beta1/projects/p1/locations/us-central1"
    async with Client(
        "http://h:1/gem/", api_version=version, transport=httpx.MockTransport(handler)
    ) as client:
        assert client.url("interactions") == f"http://h:1/gem/{version}/interactions"
        await client.models.list(page_size=2)
    assert seen == [f"http://h:1/gem/{version}/models?pageSize=2"]


def test_base_url_must_not_carry_a_key() -> None:
    with pytest.raises(ValueError, match="query"):
        Client("http://h/?key=abc")
    with pytest.raises(ValueError):
        Client("ftp://h")
    with pytest.raises(ValueError):
        Client("http://h", api_key="a", bearer_token="b")


async def test_prefixed_server_and_headers(make_client: Callable[..., Client]) -> None:
    with FakeServer(prefix="/mount/gem", settings=Settings(api_key="k-123")) as server:
        client = make_client(server.url, api_version="v1beta", api_key="k-123")
        inter = await client.interactions.create(BODY)
        assert inter.status == "completed"
        post = server.requests_to("POST", "interactions")[0]
        assert post.headers["x-goog-api-key"] == "k-123"
        assert post.headers["content-type"] == "application/json"
        assert post.headers["accept"] == "application/json"
        assert "api-revision" not in post.headers
        assert post.query == {}
        assert json.loads(post.body) == BODY


async def test_bearer_token(make_client: Callable[..., Client]) -> None:
    with FakeServer(settings=Settings(api_key="tok")) as server:
        client = make_client(server.url, api_key=None, bearer_token="tok")
        await client.models.list()
        req = server.requests_to("GET", "models")[0]
        assert req.headers["authorization"] == "Bearer tok"
        assert "x-goog-api-key" not in req.headers


async def test_model_bodies_and_nulls(server: FakeServer, client: Client) -> None:
    model = CreateModelInteraction(model="gemini-3-flash-preview", input="hi")
    await client.interactions.create(model)
    await client.interactions.create({**BODY, "system_instruction": None})
    bodies = [json.loads(r.body) for r in server.requests_to("POST", "interactions")]
    assert bodies == [{"model": "gemini-3-flash-preview", "input": "hi"}, BODY]


def test_mixed_bodies_are_rejected_before_sending() -> None:
    client = Client("http://127.0.0.1:9")
    with pytest.raises(ValueError):
        client.interactions.create_stream({"model": "m", "agent": "a", "input": "x"})
    with pytest.raises(ValueError):
        client.interactions.create_stream({"agent": "a", "generation_config": {}, "input": "x"})


async def test_get_include_input_cancel_delete(server: FakeServer, client: Client) -> None:
    inter = await client.interactions.create(BODY)
    got = await client.interactions.get(inter.id, include_input=True)
    assert got.input == "hello"
    get_req = server.requests_to("GET", f"interactions/{inter.id}")[0]
    assert get_req.query == {"stream": "false", "include_input": "true"}
    plain = await client.interactions.get(inter.id)
    assert plain.input is None
    cancelled = await client.interactions.cancel(inter.id)
    assert cancelled.status == "completed"  # terminal: unchanged
    assert server.count("POST", f"interactions/{inter.id}/cancel") == 1
    await client.interactions.delete(inter.id)
    with pytest.raises(NotFoundError):
        await client.interactions.get(inter.id)


async def test_background_create_then_cancel(server: FakeServer, client: Client) -> None:
    server.settings.event_delay = 0.2
    inter = await client.interactions.create({**BODY, "background": True})
    assert inter.status == "queued"
    cancelled = await client.interactions.cancel(inter.id)
    assert cancelled.status == "cancelled"


async def test_agents_crud_and_paging(server: FakeServer, client: Client) -> None:
    for n in range(5):
        agent = await client.agents.create(Agent(id=f"agent-{n}", description=f"#{n}"))
        assert agent.id == f"agent-{n}"
    agents = await client.agents.list(page_size=2)
    assert [a.id for a in agents] == [f"agent-{n}" for n in range(5)]
    assert server.count("GET", "agents") == 3
    assert (await client.agents.get("agent-3")).description == "#3"
    await client.agents.delete("agent-3")
    with pytest.raises(NotFoundError):
        await client.agents.get("agent-3")


async def test_reserved_agent_ids_are_rejected_locally(server: FakeServer, client: Client) -> None:
    with pytest.raises(ValueError, match="reserved"):
        await client.agents.create({"id": "Gemini-helper"})
    assert server.count("POST", "agents") == 0


async def test_environments_crud_and_paging(server: FakeServer, client: Client) -> None:
    created = []
    for n in range(3):
        env = await client.environments.create(
            {"sources": [{"type": "inline", "target": f"f{n}.txt", "content": "x" * n}]}
        )
        created.append(env.id)
    envs = await client.environments.list(page_size=2)
    assert [e.id for e in envs] == created
    env = await client.environments.get(f"environments/{created[2]}")
    assert env.file_count == 1 and env.size_bytes == 2
    await client.environments.delete(created[0])
    assert len(await client.environments.list()) == 2


async def test_models_list_pages_through_camel_case(server: FakeServer, client: Client) -> None:
    models = await client.models.list(page_size=2)
    assert [m.model_id for m in models] == server.settings.models
    assert models[0].display_name == "Gemini 3 Flash Preview"
    assert models[0].input_token_limit == 1048576
    queries = [r.query for r in server.requests_to("GET", "models")]
    assert queries == [{"pageSize": "2"}, {"pageSize": "2", "pageToken": "2"},
                       {"pageSize": "2", "pageToken": "4"}]  # fmt: skip


async def test_client_context_manager_closes() -> None:
    async with Client("http://127.0.0.1:9") as client:
        assert not client.is_closed
    assert client.is_closed
