"""Admitting a create: the checks against stored state, and what the run will execute.

``parsing.py`` has checked the body on its own; what is left needs the engine's state: the
model or agent must be served, ``previous_interaction_id`` must name a finished interaction
(and a ``continuation_token`` must be the one it issued), function results must answer its
pending calls. Every such check raises ``ApiError`` before any work starts. What passes
becomes an :class:`Admitted`: the generation request (media decoded, history folded in) and,
for agents and built-in tools, the work that replaces a single generation. Apart from
:mod:`.runner` so that accepting a request and executing it (:mod:`.run_execution`) read on
their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .agent.runs import AgentRuns
from .aliases import AliasTable
from .backends.base import Backend, GenerationRequest, ModelInfo
from .config import EngineConfig
from .convert import generation_request
from .create_request import CreateRequest
from .errors import ApiError, bad_request, not_found
from .live_run import Outcome, Run
from .model_tools import ModelTools
from .run_index import RunIndex
from .status import TERMINAL
from .steps import check_function_results, pending_calls
from .store import InteractionRecord


async def _nothing_to_discard() -> None:
    return None


@dataclass
class Admitted:
    """A create that passed every check: what its run executes."""

    request: GenerationRequest
    prev: InteractionRecord | None
    work: Callable[[Run], Awaitable[Outcome]] | None = None
    """An agent's or a tool loop's work; None for a single generation (``run_model``)."""
    extra: dict[str, Any] | None = None
    """Fields the plan adds to the Interaction resource."""
    discard: Callable[[], Awaitable[None]] = _nothing_to_discard
    """Undo what the plan prepared (a sandbox it made) when the run does not start."""


class Admission:
    """Checks creates against the served models, the agents and the stored interactions."""

    def __init__(self, config: EngineConfig, backend: Backend, index: RunIndex) -> None:
        self.config = config
        self.backend = backend
        self.index = index

    def model_info(self, model: str) -> ModelInfo | None:
        """The served model for this name: a model id, or a name the alias table maps."""
        return AliasTable(self.config.model_aliases).target(model, self.backend.models())

    async def admit(self, req: CreateRequest, agents: AgentRuns | None) -> Admitted:
        """Check ``req`` against stored state and prepare its work; ``ApiError`` when not."""
        info: ModelInfo | None = None
        if req.agent is None:
            _check_model_only(req)
            assert req.model is not None
            info = self.model_info(req.model)
            if info is None:
                served = ", ".join(m.id for m in self.backend.models())
                raise not_found(
                    f"model {req.model!r} is not served here; available: {served} (and the "
                    "aliases GET /models lists)"
                )
        elif agents is None:
            raise not_found(f"agent {req.agent!r} is not available: agents are not enabled")
        else:
            try:
                await agents.resolve(req)  # 404 / 400 for the agent itself come first
            except ApiError as exc:
                raise await _with_saved_agents(exc, agents) from None
        history: list[dict[str, Any]] = []
        prev: InteractionRecord | None = None
        if req.previous_interaction_id is not None:
            prev = await self.index.record(req.previous_interaction_id)
            if prev is None:
                raise not_found(f"previous interaction {req.previous_interaction_id!r} not found")
            if prev.status not in TERMINAL:
                raise bad_request(
                    f"previous interaction {prev.id!r} is still {prev.status}; wait for it to "
                    "finish or cancel it"
                )
            history = await self.index.history(prev)
        if req.continuation_token is not None and (
            prev is None
            or prev.status != "requires_continuation"
            or prev.continuation_token != req.continuation_token
        ):
            raise bad_request(
                "continuation_token was not issued by the interaction named in "
                "previous_interaction_id"
            )
        check_function_results(req.input_steps, pending_calls(history))
        if agents is not None and req.agent is not None:
            plan = await agents.prepare(req, history)
            return Admitted(plan.request, prev, plan.work, plan.resource, plan.discard)
        assert info is not None
        if req.builtin_tools:
            return await _with_tools(req, history, prev, info, agents)
        # Decoding media and extracting PDF text can take a while: keep it off the loop.
        gen = await asyncio.to_thread(generation_request, req, history, info)
        return Admitted(gen, prev)


async def _with_tools(
    req: CreateRequest,
    history: list[dict[str, Any]],
    prev: InteractionRecord | None,
    info: ModelInfo,
    agents: AgentRuns | None,
) -> Admitted:
    """A model interaction with built-in tools (``model_tools.py``)."""
    if agents is None:
        raise bad_request(
            "built-in tools are not available: this engine runs without its sandbox; "
            "send only 'function' tools"
        )
    plan = await ModelTools(agents).prepare(req, history, prev, info)
    return Admitted(plan.request, prev, plan.work, plan.resource, plan.discard)


async def _with_saved_agents(exc: ApiError, agents: AgentRuns) -> ApiError:
    """An unknown agent's 404 also names the saved agents that do exist (the spec's 404)."""
    if exc.http_status != 404 or "saved agent" not in exc.message:
        return exc
    page = await agents.definitions.list(100, None)
    ids = [str(a.get("id")) for a in page.get("agents", []) if isinstance(a, dict)]
    saved = ", ".join(ids) if ids else "none yet"
    return ApiError(404, f"{exc.message}; saved agents: {saved}", exc.code)


def _check_model_only(req: CreateRequest) -> None:
    if req.cached_content is not None:
        # The engine keeps no context caches, so every name is unknown (never ignored).
        raise not_found(
            f"cached content {req.cached_content!r} not found: the local engine has no "
            "context caches; send the content as input instead"
        )
