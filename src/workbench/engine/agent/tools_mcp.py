"""``mcp_server`` tools: remote MCP servers over streamable HTTP, through the ``mcp`` package.

``discover`` connects once, lists the server's tools (keeping only those ``allowed_tools``
permits, in either shape of protocol.md §13 Q13) and returns one ``McpTool`` per remote tool.
Each call opens a short connection, calls the tool and turns the MCP result into the step's
``result`` (the joined text, or the structured content when the server gave one).

The MCP server is named by the caller, so it is reached directly by the engine, outside the
sandbox's network rules (like Google's service calls it from its side).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from workbench.engine.sandbox import InvalidRequest
from workbench.protocol import AllowedTools, McpServerTool

from .tools import AgentTool, ToolContext, ToolOutcome, error, shorten

SERVER_NAME = re.compile(r"^[a-z0-9_-]+$")
DEFAULT_TIMEOUT = 30.0


def allowed_names(entries: Sequence[AllowedTools | str] | None) -> set[str] | None:
    """Names allowed by ``allowed_tools`` (None = all). ``mode: none`` allows nothing."""
    if entries is None:
        return None
    names: set[str] = set()
    restricted = False
    for entry in entries:
        if isinstance(entry, str):
            names.add(entry)
            restricted = True
            continue
        if (entry.mode or "").lower() == "none":
            return set()
        if entry.tools is not None:
            names.update(entry.tools)
            restricted = True
    return names if restricted else None


def _client(url: str, headers: dict[str, str] | None, timeout: float) -> tuple[Client, Any]:
    # The mcp package speaks through its own httpx fork (httpx2); the client is closed by
    # the caller's ``async with``.
    http = httpx2.AsyncClient(headers=headers or None, timeout=httpx2.Timeout(timeout))
    return Client(streamable_http_client(url, http_client=http), read_timeout_seconds=timeout), http


def _result_value(result: Any) -> tuple[Any, str]:
    texts: list[str] = []
    for block in getattr(result, "content", None) or []:
        text = getattr(block, "text", None)
        if isinstance(text, str):
            texts.append(text)
        else:
            kind = getattr(block, "type", "content")
            texts.append(f"[{kind} content]")
    joined = "\n".join(texts)
    structured = getattr(result, "structured_content", None)
    if isinstance(structured, dict) and not joined:
        return structured, str(structured)
    return joined, joined


class McpTool(AgentTool):
    """One tool of a remote MCP server."""

    def __init__(
        self,
        *,
        name: str,
        remote_name: str,
        server_name: str,
        url: str,
        headers: dict[str, str] | None,
        description: str,
        parameters: dict[str, Any],
    ) -> None:
        super().__init__(
            name=name,
            description=description,
            parameters=parameters,
            kind="mcp_server",
            server_name=server_name,
            remote_name=remote_name,
        )
        self.url = url
        self.headers = headers

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        client, http = _client(self.url, self.headers, ctx.http_timeout)
        try:
            async with http, client:
                result = await client.call_tool(self.remote_name or self.name, args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return error(f"MCP server {self.server_name!r} failed: {type(exc).__name__}: {exc}")
        value, text = _result_value(result)
        return ToolOutcome(
            text=shorten(text), result=value, is_error=bool(getattr(result, "is_error", False))
        )


def _schema(tool: Any) -> dict[str, Any]:
    schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None)
    if isinstance(schema, dict) and schema.get("type") == "object":
        return {k: v for k, v in schema.items() if k != "title"}
    return {"type": "object", "properties": {}}


async def discover(
    declaration: McpServerTool, *, taken: set[str] | None = None, limit_s: float = DEFAULT_TIMEOUT
) -> list[McpTool]:
    """The allowed tools of one MCP server.

    Args:
        declaration: the ``mcp_server`` tool of the request.
        taken: names already used by other tools; clashing MCP tools get ``server_tool`` names.
        limit_s: seconds for connecting and listing.

    Raises:
        InvalidRequest: a bad name or URL, or the server cannot be reached or listed.
    """
    server = declaration.name or ""
    if not SERVER_NAME.match(server):
        raise InvalidRequest(
            f"mcp_server name {server!r} must match ^[a-z0-9_-]+$ "
            "(lower-case letters, digits, '_' and '-')."
        )
    url = declaration.url or ""
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidRequest(f"mcp_server {server!r} needs an http(s) URL (streamable HTTP).")
    allowed = allowed_names(declaration.allowed_tools)
    client, http = _client(url, declaration.headers, limit_s)
    try:
        async with http, client:
            listing = await asyncio.wait_for(client.list_tools(), limit_s)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        raise InvalidRequest(
            f"MCP server {server!r} at {url} could not be reached: {type(exc).__name__}: {exc}"
        ) from exc
    taken = set(taken or ())
    tools: list[McpTool] = []
    for remote in listing.tools:
        if allowed is not None and remote.name not in allowed:
            continue
        name = remote.name if remote.name not in taken else f"{server}_{remote.name}"
        taken.add(name)
        tools.append(
            McpTool(
                name=name,
                remote_name=remote.name,
                server_name=server,
                url=url,
                headers=declaration.headers,
                description=(remote.description or f"{remote.name} (MCP server {server})").strip(),
                parameters=_schema(remote),
            )
        )
    return tools
