"""The research loop: plan → search → read → notes → answer → report, within a budget.

The harness owns every step; the model answers one narrow prompt at a time (``prompts``):

1. **sources**: URLs the question names are fetched when allowed (``url_context`` steps),
   then every document is cut into passages (``chunking``) and indexed (``index``, FTS5);
2. **plan**: the research question plus up to ``max_subquestions - 1`` search questions the
   model proposes (the question itself always comes first: it is the best single query);
   with ``collaborative_planning`` the run stops here and the plan is the answer;
3. per sub-question: **search** the index, **read** the best passages (numbered once per
   run, so a passage keeps its number everywhere), ask for **notes** that cite them, and
   keep only citations that exist and relate to the claim (``claims.check``);
4. **answer**: a short answer from the notes, citations checked the same way (when it
   cites nothing, the cited notes of the research question itself are the answer);
5. **report** (``report``): the text with its annotations, streamed, and ``report.md``.

The budget is a number of model calls and of tokens; when either runs out the loop stops
asking, writes the report from what it has and lists what was not researched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..agent.prompt import HARNESS
from ..agent.turns import Outcome, StepSink, Usage
from ..backends.base import (
    Backend,
    BackendError,
    GenerationRequest,
    Message,
    TextChunk,
    UsageChunk,
)
from . import prompts
from .chunking import Chunk, Document, chunk_document
from .claims import Claim, check, split_claims
from .index import PassageIndex, query_terms
from .report import Finding, Report, build, where

log = logging.getLogger("workbench.engine.research")
AFFIRM = re.compile(
    r"^\W*(yes|y|ok|okay|sure|go|go ahead|proceed|confirm(ed)?|start|run( it)?|looks good|"
    r"lgtm|approved?|do it|sounds good|please proceed)\b",
    re.I,
)
PLAN_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$")


@dataclass(frozen=True)
class ResearchLimits:
    """Bounds of one research run.

    Attributes:
        max_model_calls: model calls (plan, notes, answer) before the loop stops asking.
        max_total_tokens: input + output tokens of all calls before it stops asking.
        max_subquestions: sub-questions researched, the research question included.
        passages: passages read per sub-question.
        plan_tokens, note_tokens, answer_tokens: output tokens of each kind of call.
    """

    max_model_calls: int = 12
    max_total_tokens: int = 60_000
    max_subquestions: int = 4
    passages: int = 4
    plan_tokens: int = 120
    note_tokens: int = 160
    answer_tokens: int = 200


@dataclass(frozen=True)
class ResearchSettings:
    """``DeepResearchAgentConfig`` as the loop uses it."""

    thinking_summaries: bool = False
    collaborative_planning: bool = False
    visualization: str = "auto"


@dataclass
class Task:
    """What this turn asks: the question, and a plan from an earlier planning turn.

    Attributes:
        question: the research question (the first user turn of the conversation).
        plan: the sub-questions of a plan the previous turn proposed, or None.
        reply: the user's words in answer to that plan (confirmation or changes).
        script: the user's text as sent, when it differs from ``question``.
    """

    question: str
    plan: list[str] | None = None
    reply: str = ""
    script: str = ""

    @property
    def user_text(self) -> str:
        """What the model sees as the user's message (the question as written)."""
        return self.script or self.question


class Exhausted(Exception):
    """The call or token budget is spent."""


@dataclass
class State:
    """What the run has found so far."""

    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    numbers: dict[int, int] = field(default_factory=dict)
    by_chunk: dict[int, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def number(self, chunk: int) -> int:
        """The run-wide passage number of a chunk (given on first use)."""
        if chunk not in self.by_chunk:
            n = len(self.by_chunk) + 1
            self.by_chunk[chunk] = n
            self.numbers[n] = chunk
        return self.by_chunk[chunk]


def parse_plan_lines(text: str, limit: int) -> list[str]:
    """Questions from a model's (or a user's) list: one per line, numbering stripped."""
    out: list[str] = []
    for raw in text.splitlines():
        match = PLAN_LINE.match(raw)
        line = (match.group(1) if match else raw).strip().strip('"').strip()
        if len(query_terms(line)) < 1 or len(line) < 4 or line.lower().startswith("stage"):
            continue
        if line.lower() not in (o.lower() for o in out):
            out.append(line)
        if len(out) >= limit:
            break
    return out


def plan_text(question: str, plan: list[str], sources: str) -> str:
    """The plan a planning turn answers with (the next turn parses its numbered lines)."""
    lines = "\n".join(f"{i}. {q}" for i, q in enumerate(plan, start=1))
    return (
        f"Research plan for: {question}\n\n{lines}\n\nSources: {sources}.\n\n"
        'Reply "go ahead" to run this plan, send an edited numbered list to replace it, or '
        "say what to change."
    )


def plan_from_text(text: str) -> list[str]:
    """The numbered sub-questions of a plan written by ``plan_text`` (or edited by a user)."""
    return [m.group(1).strip() for m in map(PLAN_LINE.match, text.splitlines()) if m]


class ResearchLoop:
    """One research run's model calls and steps."""

    def __init__(
        self,
        *,
        backend: Backend,
        model: str,
        out: StepSink,
        limits: ResearchLimits,
        settings: ResearchSettings,
        cancel: asyncio.Event,
    ) -> None:
        self.backend = backend
        self.model = model
        self.out = out
        self.limits = limits
        self.settings = settings
        self.cancel = cancel
        self.usage = Usage()
        self.state = State()
        self.report: Report | None = None

    # -- the model ----------------------------------------------------------------------

    async def ask(self, question: str, prompt: str, tokens: int) -> str:
        """One narrow model call; raises ``Exhausted`` when the budget allows no more."""
        if self.usage.turns >= self.limits.max_model_calls:
            raise Exhausted(f"the budget of {self.limits.max_model_calls} model calls")
        if self.usage.total >= self.limits.max_total_tokens:
            raise Exhausted(f"the budget of {self.limits.max_total_tokens} tokens")
        messages = (
            Message(role="system", text=prompts.SYSTEM),
            Message(role="user", text=question),
            Message(role="user", text=prompt, name=HARNESS),
        )
        request = GenerationRequest(
            messages=messages, model=self.model, max_output_tokens=tokens, temperature=0.0,
            seed=1, tool_choice="none",
        )  # fmt: skip
        text = ""
        usage: UsageChunk | None = None
        stream = self.backend.generate(request, self.cancel)
        try:
            async for chunk in stream:
                if self.cancel.is_set():
                    break
                if isinstance(chunk, TextChunk):
                    text += chunk.text
                elif isinstance(chunk, UsageChunk):
                    usage = chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        if usage is not None:
            self.usage.add(usage.input_tokens, usage.output_tokens, usage.thought_tokens)
        else:
            words = sum(len(m.text.split()) for m in messages)
            self.usage.add(words, len(text.split()), 0)
        log.debug("research call %d: %r -> %r", self.usage.turns, prompt[:80], text[:300])
        return text

    def think(self, text: str) -> None:
        """A progress summary as its own ``thought`` step (when summaries are on)."""
        if self.settings.thinking_summaries:
            self.out.thought(text)
            self.out.close()

    # -- the stages ---------------------------------------------------------------------

    def index(self, documents: list[Document]) -> PassageIndex:
        """Chunk and index every document (run in a worker thread)."""
        self.state.documents = documents
        for i, doc in enumerate(documents):
            self.state.chunks.extend(chunk_document(i, doc))
        index = PassageIndex()
        index.add(self.state.chunks)
        return index

    async def plan(self, task: Task) -> list[str]:
        """The sub-questions: a confirmed or edited plan, or the question plus the model's."""
        limit = self.limits.max_subquestions
        if task.plan is not None:
            edited = plan_from_text(task.reply)
            if edited:
                return edited[:limit]
            if task.reply.strip() and not AFFIRM.match(task.reply):
                answer = await self.ask(
                    task.user_text,
                    prompts.revise_prompt(task.question, task.plan, task.reply),
                    self.limits.plan_tokens,
                )
                revised = parse_plan_lines(answer, limit)
                return revised or task.plan[:limit]
            return task.plan[:limit]
        answer = await self.ask(
            task.user_text, prompts.plan_prompt(task.question, limit - 1), self.limits.plan_tokens
        )
        own = set(query_terms(task.question))
        extra = [q for q in parse_plan_lines(answer, limit) if set(query_terms(q)) != own]
        return [task.question, *extra][:limit]

    async def research(self, user: str, sub: str, index: PassageIndex) -> None:
        """Search, read and take cited notes for one sub-question."""
        hits = await asyncio.to_thread(index.search, sub, self.limits.passages)
        if not hits:
            self.state.findings.append(Finding(sub))
            self.state.missing.append(f"{sub}: no passage in the sources matched it")
            self.think(f"Searched the sources for “{sub}”: nothing matched.")
            return
        shown: list[tuple[int, str, str]] = []
        for hit in hits:
            chunk = self.state.chunks[hit.chunk]
            n = self.state.number(hit.chunk)
            doc = self.state.documents[chunk.doc]
            shown.append((n, f"{doc.name}, {where(chunk)}", chunk.text))
        places = ", ".join(f"[{n}] {label}" for n, label, _ in shown)
        self.think(f"Searched the sources for “{sub}” and read {len(shown)} passages: {places}.")
        answer = await self.ask(user, prompts.notes_prompt(sub, shown), self.limits.note_tokens)
        claims = check(split_claims(answer), {n: text for n, _, text in shown})
        self.state.findings.append(Finding(sub, claims))
        if not claims:
            self.state.missing.append(f"{sub}: the passages found do not answer it")
        cited = sum(1 for c in claims if c.cited)
        self.think(f"Notes on “{sub}”: {len(claims)} statements, {cited} with a source.")

    async def answer(self, task: Task) -> list[Claim]:
        """The short answer from the cited notes (their numbers kept)."""
        notes: list[str] = []
        texts: dict[int, str] = {}
        for finding in self.state.findings:
            for claim in finding.claims:
                if claim.cited:
                    notes.append(claim.text + " " + "".join(f"[{n}]" for n in claim.cited))
                    for n in claim.cited:
                        texts[n] = self.state.chunks[self.state.numbers[n]].text
        if not notes:
            return []
        reply = await self.ask(
            task.user_text, prompts.answer_prompt(task.question, notes), self.limits.answer_tokens
        )
        answer = check(split_claims(reply), texts)
        if any(c.cited for c in answer):
            return answer
        # An answer that cites nothing falls back to the cited notes of the question itself
        # (the first sub-question): checked claims, never an uncited summary.
        first = self.state.findings[0] if self.state.findings else None
        fallback = [c for c in first.claims if c.cited] if first is not None else []
        return fallback or answer

    async def run(
        self,
        task: Task,
        documents: list[Document],
        fetch_urls: Callable[[], Awaitable[list[Document]]],
        skipped: list[str],
    ) -> Outcome:
        """Research ``task`` over ``documents`` (plus the URLs ``fetch_urls`` brings)."""
        fetched = await fetch_urls()
        documents = documents + fetched
        index = await asyncio.to_thread(self.index, documents)
        try:
            return await self._run(task, index, skipped)
        finally:
            index.close()

    async def _run(self, task: Task, index: PassageIndex, skipped: list[str]) -> Outcome:
        state = self.state
        names = ", ".join(d.name for d in state.documents[:8])
        more = f" and {len(state.documents) - 8} more" if len(state.documents) > 8 else ""
        sources = (
            f"{len(state.documents)} documents ({names}{more}), {len(state.chunks)} passages"
            if state.documents
            else "no readable documents"
        )
        self.think(f"Read the sources: {sources}.")
        state.missing.extend(f"source not read: {s}" for s in skipped)
        if not state.documents:
            state.missing.append(
                "no sources: put files in the environment, attach documents (Files API) or "
                "name URLs the environment's network allows"
            )
        try:
            plan = await self.plan(task)
        except Exhausted as exc:
            plan = [task.question]
            state.missing.append(f"no research plan: {exc} was reached")
        except BackendError as exc:
            return "failed", [{"code": exc.code or "internal", "message": str(exc)}]
        waiting = task.plan is None or not self._confirmed(task)
        if self.settings.collaborative_planning and waiting:
            self.out.text(plan_text(task.question, plan, sources))
            self.out.close()
            return "completed", None
        self.think("Research plan: " + "; ".join(plan))
        done = 0
        try:
            for sub in plan:
                if self.cancel.is_set():
                    return "cancelled", None
                await self.research(task.user_text, sub, index)
                done += 1
            answer = await self.answer(task)
        except Exhausted as exc:
            rest = plan[done:]
            answer = []
            state.missing.extend(f"{q}: not researched, {exc} was reached" for q in rest)
            if not rest:
                state.missing.append(f"no short answer written: {exc} was reached")
        except BackendError as exc:
            return "failed", [{"code": exc.code or "internal", "message": str(exc)}]
        if self.cancel.is_set():
            return "cancelled", None
        self.report = build(
            task.question, answer, state.findings, state.missing, state.numbers, state.chunks,
            state.documents,
        )  # fmt: skip
        return "completed", None

    def _confirmed(self, task: Task) -> bool:
        """A planning conversation runs once the user confirms or sends a list; another
        change request gets a revised plan back (still waiting for a confirmation)."""
        return bool(AFFIRM.match(task.reply) or plan_from_text(task.reply))


def report_chunks(text: str) -> list[str]:
    """The report cut into paragraphs, streamed as separate text deltas."""
    return [p for p in re.split(r"(?<=\n\n)", text) if p]
