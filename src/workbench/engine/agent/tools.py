"""The tool interface the agent loop calls (protocol.md §4.4, §5).

A tool has a ``name``, a ``description`` and a short, strict JSON Schema ``parameters`` (the
default model is small and decodes arguments under a JSON grammar, so schemas stay flat).
``await tool.run(args, ctx)`` returns a ``ToolOutcome``; ``tool.call_step`` and
``tool.result_step`` build the wire steps the loop records, so the loop never needs to know
which step types a tool produces:

==================  ==========================================================
kind                steps
==================  ==========================================================
``code_execution``  ``code_execution_call`` + ``code_execution_result``
``function``        ``function_call`` + ``function_result`` (built-in file tools)
``url_context``     ``url_context_call`` + ``url_context_result``
``google_search``   ``google_search_call`` + ``google_search_result``
``mcp_server``      ``mcp_server_tool_call`` + ``mcp_server_tool_result``
``client``          ``function_call`` only: the outcome has ``requires_action``
==================  ==========================================================

The loop's sequence for one model call of tool ``name`` with ``args``::

    outcome = await registry.run(name, args, ctx)       # never raises for tool failures
    tool = registry.get(name)
    steps = [tool.call_step(call_id, args)]
    if outcome.requires_action: stop with status requires_action
    steps.append(tool.result_step(call_id, outcome))
    feed outcome.text back to the model
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema

from workbench.engine.sandbox import CodeRunner, ExecLimits, NetworkPolicy
from workbench.engine.sandbox.egress_proxy import EgressGrant
from workbench.protocol import (
    CodeExecutionArguments,
    CodeExecutionCallStep,
    CodeExecutionResultStep,
    FunctionCallStep,
    FunctionResultStep,
    GoogleSearchCallStep,
    GoogleSearchResult,
    GoogleSearchResultStep,
    McpServerToolCallStep,
    McpServerToolResultStep,
    QueryArguments,
    UrlContextArguments,
    UrlContextCallStep,
    UrlContextResult,
    UrlContextResultStep,
)

ToolKind = Literal[
    "code_execution", "function", "url_context", "google_search", "mcp_server", "client"
]
WireStep = (
    CodeExecutionCallStep
    | CodeExecutionResultStep
    | FunctionCallStep
    | FunctionResultStep
    | UrlContextCallStep
    | UrlContextResultStep
    | GoogleSearchCallStep
    | GoogleSearchResultStep
    | McpServerToolCallStep
    | McpServerToolResultStep
)

RESULT_TEXT_LIMIT = 8000
"""Characters of a tool result shown to the model; longer results keep head and tail."""


def shorten(text: str, limit: int = RESULT_TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters around a note saying how much was left out."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n[… {omitted} characters omitted …]\n{text[-tail:]}"


@dataclass
class ToolContext:
    """What a tool may use during one run.

    Attributes:
        root: the environment's workspace root (file tools and code stay inside it).
        network: the environment's enforced network policy.
        runner: the code runner (isolation and default limits).
        env: the environment's variables for executed code.
        cancel: set when the interaction is cancelled; long tools stop early.
        limits: code limits for this run (the runner's defaults when None).
        http_timeout: seconds for one URL fetch or MCP request.
        egress: the egress proxy grant for executed code (``sandbox/egress_proxy.py``).
    """

    root: Path
    network: NetworkPolicy
    runner: CodeRunner
    env: Mapping[str, str] | None = None
    cancel: asyncio.Event | None = None
    limits: ExecLimits | None = None
    http_timeout: float = 20.0
    egress: EgressGrant | None = None


@dataclass
class ToolOutcome:
    """The result of one tool call.

    Attributes:
        text: what the model is shown (already shortened).
        result: the step's ``result`` value (string, list of records or JSON object).
        is_error: the call failed (the model is told; the run goes on).
        requires_action: a client-side function: the loop stops with ``requires_action``.
    """

    text: str = ""
    result: Any = None
    is_error: bool = False
    requires_action: bool = False


async def until_cancelled(task: asyncio.Future[Any], cancel: asyncio.Event) -> bool:
    """Wait for ``task``; True (and the task stopped) when ``cancel`` was set first."""
    stop = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return task.cancelled() or cancel.is_set()


def error(message: str) -> ToolOutcome:
    """A failed call whose text and result are ``message``."""
    return ToolOutcome(text=message, result=message, is_error=True)


@dataclass
class AgentTool:
    """Base class of every tool; subclasses implement ``run``.

    Attributes:
        name: what the model calls it.
        description: one or two sentences for the model.
        parameters: JSON Schema of the arguments (an object schema).
        kind: which steps it produces (see the module doc).
        server_name: the MCP server's name (``mcp_server`` tools only).
    """

    name: str
    description: str
    parameters: dict[str, Any]
    kind: ToolKind = "function"
    server_name: str | None = None
    remote_name: str | None = field(default=None, repr=False)

    def declaration(self) -> dict[str, Any]:
        """``{name, description, parameters}`` as offered to the model."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        """Run the tool; failures come back as an outcome with ``is_error``."""
        raise NotImplementedError

    def normalize(self, args: dict[str, Any]) -> dict[str, Any]:
        """The arguments as they will run (and be recorded); the default changes nothing."""
        return args

    def call_step(self, call_id: str, args: Mapping[str, Any]) -> WireStep:
        """The ``*_call`` step of this call."""
        if self.kind == "code_execution":
            return CodeExecutionCallStep(
                id=call_id,
                arguments=CodeExecutionArguments(
                    code=str(args.get("code", "")), language=str(args.get("language", "python"))
                ),
            )
        if self.kind == "url_context":
            return UrlContextCallStep(
                id=call_id, arguments=UrlContextArguments(urls=list(args.get("urls") or []))
            )
        if self.kind == "google_search":
            return GoogleSearchCallStep(
                id=call_id, arguments=QueryArguments(queries=list(args.get("queries") or []))
            )
        if self.kind == "mcp_server":
            return McpServerToolCallStep(
                id=call_id,
                name=self.remote_name or self.name,
                server_name=self.server_name,
                arguments=dict(args),
            )
        return FunctionCallStep(id=call_id, name=self.name, arguments=dict(args))

    def result_step(self, call_id: str, outcome: ToolOutcome) -> WireStep | None:
        """The ``*_result`` step, or None for a client-side function (no result yet)."""
        if outcome.requires_action or self.kind == "client":
            return None
        err = True if outcome.is_error else None
        if self.kind == "code_execution":
            return CodeExecutionResultStep(
                call_id=call_id, result=str(outcome.result), is_error=err
            )
        if self.kind == "url_context":
            items = [UrlContextResult.model_validate(r) for r in outcome.result or []]
            return UrlContextResultStep(call_id=call_id, result=items, is_error=err)
        if self.kind == "google_search":
            found = [GoogleSearchResult.model_validate(r) for r in outcome.result or []]
            return GoogleSearchResultStep(call_id=call_id, result=found, is_error=err)
        if self.kind == "mcp_server":
            return McpServerToolResultStep(
                call_id=call_id,
                name=self.remote_name or self.name,
                server_name=self.server_name,
                result=outcome.result,
            )
        return FunctionResultStep(
            call_id=call_id, name=self.name, result=outcome.result, is_error=err
        )


def check_arguments(tool: AgentTool, args: Any) -> str | None:
    """A plain message when ``args`` do not match the tool's schema, else None."""
    if not isinstance(args, dict):
        return f"{tool.name}: arguments must be a JSON object."
    try:
        jsonschema.validate(args, tool.parameters)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return f"{tool.name}: invalid arguments{f' at {where}' if where else ''}: {exc.message}"
    except jsonschema.SchemaError:
        return None  # a client's own odd schema: let the call through
    return None


class ToolRegistry:
    """The tools of one run, by name."""

    def __init__(self, tools: Sequence[AgentTool] = ()) -> None:
        self._tools: dict[str, AgentTool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: AgentTool) -> None:
        """Register a tool; a later tool with the same name replaces the earlier one."""
        self._tools[tool.name] = tool

    def get(self, name: str) -> AgentTool | None:
        """The tool called ``name``, or None."""
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        """Tool names in registration order."""
        return list(self._tools)

    def declarations(self) -> list[dict[str, Any]]:
        """Every tool's ``{name, description, parameters}`` for the model."""
        return [t.declaration() for t in self._tools.values()]

    async def run(self, name: str, args: Any, ctx: ToolContext) -> ToolOutcome:
        """Validate and run a call. Unknown tools, bad arguments and tool crashes come back
        as error outcomes; only cancellation propagates."""
        tool = self._tools.get(name)
        if tool is None:
            return error(f"There is no tool named {name!r}. Tools: {', '.join(self._tools)}.")
        if tool.kind == "client":  # the client validates its own function's arguments
            problem = None if isinstance(args, dict) else f"{name}: arguments must be an object."
        else:
            problem = check_arguments(tool, args)
        if problem:
            return error(problem)
        try:
            outcome = await tool.run(dict(args), ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool bug must not end the run
            return error(f"{name} failed: {type(exc).__name__}: {exc}")
        outcome.text = shorten(outcome.text)
        return outcome
