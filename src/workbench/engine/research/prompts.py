"""The research loop's prompts: narrow questions a 0.5B model can answer.

The harness owns the structure (which sub-questions, which passages, the report's layout);
the model only ever answers one small task at a time, and every prompt says which answer
shape is wanted. Each is sent as a ``user`` message named ``harness`` after the user's own
question, so scripted backends can tell the stages apart (the first line names the stage).
"""

from __future__ import annotations

SYSTEM = (
    "You are a careful research assistant. You answer only from the passages or notes you "
    "are given, and you never invent facts or sources."
)


def plan_prompt(question: str, count: int) -> str:
    """Ask for search questions (one per line) that together cover the research question."""
    return (
        "Stage: plan.\n"
        f"Research question: {question}\n"
        f"Write up to {count} short search questions that together answer the research "
        "question. One question per line, no numbering, nothing else."
    )


def revise_prompt(question: str, plan: list[str], change: str) -> str:
    """Ask for a revised list of search questions after the user's change request."""
    lines = "\n".join(plan)
    return (
        "Stage: revise plan.\n"
        f"Research question: {question}\n"
        f"Current search questions:\n{lines}\n"
        f"The user asks: {change}\n"
        "Write the new list of search questions, one per line, nothing else."
    )


def notes_prompt(question: str, facts: list[tuple[int, str]]) -> str:
    """Ask for one short cited sentence answering a question from numbered sentences (the
    harness picked them from the passages read: ``extract.candidates``)."""
    shown = "\n".join(f"[{n}] {text}" for n, text in facts)
    return (
        "Stage: notes.\n"
        f"Facts:\n{shown}\n\n"
        f"Using only these facts, answer: {question}\n"
        "Write one short sentence with the answer, then the number of the fact you used in "
        "square brackets. If the facts do not answer it, write NONE."
    )


def answer_prompt(question: str, notes: list[str]) -> str:
    """Ask for the final short answer from the cited notes."""
    shown = "\n".join(f"- {n}" for n in notes)
    return (
        "Stage: answer.\n"
        f"Notes:\n{shown}\n\n"
        f"Using only these notes, answer the question: {question}\n"
        "Write one to three sentences. Keep the [n] numbers of the notes you use after each "
        "sentence. If the notes do not answer it, write NONE."
    )
