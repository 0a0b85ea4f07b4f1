"""Turns written straight into a history store, shaped as the app saves them.

For Compare tests and screenshots: two sessions (different models and settings) and a
session with two branches, without running an engine.
"""

from __future__ import annotations

from typing import Any

from workbench.core.history import HistoryStore


def turn_data(
    iid: str,
    question: str,
    answer: str,
    *,
    model: str = "qwen2.5-coder-0.5b",
    status: str = "completed",
    tokens: tuple[int, int] = (20, 40),
) -> dict[str, Any]:
    return {
        "id": iid,
        "status": status,
        "model": model,
        "steps": [
            {"type": "user_input", "content": [{"type": "text", "text": question}]},
            {"type": "model_output", "content": [{"type": "text", "text": answer}]},
        ],
        "usage": {"total_input_tokens": tokens[0], "total_output_tokens": tokens[1]},
    }


def save_turn(
    history: HistoryStore,
    session_id: str,
    iid: str,
    question: str,
    answer: str,
    *,
    parent: str | None = None,
    request: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    model = kwargs.get("model", "qwen2.5-coder-0.5b")
    history.save_interaction(
        session_id,
        iid,
        parent_id=parent,
        input_blocks=[{"type": "user_input", "content": [{"type": "text", "text": question}]}],
        request=request if request is not None else {"model": model, "stream": True},
        data=turn_data(iid, question, answer, **kwargs),
        metrics=metrics if metrics is not None else {"ttft": 0.25, "elapsed": 1.5},
    )


QUESTION = "Write a Python function that checks whether a number is prime."
ANSWER_A = (
    "Here is a simple version:\n\n```python\ndef is_prime(n):\n    if n < 2:\n        return False\n"
    "    for i in range(2, int(n ** 0.5) + 1):\n        if n % i == 0:\n            return False\n"
    "    return True\n```\n\nIt tries every divisor up to the square root of n."
)
ANSWER_B = (
    "Here is a short version:\n\n```python\ndef is_prime(n):\n    if n < 2:\n        return False\n"
    "    return all(n % i for i in range(2, int(n ** 0.5) + 1))\n```\n\n"
    "It tries every divisor up to the square root of n, and stops at the first one."
)


def seed_two_sessions(history: HistoryStore) -> tuple[str, str]:
    """Two one-turn sessions asking the same thing of two models with other settings."""
    a = history.create_session("Prime check — 0.5B").id
    save_turn(
        history,
        a,
        "int_a1",
        QUESTION,
        ANSWER_A,
        request={
            "model": "qwen2.5-coder-0.5b",
            "system_instruction": "You are a terse Python tutor.",
            "generation_config": {"temperature": 0.2, "max_output_tokens": 256},
            "stream": True,
        },
        metrics={"ttft": 0.31, "elapsed": 2.4, "generation_seconds": 2.0},
        tokens=(38, 74),
    )
    b = history.create_session("Prime check — 1.5B").id
    save_turn(
        history,
        b,
        "int_b1",
        QUESTION,
        ANSWER_B,
        model="qwen2.5-coder-1.5b",
        request={
            "model": "qwen2.5-coder-1.5b",
            "system_instruction": "You are a terse Python tutor.",
            "generation_config": {"temperature": 0.7, "max_output_tokens": 256},
            "tools": [{"type": "code_execution"}],
            "stream": True,
        },
        metrics={"ttft": 0.82, "elapsed": 4.1, "generation_seconds": 3.2},
        tokens=(41, 66),
    )
    return a, b


def seed_branches(history: HistoryStore) -> tuple[str, str, str]:
    """A session whose second turn was edited and resent: (session, leaf 1, leaf 2)."""
    sid = history.create_session("Branching session").id
    save_turn(history, sid, "int_r1", "Name a fruit.", "Apple.")
    save_turn(history, sid, "int_r2a", "Another one?", "Pear.", parent="int_r1")
    save_turn(history, sid, "int_r2b", "Another one, yellow?", "Banana.", parent="int_r1")
    return sid, "int_r2a", "int_r2b"
