"""mcp_server tools against a real MCP server (the mcp package's MCPServer, streamable HTTP)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer

from workbench.engine.agent import ToolContext, build_registry
from workbench.engine.agent.tools_mcp import allowed_names
from workbench.engine.sandbox import InvalidRequest
from workbench.protocol import AllowedTools, McpServerToolCallStep, McpServerToolResultStep

pytestmark = pytest.mark.timeout(60)


def _server() -> MCPServer:
    srv = MCPServer("weather")

    @srv.tool()
    def forecast(city: str) -> str:
        """Weather forecast for a city."""
        return f"sunny in {city}"

    @srv.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @srv.tool()
    def read_file(path: str) -> str:
        """A remote tool whose name clashes with a built-in."""
        return f"remote {path}"

    return srv


@pytest.fixture
async def mcp_url() -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(_server().streamable_http_app(), log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()


async def test_list_and_call(mcp_url: str, ctx: ToolContext) -> None:
    reg = await build_registry(
        [
            {
                "type": "mcp_server",
                "name": "weather",
                "url": mcp_url,
                "headers": {"Authorization": "Bearer X"},
            }
        ]
    )
    assert {"forecast", "add", "weather_read_file", "read_file"} <= set(reg.names)
    assert reg.get("read_file").kind == "function"  # type: ignore[union-attr]  # built-in keeps its name
    tool = reg.get("forecast")
    assert (
        tool is not None
        and tool.kind == "mcp_server"
        and tool.description == "Weather forecast for a city."
    )
    assert tool.parameters["properties"]["city"]["type"] == "string"
    out = await reg.run("forecast", {"city": "Paris"}, ctx)
    assert not out.is_error and out.text == "sunny in Paris"
    call = tool.call_step("m1", {"city": "Paris"})
    assert (
        isinstance(call, McpServerToolCallStep)
        and call.server_name == "weather"
        and call.name == "forecast"
    )
    res = tool.result_step("m1", out)
    assert isinstance(res, McpServerToolResultStep) and res.result == "sunny in Paris"
    renamed = reg.get("weather_read_file")
    assert renamed is not None
    assert renamed.call_step("m2", {"path": "x"}).name == "read_file"  # type: ignore[union-attr]
    out = await reg.run("weather_read_file", {"path": "x"}, ctx)
    assert out.text == "remote x"
    out = await reg.run("add", {"a": 2, "b": "x"}, ctx)
    assert out.is_error  # schema check before the call


@pytest.mark.parametrize(
    "allowed",
    [[{"mode": "auto", "tools": ["forecast"]}], ["forecast"]],  # both shapes (§13 Q13)
)
async def test_allowed_tools(mcp_url: str, allowed: list[object]) -> None:
    reg = await build_registry(
        [{"type": "mcp_server", "name": "weather", "url": mcp_url, "allowed_tools": allowed}],
        with_file_tools=False,
    )
    assert reg.names == ["forecast"]


def test_allowed_names_shapes() -> None:
    assert allowed_names(None) is None
    assert allowed_names([AllowedTools(mode="auto")]) is None
    assert allowed_names([AllowedTools(mode="none")]) == set()
    assert allowed_names(["a", AllowedTools(tools=["b"])]) == {"a", "b"}


async def test_bad_declarations() -> None:
    with pytest.raises(InvalidRequest, match="must match"):
        await build_registry(
            [{"type": "mcp_server", "name": "Weather", "url": "http://127.0.0.1:1/mcp"}]
        )
    with pytest.raises(InvalidRequest, match="http"):
        await build_registry([{"type": "mcp_server", "name": "w", "url": "ftp://x"}])
    with pytest.raises(InvalidRequest, match="could not be reached"):
        await build_registry(
            [{"type": "mcp_server", "name": "w", "url": "http://127.0.0.1:9/mcp"}], mcp_timeout=5
        )


async def test_server_gone_during_call(mcp_url: str, ctx: ToolContext) -> None:
    reg = await build_registry([{"type": "mcp_server", "name": "weather", "url": mcp_url}])
    tool = reg.get("forecast")
    assert tool is not None
    tool.url = "http://127.0.0.1:9/mcp"  # type: ignore[attr-defined]
    out = await reg.run("forecast", {"city": "Paris"}, ctx)
    assert out.is_error and "MCP server 'weather' failed" in out.text
