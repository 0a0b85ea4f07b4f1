"""Agent interactions: which agent, which model, which sandbox, which tools (protocol.md §3.7, §8).

``AgentRuns.resolve`` decides whether ``agent`` names something the engine runs: a built-in
Antigravity id, a ``deep-research-*`` id (prepared by ``research.runs.ResearchRuns``), or a
saved agent (404 otherwise). ``AgentRuns.prepare`` turns a validated create into an
``AgentPlan`` before any work starts, so every 400/404 is still an HTTP error:

1. the agent's settings: a saved agent's ``agent_config`` (a call may not override it) or
   the call's; per-call ``system_instruction`` and ``tools`` replace the saved ones;
2. the model: ``agent_config.model`` when the backend serves it, otherwise the backend's
   default model (so code written for Gemini, naming a Gemini model, runs unchanged);
3. the tools (``agent.build_registry``), the conversation as chat messages;
4. the sandbox (``sandbox.materialize``): a fresh one, a fresh fork of the saved
   agent's ``base_environment``, a reused id, or an updated config;
5. the workspace's ``.agents/AGENTS.md`` and skills (with the ``load_skill`` tool), and the
   short system prompt of ``agent/prompt.py``;
6. media in the input (images, audio, video, documents; inline or ``files/…``): the model
   gets derived text where it cannot read the medium (a ``thought`` step says so), and the
   files are written to the workspace's ``attachments/`` (``agent/attachments.py``).

The plan's ``work`` runs ``agent.AgentLoop`` inside the runner's run (events, statuses,
cancel and background handling are the runner's).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..backends.base import Backend, GenerationRequest, Message, ModelInfo
from ..config import EngineConfig
from ..convert import new_call_id
from ..create_request import CreateRequest
from ..errors import ApiError, bad_request, not_found
from ..live_run import Outcome, Run
from ..research.runs import ResearchRuns
from ..sandbox import CodeRunner, EnvironmentRecord, EnvironmentStore, SandboxError, materialize
from ..sandbox.egress_proxy import EgressGrant
from ..sandbox.network import NetworkPolicy
from . import (
    LoadSkillTool,
    ToolContext,
    build_registry,
    combine_instructions,
    discover_skills,
    prompt,
    skills_catalog,
)
from .actions import wants_file_blocks
from .attachments import place_media, with_note, workspace_note
from .definitions import BUILTIN_AGENTS, AgentDefinitions, bare_agent_id
from .files_view import Snapshot, listing
from .history import agent_messages
from .loop import AgentLoop, LoopLimits
from .validation import is_deep_research, max_total_tokens
from .workspace import load_skill

EgressPrepare = Callable[
    [str, dict[str, Any], NetworkPolicy, dict[str, str]],
    Awaitable[tuple[EgressGrant | None, dict[str, str]]],
]


@dataclass
class AgentPlan:
    """Everything an agent run needs, prepared before the run starts."""

    request: GenerationRequest
    work: Callable[[Run], Awaitable[Outcome]]
    resource: dict[str, Any]
    discard: Callable[[], Awaitable[None]]


def sandbox_error(exc: SandboxError, where: str = "environment") -> ApiError:
    return ApiError(exc.http_status, f"{where}: {exc.message}", exc.code)


def creates_new(spec: Any) -> bool:
    """Whether ``environment`` makes a new sandbox (rather than reusing or updating one)."""
    if isinstance(spec, str):
        return spec.strip().lower() == "remote"
    if isinstance(spec, dict):
        return not spec.get("environment_id")
    return True


def _task_text(steps: list[dict[str, Any]]) -> str:
    """The text of the newest ``user_input`` step (what the agent was asked to do); a
    continuation that only carries function results keeps the task of the history."""
    for step in reversed(steps):
        if step.get("type") == "user_input":
            texts = [b.get("text", "") for b in step.get("content") or [] if "text" in b]
            return " ".join(str(t) for t in texts)
    return ""


def _offered(names: list[str], network_mode: str) -> set[str]:
    """The tools shown to the model: those that can do something in this environment.

    ``google_search`` never can offline, and ``url_context`` cannot with the network
    disabled; offering them only costs the small model prompt space and wrong turns. They are
    still run (and answer with an error saying why) if the model calls them anyway.
    """
    hidden = {"google_search"} | ({"url_context"} if network_mode == "disabled" else set())
    return {n for n in names if n not in hidden}


class AgentRuns:
    """Resolves and prepares agent interactions for the runner."""

    def __init__(
        self,
        config: EngineConfig,
        backend: Backend,
        envs: EnvironmentStore,
        definitions: AgentDefinitions,
        code_runner: CodeRunner,
    ) -> None:
        self.config = config
        self.backend = backend
        self.envs = envs
        self.definitions = definitions
        self.code_runner = code_runner
        self.research = ResearchRuns(backend, envs, definitions.store)
        self.credential_env: Callable[[dict[str, Any]], Awaitable[dict[str, str]]] | None = None
        """Resolves ``{"credential": id}`` env values (ops/credentials.py), set by the server."""
        self.credential_network: Callable[[NetworkPolicy], Awaitable[NetworkPolicy]] | None = None
        """Adds allowlist-named credentials' headers (ops/injection.py), set by the server."""
        self.code_egress: EgressPrepare | None = None
        """The egress proxy grant of a run and its env placeholders (ops/egress.py)."""

    async def network(self, policy: NetworkPolicy) -> NetworkPolicy:
        """The policy with allowlist-named credentials turned into headers (ops/injection)."""
        if self.credential_network is not None:
            return await self.credential_network(policy)
        if any(rule.credential for rule in policy.rules):
            raise bad_request("network.allowlist names a credential, but this engine has none")
        return policy

    async def env_vars(self, env: dict[str, Any]) -> dict[str, str]:
        """The environment's variables as the sandbox gets them, credentials resolved."""
        if self.credential_env is not None:
            return await self.credential_env(env)
        if any(isinstance(v, dict) and v.get("credential") is not None for v in env.values()):
            raise bad_request("env names a credential, but this engine has no credential store")
        return {k: str(v.get("value", "") if isinstance(v, dict) else v) for k, v in env.items()}

    async def resolve(self, req: CreateRequest) -> dict[str, Any] | None:
        """The saved agent named by ``req.agent`` (None for a built-in); 404/400 otherwise."""
        assert req.agent is not None
        agent_id = bare_agent_id(req.agent)
        config = req.body.get("agent_config")
        if is_deep_research(agent_id):
            return None  # checked with the request (validation); runs in research/
        if agent_id in BUILTIN_AGENTS:
            if config is not None and config.get("type") != "antigravity":
                raise bad_request(
                    f"agent {agent_id!r} takes an agent_config of type 'antigravity', "
                    f"not {config.get('type')!r}"
                )
            return None
        saved = await self.definitions.store.get_agent(agent_id)
        if saved is None:
            raise not_found(
                f"agent {agent_id!r} not found: use a built-in agent "
                f"({', '.join(sorted(BUILTIN_AGENTS))}) or the id of a saved agent"
            )
        if config is not None:
            raise bad_request(
                f"agent_config cannot be set when calling the saved agent {agent_id!r}: "
                "its saved configuration applies (delete and re-create it to change it)"
            )
        return saved

    def _model(self, wanted: str | None) -> ModelInfo:
        served = self.backend.models()
        for info in served:
            if wanted is not None and info.id == wanted.removeprefix("models/"):
                return info
        return served[0]

    async def prepare(self, req: CreateRequest, history: list[dict[str, Any]]) -> AgentPlan:
        """Validate everything and make the sandbox; raises ``ApiError`` before any work."""
        saved = await self.resolve(req)
        if is_deep_research(req.agent):
            model = self._model(None)
            plan = await self.research.prepare(req, history, model.id)
            return AgentPlan(plan.request, plan.work, plan.resource, plan.discard)
        config: dict[str, Any] = dict((saved or {}).get("agent_config") or {})
        if saved is None:
            config = dict(req.body.get("agent_config") or {})
        model = self._model(config.get("model"))
        budget = max_total_tokens(config)
        tools = req.agent_tools if req.agent_tools is not None else (saved or {}).get("tools")
        instruction = (
            req.system_instruction
            if req.system_instruction is not None
            else (saved or {}).get("system_instruction")
        )
        try:
            registry = await build_registry(tools)
        except SandboxError as exc:
            raise sandbox_error(exc, "tools") from exc
        except ValidationError as exc:
            raise bad_request(f"tools: {exc.errors()[0]['msg']}") from exc
        limits = LoopLimits(
            max_steps=self.config.agent_max_steps,
            turn_tokens=self.config.agent_turn_tokens,
            result_chars=self.config.agent_result_chars,
            max_total_tokens=budget,
            temperature=self.config.agent_temperature,
            seed=self.config.agent_seed,
            votes=self.config.agent_votes,
        )
        code_mode = "code_execution" in registry.names
        notes: list[str] = []
        conversation = await asyncio.to_thread(
            agent_messages, history + req.input_steps, model, limits.result_chars,
            code_as_text=code_mode, notes=notes, notes_from=len(history),
        )  # fmt: skip
        spec = req.body.get("environment")
        try:
            env = await materialize(self.envs, spec, base=(saved or {}).get("base_environment"))
        except SandboxError as exc:
            raise sandbox_error(exc) from exc
        except ValidationError as exc:
            raise bad_request(f"environment: {exc.errors()[0]['msg']}") from exc
        fresh = creates_new(spec)

        async def discard() -> None:
            if fresh:
                with contextlib.suppress(SandboxError, OSError):
                    await self.envs.delete(env.id)

        try:
            root = self.envs.root(env.id)
            placed = await asyncio.to_thread(place_media, root, req.input_steps)
            skills = await asyncio.to_thread(discover_skills, root)
            if skills:
                registry.add(LoadSkillTool(skills))
            instructions = await asyncio.to_thread(combine_instructions, instruction, root)
            env_vars = await self.env_vars(env.env or {})
            raw_network = self.envs.network_policy(env)
            network = await self.network(raw_network)
            egress = None
            if self.code_egress is not None:
                egress, env_vars = await self.code_egress(
                    env.id, env.env or {}, raw_network, env_vars
                )
        except SandboxError as exc:
            await discard()
            raise sandbox_error(exc, "input") from exc
        except BaseException:
            await discard()
            raise
        placed_note = workspace_note(placed)
        offered = _offered(registry.names, network.mode)
        if code_mode:
            bodies = await asyncio.to_thread(
                lambda: {s.name: load_skill(root, s.name) or "" for s in skills}
            )
            skill_text = prompt.skills_text(bodies)
            if skill_text:
                offered.discard("load_skill")  # written out in full in the prompt
            else:
                skill_text = skills_catalog(skills)
            natives = offered - {"code_execution", "read_file", "write_file", "list_files",
                                 "delete_file"}  # fmt: skip

            task_text = _task_text(req.input_steps) or _task_text(history)
            edits_code = wants_file_blocks(task_text)
            named = prompt.named_skills(bodies, task_text)

            def system(files: Snapshot) -> str:
                return prompt.code_prompt(
                    listing(root, files), tool_names=natives, skills=skill_text,
                    instructions=instructions, file_blocks=edits_code, named_skills=named,
                )  # fmt: skip
        else:
            text = prompt.tool_prompt(
                offered, skills=skills_catalog(skills), instructions=instructions
            )

            def system(files: Snapshot) -> str:
                return text

        messages = with_note(list(conversation), placed_note)
        request = GenerationRequest(messages=tuple(messages), model=model.id, notes=tuple(notes))
        ctx = ToolContext(
            root=root,
            network=network,
            runner=self.code_runner,
            env=env_vars,
            egress=egress,
        )
        task = _task_text(req.input_steps) or _task_text(history)
        if placed_note:
            task = f"{task}\n\n{placed_note}".strip()
        work = self._work(
            env, registry, ctx, messages, model.id, limits, offered, task, system,
            network.mode == "disabled",
        )  # fmt: skip
        # The effective configuration, so clients can show which model does the work.
        effective = {**config, "type": "antigravity", "model": model.id}
        return AgentPlan(
            request=request,
            work=work,
            resource={"environment_id": env.id, "agent_config": effective},
            discard=discard,
        )

    def _work(
        self,
        env: EnvironmentRecord,
        registry: Any,
        ctx: ToolContext,
        messages: list[Message],
        model: str,
        limits: LoopLimits,
        offered: set[str],
        task: str,
        system: Callable[[Snapshot], str],
        network_disabled: bool,
    ) -> Callable[[Run], Awaitable[Outcome]]:
        async def work(run: Run) -> Outcome:
            ctx.cancel = run.cancel_event
            if run.thought_summaries and run.request.notes and not run.assembler.steps:
                # The model gets derived text instead of the media: say so before it works.
                run.assembler.thought(" ".join(run.request.notes))
            loop = AgentLoop(
                backend=self.backend,
                model=model,
                registry=registry,
                ctx=ctx,
                out=run.assembler,
                messages=messages,
                limits=limits,
                cancel=run.cancel_event,
                new_call_id=new_call_id,
                offered=offered,
                task=task,
                system=system,
                network_disabled=network_disabled,
            )
            try:
                status, errors = await loop.run()
            finally:
                run.record.resource["usage"] = loop.usage.wire()
                with contextlib.suppress(SandboxError, OSError):
                    await self.envs.touch(env.id, modified=True)
            if run.cancel_event.is_set():
                return run.abort_status, run.abort_errors
            return status, errors

        return work
