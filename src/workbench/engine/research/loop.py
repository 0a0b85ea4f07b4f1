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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..agent.turns import Outcome, StepSink, Usage
from ..backends.base import Backend, BackendError
from . import calls, prompts
from .calls import Exhausted
from .chunking import Chunk, Document, chunk_document
from .claims import Claim, check, holds, key_values, split_claims
from .extract import (
    Sentence,
    Weights,
    bridge_queries,
    candidates,
    names,
    relevance,
    stems,
    title,
)
from .index import PassageIndex
from .plan import (
    AFFIRM,
    ResearchLimits,
    ResearchSettings,
    Task,
    parse_plan_lines,
    plan_from_text,
    plan_text,
)
from .report import Finding, Report, build, where

ANSWER_RELEVANCE = 0.75
"""An answer must cover this share of what the best note covers of the question's words."""


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
        self.weights = Weights([])
        self.context: dict[str, str] = {}
        self.hops: set[str] = set()  # stems of the names a second hop followed

    # -- the model ----------------------------------------------------------------------

    async def ask(self, question: str, prompt: str, tokens: int) -> str:
        """One narrow model call; raises ``Exhausted`` when the budget allows no more."""
        return await calls.ask(
            self.backend, self.model, limits=self.limits, usage=self.usage, cancel=self.cancel,
            question=question, prompt=prompt, tokens=tokens,
        )  # fmt: skip

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
        self.weights = Weights(self.state.chunks)
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
        own = stems(task.question)
        extra = [q for q in parse_plan_lines(answer, limit) if stems(q) != own]
        return [task.question, *extra][:limit]

    async def research(
        self, user: str, sub: str, index: PassageIndex, query: str = "", ask: str = "",
        extra: list[Sentence] | None = None,
    ) -> list[Sentence]:  # fmt: skip
        """Search (``query``, default ``sub``), read the best passages, pick their sentences
        that bear on ``sub`` (``extract``) and ask for a note on ``ask`` (default ``sub``)
        from them; ``extra`` sentences (a first hop's) are shown too. Answers the sentences
        shown, best first."""
        hits = await asyncio.to_thread(index.search, query or sub, self.limits.passages)
        if not hits:
            self.state.findings.append(Finding(sub))
            self.state.missing.append(f"{sub}: no passage in the sources matched it")
            self.think(f"Searched the sources for “{query or sub}”: nothing matched.")
            return []
        state = self.state
        picked = candidates(
            query or sub, [h.chunk for h in hits], state.chunks, state.documents, self.weights
        )
        for s in extra or []:
            if s not in picked:
                picked.append(s)
        places = ", ".join(
            f"[{state.number(h.chunk)}] {state.documents[state.chunks[h.chunk].doc].name}, "
            f"{where(state.chunks[h.chunk])}"
            for h in hits
        )
        self.think(f"Searched the sources for “{query or sub}” and read {len(hits)} passages: "
                   f"{places}.")  # fmt: skip
        if not picked:
            self.state.findings.append(Finding(sub))
            self.state.missing.append(f"{sub}: the passages found do not answer it")
            return []
        facts = [(state.number(s.chunk), s.text) for s in picked]
        read = [h.chunk for h in hits] + [s.chunk for s in picked]
        texts = {state.number(c): state.chunks[c].text for c in read}
        answer = await self.ask(
            user, prompts.notes_prompt(ask or sub, facts), self.limits.note_tokens
        )
        claims = check(split_claims(answer), texts, ask or sub)
        if not any(c.cited and not self._halfway(c, ask or sub) for c in claims):
            # Nothing the model wrote is in the passages (or, on a second hop, it only names
            # the go-between): the best sentence itself is the note (a quotation, cited to
            # the passage it was taken from).
            best = picked[0]
            if all(c.text != best.text for c in claims):
                claims = [*claims, Claim(best.text, [state.number(best.chunk)])]
        if extra:
            for claim in claims:
                self.context[claim.text] = " ".join(s.text for s in extra)
        self.state.findings.append(Finding(sub, claims))
        cited = sum(1 for c in claims if c.cited)
        self.think(f"Notes on “{sub}”: {len(claims)} statements, {cited} with a source.")
        return picked

    def bearing(self, claim: Claim, question: str) -> float:
        """How much a note bears on the question: its words, the titles of the documents it
        cites, and (for a second hop) the first hop's sentences it was written from."""
        titles = " ".join(
            title(self.state.documents[self.state.chunks[self.state.numbers[n]].doc])
            for n in claim.cited
        )
        context = self.context.get(claim.text, "")
        return relevance(f"{claim.text} {titles} {context}", question, self.weights)

    async def answer(self, task: Task) -> list[Claim]:
        """The short answer from the cited notes (their numbers kept).

        The model sees the ``answer_notes`` notes that bear most on the question. Its answer
        must pass ``check`` and bear on the question about as much as the best note does (a
        small model often repeats a true but beside-the-point note); a claim bears what the
        notes sharing its key values bear. Otherwise the best note is the answer: a checked
        claim, never an uncited summary.
        """
        notes: list[tuple[float, Claim]] = []
        for finding in self.state.findings:
            for claim in finding.claims:
                if claim.cited and all(c.text != claim.text for _, c in notes):
                    notes.append((self.bearing(claim, task.question), claim))
        if not notes:
            return []
        notes.sort(key=lambda rc: -rc[0])
        best = notes[: self.limits.answer_notes]
        texts = {n: self.state.chunks[self.state.numbers[n]].text for _, c in best for n in c.cited}
        shown = [c.text + " " + "".join(f"[{n}]" for n in c.cited) for _, c in best]
        reply = await self.ask(
            task.user_text, prompts.answer_prompt(task.question, shown), self.limits.answer_tokens
        )
        answer = check(split_claims(reply), texts, task.question)
        top = 0.0
        cited = [c for c in answer if c.cited]
        for claim in cited:
            keys = key_values(claim.text, task.question)
            shared = [r for r, c in notes if keys & holds(c.text)]
            top = max([top, self.bearing(claim, task.question), *shared])
        # After a second hop, an answer that only names the go-between ("The maker is
        # Dunmore Foods") stops halfway: the best note that goes further answers instead.
        further = [c for _, c in notes if not self._halfway(c, task.question)]
        if self.hops and further and all(self._halfway(c, task.question) for c in cited):
            self.think("The short answer stops at the first document: the best note is used.")
            return [further[0]]
        if top > 0 and top >= ANSWER_RELEVANCE * best[0][0]:
            return answer
        self.think("The short answer did not hold up against the notes: the best note is used.")
        return [best[0][1]]

    def _halfway(self, claim: Claim, question: str) -> bool:
        """Whether a claim's key values are only the names a second hop followed."""
        keys = key_values(claim.text, question)
        return bool(self.hops) and keys <= self.hops

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
                await self._research_step(task, sub, index, first=done == 0)
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

    async def _research_step(self, task: Task, sub: str, index: PassageIndex, first: bool) -> None:
        """One sub-question; the research question itself (``first``) may lead to a second
        hop (``bridge_queries``): the name its best sentences add, searched with the words
        they leave uncovered, and noted together with those sentences."""
        if not first:
            # Query expansion: the research question's names keep a sub-question on topic.
            own = " ".join(n for n in names(task.question) if n.lower() not in sub.lower())
            await self.research(task.user_text, sub, index, query=f"{sub} {own}".strip())
            return
        best = await self.research(task.user_text, sub, index)
        for query in bridge_queries(task.question, best):
            if self.cancel.is_set():
                return
            name = (names(query) or [query])[0]
            self.hops |= stems(name)
            label = f"{task.question} (following {name})"
            await self.research(
                task.user_text, label, index, query=query, ask=task.question, extra=best[:2]
            )

    def _confirmed(self, task: Task) -> bool:
        """A planning conversation runs once the user confirms or sends a list; another
        change request gets a revised plan back (still waiting for a confirmation)."""
        return bool(AFFIRM.match(task.reply) or plan_from_text(task.reply))
