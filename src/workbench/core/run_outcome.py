"""Did a run do its task? A reading of an interaction's status and final answer.

Qt-free. A run the server marks ``completed`` is not always a run that did what it was
asked: an agent that could not find its input ends with an answer such as "I could not
read sales.csv, so no total was written". The Runs dock must never dress that as a green
*finished*; it shows the answer's own words and marks the run *not done* (issue 19).

The status decides first (anything but ``completed`` is not finished). For ``completed``
runs the last ``model_output`` text is checked for a plain statement of failure — only
first-person or explicit phrases ("I could not…", "unable to…", "the task was not
completed"), so an answer that merely *mentions* an error (say, a summary of an error log)
is not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NOT = r"(?:n[o'’]?t|\s+not)"
_FAILURE_PHRASES = (
    rf"\bi\s+(?:could{_NOT}|cannot|can[’']t|was\s+(?:not\s+|un)able\s+to|am\s+(?:not\s+|un)able\s+to"
    rf"|did{_NOT}\s+(?:manage|finish|complete|succeed)|failed\s+to|have{_NOT}\s+been\s+able\s+to"
    r"|ran\s+out\s+of)\b",
    r"\b(?:unable|not\s+able)\s+to\s+(?:complete|finish|do|read|find|open|write|access|locate)\b",
    rf"\b(?:could{_NOT}|cannot|can[’']t)\s+(?:complete|finish|read|find|open|write|access|locate)\b",
    r"\btask\s+(?:was|is|has|could)\s+(?:not\s+(?:been\s+|be\s+)?(?:completed|finished|done)"
    r"|incomplete|failed)\b",
    rf"\b(?:did{_NOT}|could{_NOT})\s+(?:finish|complete)\s+the\s+task\b",
    r"\bgave\s+up\b",
    r"\bstopped\s+before\s+(?:finishing|completing)\b",
)
_FAILURE = re.compile("|".join(_FAILURE_PHRASES), re.IGNORECASE)
"""Plain statements that the task was not done, as an agent (or model) words them."""

FINISHED = "finished"
NOT_DONE = "not_done"


@dataclass(frozen=True)
class Outcome:
    """What became of a run: ``verdict`` is "finished", "not_done" or "" (still going)."""

    verdict: str
    answer: str
    reason: str = ""


def final_answer(data: dict[str, Any]) -> str:
    """The text of the last ``model_output`` step that has any (the run's own last words)."""
    for step in reversed([s for s in data.get("steps") or [] if isinstance(s, dict)]):
        if step.get("type") != "model_output":
            continue
        text = "".join(
            str(c.get("text", ""))
            for c in step.get("content") or []
            if isinstance(c, dict) and c.get("type") == "text"
        ).strip()
        if text:
            return text
    return ""


def states_failure(answer: str) -> bool:
    """True when the answer says in so many words that the task was not done."""
    return bool(_FAILURE.search(answer))


def assess(status: str, data: dict[str, Any]) -> Outcome:
    """The verdict on a run from its status and its final answer."""
    answer = final_answer(data)
    if status in ("", "queued", "in_progress", "requires_action"):
        return Outcome("", answer)
    if status != "completed":
        return Outcome(NOT_DONE, answer, f"the server ended it as {status.replace('_', ' ')}")
    if states_failure(answer):
        return Outcome(NOT_DONE, answer, "its final answer says the task was not done")
    return Outcome(FINISHED, answer)


def answered_by(data: dict[str, Any], request: dict[str, Any] | None = None) -> str:
    """The model that produced an interaction's answer, as the server reports it.

    ``model`` on the interaction first, then its (echoed) ``agent_config.model``, then what
    was asked for; an agent run with none of these names its agent. Never the base agent id
    when a model is known: the answer is the model's words.
    """
    request = request or {}
    for source in (data, request):
        model = source.get("model")
        if isinstance(model, str) and model:
            return model
    for source in (data, request):
        config = source.get("agent_config")
        model = config.get("model") if isinstance(config, dict) else None
        if isinstance(model, str) and model:
            return model
    agent = data.get("agent") or request.get("agent")
    return str(agent or "")
