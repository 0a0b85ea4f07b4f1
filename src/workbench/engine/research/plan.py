"""What a research run is asked (``Task``, its limits and settings) and its plan.

The plan is the model's (or the user's) list of search questions; a ``collaborative_planning``
turn answers with the plan text, which the next turn confirms, edits or changes.

A 0.5B model writes its list in many shapes — numbered, bulleted, several questions on one
line, an endless run of near-copies — so a line is cut at each ``?``, numbering and quotes
are stripped, and over-long or repeated questions are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .index import query_terms

AFFIRM = re.compile(
    r"^\W*(yes|y|ok|okay|sure|go|go ahead|proceed|confirm(ed)?|start|run( it)?|looks good|"
    r"lgtm|approved?|do it|sounds good|please proceed)\b",
    re.I,
)
PLAN_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$")
MAX_PLAN_WORDS = 20


def parse_plan_lines(text: str, limit: int) -> list[str]:
    """Questions from a model's (or a user's) list: one per line, numbering stripped."""
    out: list[str] = []
    for raw in text.splitlines():
        match = PLAN_LINE.match(raw)
        body = (match.group(1) if match else raw).strip()
        for piece in re.split(r"(?<=\?)\s+", body):  # "Q1? Q2? Q3?" on one line
            line = piece.strip().strip('"').strip()
            if len(query_terms(line)) < 1 or len(line) < 4 or line.lower().startswith("stage"):
                continue
            if len(line.split()) > MAX_PLAN_WORDS:
                continue
            if line.lower() not in (o.lower() for o in out):
                out.append(line)
            if len(out) >= limit:
                return out
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


@dataclass(frozen=True)
class ResearchLimits:
    """Bounds of one research run.

    Attributes:
        max_model_calls: model calls (plan, notes, answer) before the loop stops asking.
        max_total_tokens: input + output tokens of all calls before it stops asking.
        max_subquestions: sub-questions researched, the research question included.
        passages: passages read per sub-question.
        plan_tokens, note_tokens, answer_tokens: output tokens of each kind of call.
        answer_notes: notes shown for the short answer (those that bear most on it).
    """

    max_model_calls: int = 12
    max_total_tokens: int = 60_000
    max_subquestions: int = 4
    passages: int = 4
    plan_tokens: int = 120
    note_tokens: int = 160
    answer_tokens: int = 200
    answer_notes: int = 3


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
