"""Built-in tools on model interactions: Gemini's server-side tool loop, run locally.

A ``model`` create whose ``tools`` hold ``code_execution``, ``url_context``,
``google_search`` or ``mcp_server`` declarations runs here instead of ``run_model``'s single
generation. The built-ins are the agent's own tools (``agent.build_registry``), offered to
the model as functions with fixed schemas through the backend's function calling. Each hop:

1. one generation (``model_run.generate``): text and thoughts stream as usual; a call of a
   client ``function`` becomes a ``function_call`` step at once;
2. every built-in call of that generation runs server-side and is recorded as its typed
   step pair (``code_execution_call``/``_result``, ``url_context_*``, ``google_search_*``,
   ``mcp_server_tool_*``), streamed like agent steps (``OutputAssembler.tool_step``);
3. the results are fed back and the next hop starts — until the model answers without a
   built-in call, a client function was called (``requires_action``), or
   ``--agent-max-steps`` built-in calls ran (``incomplete``). A call repeated with the same
   arguments is not run again: the model is told it has the result and the next hop is
   generated with ``tool_choice: none`` so it answers (small models otherwise repeat a call
   until the step limit).

``code_execution`` runs in a sandbox environment made for the interaction (or the one the
request or its ``previous_interaction_id`` names); ``url_context`` follows that
environment's network rules (disabled unless ``environment.network`` allows hosts). The
interaction carries ``environment_id``. ``google_search`` answers that it is unavailable
offline; nothing is invented. ``tool_choice: any`` applies to the first hop only (after a
result the model may answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .agent import ToolContext, ToolRegistry, build_registry
from .agent.history import plain_steps
from .agent.prompt import HARNESS
from .agent.runs import AgentRuns, creates_new, sandbox_error
from .agent.tools import AgentTool, until_cancelled
from .backends.base import (
    FunctionSpec,
    GenerationRequest,
    Message,
    ModelInfo,
    ToolCall,
    UsageChunk,
)
from .convert import generation_request, new_call_id, usage_dict
from .create_request import CreateRequest
from .errors import bad_request
from .live_run import Outcome, Run
from .model_run import Hop, announce_notes, final_status, generate
from .parsing import SANDBOX_TOOLS
from .sandbox import EnvironmentRecord, SandboxError, materialize
from .sandbox.network import NetworkPolicy
from .store import InteractionRecord


@dataclass
class ModelToolPlan:
    """A model interaction with built-in tools, prepared before the run starts."""

    request: GenerationRequest
    work: Callable[[Run], Awaitable[Outcome]]
    resource: dict[str, Any]
    discard: Callable[[], Awaitable[None]]


@dataclass
class _Usage:
    """Token counts summed over the hops (None once a hop reported none)."""

    input: int = 0
    output: int = 0
    thought: int = 0
    complete: bool = True

    def add(self, hop: Hop) -> None:
        if hop.usage is None:
            self.complete = False
            return
        self.input += hop.usage.input_tokens
        self.output += hop.usage.output_tokens
        self.thought += hop.usage.thought_tokens


REPEATED = (
    "You already made that call, and its result is above. Do not call it again: answer the "
    "request now in plain words, from the results you have."
)
"""What the model is told when it repeats a call it has the result of."""


def _text_of(steps: list[dict[str, Any]]) -> str:
    """The answer text of ``model_output`` steps (what the model said before its calls)."""
    return "".join(
        str(block.get("text", ""))
        for step in steps
        if step.get("type") == "model_output"
        for block in step.get("content") or []
        if block.get("type") == "text"
    )


def _call_key(registry: ToolRegistry, name: str, args: dict[str, Any]) -> str:
    """What makes two calls the same call (the arguments as they would run)."""
    tool = registry.get(name)
    ran = tool.normalize(args) if tool is not None else args
    return name + json.dumps(ran, sort_keys=True, ensure_ascii=False, default=str)


def _spec(tool: AgentTool) -> FunctionSpec:
    return FunctionSpec(name=tool.name, description=tool.description, parameters=tool.parameters)


class ModelTools:
    """Prepares and runs model interactions that declare built-in tools."""

    def __init__(self, agents: AgentRuns) -> None:
        self.agents = agents
        self.envs = agents.envs
        self.config = agents.config

    async def _environment_spec(self, req: CreateRequest, prev: InteractionRecord | None) -> Any:
        """The request's ``environment``; without one, the previous turn's sandbox if any."""
        spec = req.body.get("environment")
        env_id = (prev.resource if prev else {}).get("environment_id")
        if spec is None and isinstance(env_id, str):
            with contextlib.suppress(SandboxError):
                await self.envs.get(env_id)
                return env_id
        return spec

    async def _registry(self, req: CreateRequest) -> ToolRegistry:
        try:
            registry = await build_registry(req.builtin_tools, with_file_tools=False)
        except SandboxError as exc:
            raise sandbox_error(exc, "tools") from exc
        except ValidationError as exc:
            raise bad_request(f"tools: {exc.errors()[0]['msg']}") from exc
        taken = [f.name for f in req.functions if f.name in registry]
        if taken:
            raise bad_request(
                f"tools: function {taken[0]!r} has the name of a built-in tool of this request; "
                "rename the function"
            )
        if req.allowed_functions is not None:
            known = set(registry.names) | {f.name for f in req.functions}
            unknown = [n for n in req.allowed_functions if n not in known]
            if unknown:
                raise bad_request(f"tool_choice names undeclared tools: {', '.join(unknown)}")
        return registry

    async def prepare(
        self,
        req: CreateRequest,
        history: list[dict[str, Any]],
        prev: InteractionRecord | None,
        model: ModelInfo,
    ) -> ModelToolPlan:
        """Tools, sandbox and first request; ``ApiError`` (400/404) before any work."""
        registry = await self._registry(req)
        plain = plain_steps(history, self.config.agent_result_chars)
        gen = await asyncio.to_thread(generation_request, req, plain, model)
        specs = tuple(_spec(t) for n in registry.names if (t := registry.get(n)) is not None)
        gen = dataclasses.replace(gen, functions=gen.functions + specs)
        env: EnvironmentRecord | None = None
        ctx = ToolContext(
            root=self.envs.base, network=NetworkPolicy("disabled"),
            runner=self.agents.code_runner,
        )  # fmt: skip
        fresh = False
        if any(t["type"] in SANDBOX_TOOLS for t in req.builtin_tools):
            spec = await self._environment_spec(req, prev)
            try:
                env = await materialize(self.envs, spec)
            except SandboxError as exc:
                raise sandbox_error(exc) from exc
            except ValidationError as exc:
                raise bad_request(f"environment: {exc.errors()[0]['msg']}") from exc
            fresh = creates_new(spec)
            try:
                ctx.root = self.envs.root(env.id)
                ctx.env = await self.agents.env_vars(env.env or {})
                ctx.network = await self.agents.network(self.envs.network_policy(env))
            except BaseException:
                if fresh:
                    with contextlib.suppress(SandboxError, OSError):
                        await self.envs.delete(env.id)
                raise

        async def discard() -> None:
            if env is not None and fresh:
                with contextlib.suppress(SandboxError, OSError):
                    await self.envs.delete(env.id)

        return ModelToolPlan(
            request=gen,
            work=self._work(registry, ctx, env),
            resource={"environment_id": env.id} if env is not None else {},
            discard=discard,
        )

    def _work(
        self, registry: ToolRegistry, ctx: ToolContext, env: EnvironmentRecord | None
    ) -> Callable[[Run], Awaitable[Outcome]]:
        async def work(run: Run) -> Outcome:
            ctx.cancel = run.cancel_event
            try:
                return await self._loop(run, registry, ctx)
            finally:
                if env is not None:
                    with contextlib.suppress(SandboxError, OSError):
                        await self.envs.touch(env.id, modified=True)

        return work

    async def _loop(self, run: Run, registry: ToolRegistry, ctx: ToolContext) -> Outcome:
        announce_notes(run)
        out = run.assembler
        cap = self.config.continuation_cap if run.continuable else None
        request = run.request
        usage = _Usage()
        ran = 0
        seen: set[str] = set()
        pending: list[tuple[str, dict[str, Any]]] = []

        def on_call(name: str, args: dict[str, Any]) -> None:
            if name in registry:
                pending.append((name, args))
            else:
                out.call(name, args)  # a client function: the turn ends with it

        try:
            while True:
                pending.clear()
                first = len(out.steps)
                hop = await generate(run, self.agents.backend, request, cap, on_call)
                usage.add(hop)
                if not pending or hop.failure is not None or run.cancel_event.is_set():
                    return final_status(run, hop)
                calls: list[ToolCall] = []
                results: list[Message] = []
                repeated = False
                for name, args in pending:
                    key = _call_key(registry, name, args)
                    if key in seen:
                        repeated = True  # its result is already in the conversation
                        continue
                    seen.add(key)
                    if ran >= self.config.agent_max_steps:
                        return "incomplete", None
                    ran += 1
                    done = await self._call(run, registry, ctx, name, args)
                    if done is None:
                        return run.abort_status, run.abort_errors
                    calls.append(done[0])
                    results.append(done[1])
                if out.calls():
                    return "requires_action", None
                said = _text_of(out.steps[first:])
                messages = request.messages
                if calls or said:
                    assistant = Message(role="assistant", text=said, tool_calls=tuple(calls))
                    messages = (*messages, assistant, *results)
                # ``any`` forces the first call only: after a result the model may answer; a
                # model that repeats a call it has the result of is asked to answer now.
                choice = "auto" if request.tool_choice == "any" else request.tool_choice
                if repeated:
                    choice = "none"
                    nudge = Message(role="user", text=REPEATED, name=HARNESS)
                    messages = (*messages, nudge)
                request = dataclasses.replace(request, messages=messages, tool_choice=choice)
        finally:
            chunk = UsageChunk(usage.input, usage.output, usage.thought) if usage.complete else None
            run.record.resource["usage"] = usage_dict(run.request, out, chunk)

    async def _call(
        self, run: Run, registry: ToolRegistry, ctx: ToolContext, name: str, args: dict[str, Any]
    ) -> tuple[ToolCall, Message] | None:
        """Run one built-in call as its step pair; the messages that feed the result back
        (None when the run was cancelled meanwhile)."""
        tool = registry.get(name)
        assert tool is not None
        args = tool.normalize(args)
        call_id = new_call_id()
        run.assembler.tool_step(tool.call_step(call_id, args).to_wire())
        job = asyncio.ensure_future(registry.run(name, args, ctx))
        if await until_cancelled(job, run.cancel_event):
            return None
        outcome = job.result()
        step = tool.result_step(call_id, outcome)
        if step is not None:
            run.assembler.tool_step(step.to_wire())
        text = f"Error: {outcome.text}" if outcome.is_error else outcome.text
        return (
            ToolCall(id=call_id, name=name, arguments=dict(args)),
            Message(role="tool", text=text, tool_call_id=call_id, name=name),
        )
