"""Build the tool registry of one agent run from the request's ``tools`` (protocol.md §5.1, §8).

* ``tools`` omitted → the agent default: ``code_execution``, ``google_search``, ``url_context``;
* the built-in file tools (``read_file``, ``write_file``, ``list_files``, ``delete_file``) are
  always added for an agent with an environment, unless a client function has the same name;
* ``function`` tools are client-side: calling one pauses the run (``requires_action``);
* ``mcp_server`` tools are listed from the server now (see ``tools_mcp.discover``);
* any other type is refused with ``InvalidRequest`` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from workbench.engine.sandbox import InvalidRequest
from workbench.protocol import (
    CodeExecutionTool as CodeExecutionDecl,
)
from workbench.protocol import (
    FunctionTool,
    McpServerTool,
    Tool,
)
from workbench.protocol import (
    GoogleSearchTool as GoogleSearchDecl,
)
from workbench.protocol import (
    UrlContextTool as UrlContextDecl,
)

from . import tools_mcp
from .tools import AgentTool, ToolContext, ToolOutcome, ToolRegistry
from .tools_sandbox import CodeExecutionTool, file_tools
from .tools_web import GoogleSearchTool, UrlContextTool

_TOOL_ADAPTER: TypeAdapter[Any] = TypeAdapter(Tool)


class ClientFunctionTool(AgentTool):
    """A ``function`` the client runs: calling it pauses the run for a ``function_result``."""

    def __init__(self, decl: FunctionTool) -> None:
        params = decl.parameters if isinstance(decl.parameters, dict) else None
        super().__init__(
            name=decl.name or "",
            description=decl.description or "",
            parameters=params or {"type": "object", "properties": {}},
            kind="client",
        )

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        return ToolOutcome(requires_action=True)


def _parse(tool: Any) -> Any:
    return tool if not isinstance(tool, dict) else _TOOL_ADAPTER.validate_python(tool)


async def build_registry(
    tools: Sequence[Any] | None,
    *,
    with_file_tools: bool = True,
    mcp_timeout: float = tools_mcp.DEFAULT_TIMEOUT,
) -> ToolRegistry:
    """The tools an agent run offers to the model.

    Args:
        tools: the request's (or the saved agent's) tool declarations, models or dicts;
            None means the agent default.
        with_file_tools: add the built-in file tools.
        mcp_timeout: seconds to reach and list each MCP server.

    Raises:
        InvalidRequest: an unsupported tool type, a function without a name, or an MCP
            server that cannot be used.
    """
    declared = (
        [CodeExecutionDecl(), GoogleSearchDecl(), UrlContextDecl()]
        if tools is None
        else [_parse(t) for t in tools]
    )
    registry = ToolRegistry()
    builtin = file_tools() if with_file_tools else []
    reserved = {t.name for t in builtin}
    for decl in declared:
        kind = getattr(decl, "type", None)
        if isinstance(decl, CodeExecutionDecl):
            registry.add(CodeExecutionTool())
        elif isinstance(decl, UrlContextDecl):
            registry.add(UrlContextTool())
        elif isinstance(decl, GoogleSearchDecl):
            registry.add(GoogleSearchTool())
        elif isinstance(decl, FunctionTool):
            if not decl.name:
                raise InvalidRequest("A function tool needs a name.")
            registry.add(ClientFunctionTool(decl))
        elif isinstance(decl, McpServerTool):
            found = await tools_mcp.discover(
                decl, taken=set(registry.names) | reserved, limit_s=mcp_timeout
            )
            for mcp_tool in found:
                registry.add(mcp_tool)
        else:
            raise InvalidRequest(f"The tool type {kind!r} is not supported by the engine's agent.")
    for tool in builtin:
        if tool.name not in registry:
            registry.add(tool)
    return registry
