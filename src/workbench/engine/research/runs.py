"""Deep Research interactions: from a validated create to the run's work (protocol.md §7.3).

``ResearchRuns.prepare`` does everything that can fail with an HTTP error before the run
starts: the settings (``DeepResearchAgentConfig``), the task (the research question, and the
plan of the previous turn when this turn answers one), the sandbox (the request's
``environment``; a turn that names none reuses its previous interaction's), and the input
documents (Files API files, inline data, ``file://`` files and folders). The work then
fetches allowed URLs, runs ``ResearchLoop``, streams the report with its annotations, writes
``deep-research/report.md`` (and a chart when asked and possible) into the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..agent.tools import ToolOutcome
from ..agent.tools_web import UrlContextTool, fetch
from ..backends.base import Backend, GenerationRequest, Message
from ..backends.scripted import REPLY
from ..convert import new_call_id
from ..create_request import CreateRequest
from ..errors import ApiError, bad_request
from ..live_run import Outcome, Run
from ..sandbox import EnvironmentStore, NetworkPolicy, SandboxError, materialize
from ..store import Store
from . import chart
from .chunking import Document, Page
from .loop import ResearchLoop
from .plan import ResearchLimits, ResearchSettings, Task, plan_from_text
from .report import report_chunks as _paragraphs
from .sources import OUTPUT_DIR, Gathered, input_documents, named_urls, read_folder

PLAN_HEAD = "Research plan for: "
URL_TIMEOUT = 20.0


@dataclass
class ResearchPlan:
    """What the runner needs (the same fields as ``agent.runs.AgentPlan``)."""

    request: GenerationRequest
    work: Callable[[Run], Awaitable[Outcome]]
    resource: dict[str, Any]
    discard: Callable[[], Awaitable[None]]


def settings_of(config: dict[str, Any] | None) -> ResearchSettings:
    """``agent_config`` (already checked) as loop settings; summaries are off unless
    ``thinking_summaries`` is ``auto``; charts are on (``auto``) unless ``off``."""
    config = config or {}
    return ResearchSettings(
        thinking_summaries=config.get("thinking_summaries") == "auto",
        collaborative_planning=bool(config.get("collaborative_planning")),
        visualization=str(config.get("visualization") or "auto"),
    )


def _text(step: dict[str, Any]) -> str:
    return " ".join(
        str(b.get("text", "")) for b in step.get("content") or [] if b.get("type") == "text"
    ).strip()


def clean(text: str) -> str:
    """The user's words without the scripted test model's ``[[reply … => …]]`` directives
    (they script the model's answers and are no part of the question)."""
    return " ".join(REPLY.sub(" ", text).split())


def task_of(history: list[dict[str, Any]], input_steps: list[dict[str, Any]]) -> Task:
    """The research question, and the pending plan when the previous turn proposed one.

    A turn that follows a plan (a ``model_output`` starting with "Research plan for:") keeps
    the question of that plan's conversation; its own text is the user's reply to the plan.
    Otherwise the newest user text is the question.
    """
    newest = next((_text(s) for s in reversed(input_steps) if s.get("type") == "user_input"), "")
    outputs = [s for s in history if s.get("type") == "model_output"]
    last = _text(outputs[-1]) if outputs else ""
    if last.startswith(PLAN_HEAD):
        question = last[len(PLAN_HEAD) :].split("\n", 1)[0].strip()
        first = next((_text(s) for s in history if s.get("type") == "user_input"), "")
        return Task(
            question=question, plan=plan_from_text(last), reply=clean(newest),
            script=f"{first} {newest}",
        )  # fmt: skip
    if not clean(newest):
        raise bad_request("deep research needs a question: give 'input' text")
    return Task(question=clean(newest), script=newest)


def _url_allowed(tools: list[dict[str, Any]] | None) -> bool:
    """``url_context`` is offered by default (Gemini's research agent browses), and only
    when listed once ``tools`` is given."""
    return tools is None or any(t.get("type") == "url_context" for t in tools)


class ResearchRuns:
    """Prepares deep-research interactions for the runner."""

    def __init__(
        self,
        backend: Backend,
        envs: EnvironmentStore,
        store: Store,
        limits: ResearchLimits | None = None,
    ) -> None:
        self.backend = backend
        self.envs = envs
        self.store = store
        self.limits = limits or ResearchLimits()

    async def _environment_spec(self, req: CreateRequest) -> Any:
        spec = req.body.get("environment")
        if spec is None and req.previous_interaction_id:
            prev = await self.store.get_interaction(req.previous_interaction_id)
            env_id = (prev.resource if prev else {}).get("environment_id")
            if isinstance(env_id, str):
                with contextlib.suppress(SandboxError):
                    await self.envs.get(env_id)
                    return env_id
        return spec

    async def prepare(
        self, req: CreateRequest, history: list[dict[str, Any]], model: str
    ) -> ResearchPlan:
        """Validate, read the input documents and make the sandbox; ``ApiError`` before work."""
        config = dict(req.body.get("agent_config") or {"type": "deep-research"})
        settings = settings_of(config)
        task = task_of(history, req.input_steps)
        gathered = Gathered()
        await asyncio.to_thread(input_documents, history + req.input_steps, gathered)
        spec = await self._environment_spec(req)
        fresh = spec is None or (isinstance(spec, dict) and not spec.get("environment_id"))
        try:
            env = await materialize(self.envs, spec)
        except SandboxError as exc:
            raise ApiError(exc.http_status, f"environment: {exc.message}", exc.code) from exc
        except ValidationError as exc:
            raise bad_request(f"environment: {exc.errors()[0]['msg']}") from exc

        async def discard() -> None:
            if fresh:
                with contextlib.suppress(SandboxError, OSError):
                    await self.envs.delete(env.id)

        root = self.envs.root(env.id)
        network = self.envs.network_policy(env)
        urls = named_urls(task.question + " " + task.reply) if _url_allowed(req.agent_tools) else []

        async def work(run: Run) -> Outcome:
            await asyncio.to_thread(read_folder, root, "", gathered)
            for doc in gathered.documents:
                if doc.kind == "file" and not doc.uri.startswith(("file:", "files/", "inline:")):
                    doc.uri = f"environments/{env.id}/files/{doc.uri}"
            loop = ResearchLoop(
                backend=self.backend, model=model, out=run.assembler, limits=self.limits,
                settings=settings, cancel=run.cancel_event,
            )  # fmt: skip

            async def fetch_urls() -> list[Document]:
                return await self._fetch(urls, network, run)

            try:
                status, errors = await loop.run(
                    task, gathered.documents, fetch_urls, gathered.skipped
                )
                if status == "completed" and loop.report is not None:
                    await self._deliver(loop, run, root, settings)
            finally:
                run.record.resource["usage"] = loop.usage.wire()
                with contextlib.suppress(SandboxError, OSError):
                    await self.envs.touch(env.id, modified=True)
            if run.cancel_event.is_set():
                return run.abort_status, run.abort_errors
            return status, errors

        request = GenerationRequest(
            messages=(Message(role="user", text=task.question),), model=model
        )
        effective = {**config, "type": "deep-research"}
        return ResearchPlan(
            request=request,
            work=work,
            resource={"environment_id": env.id, "agent_config": effective},
            discard=discard,
        )

    async def _fetch(self, urls: list[str], network: NetworkPolicy, run: Run) -> list[Document]:
        """Fetch the named URLs the network rules allow, as ``url_context`` steps."""
        if not urls:
            return []
        tool = UrlContextTool()
        call_id = new_call_id()
        run.assembler.tool_step(tool.call_step(call_id, {"urls": urls}).to_wire())
        fetched = await asyncio.gather(*(fetch(u, network, URL_TIMEOUT) for u in urls))
        records = [{"url": u, "status": s} for u, (s, _) in zip(urls, fetched, strict=True)]
        failed = all(s != "success" for s, _ in fetched)
        outcome = ToolOutcome(text="", result=records, is_error=failed)
        step = tool.result_step(call_id, outcome)
        if step is not None:
            run.assembler.tool_step(step.to_wire())
        docs: list[Document] = []
        for url, (status, body) in zip(urls, fetched, strict=True):
            if status != "success":
                continue
            title, _, rest = body.partition("\n\n") if "\n\n" in body else ("", "", body)
            docs.append(Document(url, url, "url", [Page(rest or body)], title=title.strip()))
        return docs

    async def _deliver(
        self, loop: ResearchLoop, run: Run, root: Any, settings: ResearchSettings
    ) -> None:
        """Stream the report, its annotations and a chart; write ``report.md``."""
        report = loop.report
        assert report is not None
        for part in _paragraphs(report.text):
            run.assembler.text(part)
        if report.annotations:
            run.assembler.annotate(report.annotations)
        image = None
        if settings.visualization == "auto":
            image = await asyncio.to_thread(chart.chart_png, loop.state)
            if image is not None:
                run.assembler.image(image, "image/png")
        run.assembler.close()
        folder = root / OUTPUT_DIR

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "report.md").write_text(report.markdown, encoding="utf-8")
            if image is not None:
                (folder / "chart.png").write_bytes(image)

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            loop.think(f"Could not write {OUTPUT_DIR}/report.md: {exc.strerror or exc}")
