"""Token counting for the runs view and the app's own per-run token budget.

The server reports usage in ``interaction.status_update``, ``step.stop`` and
``step.delta.metadata.total_usage``, but some servers (the local engine among them) only do
so at the end. Until a report arrives the meter shows an estimate from the streamed text
(about four characters per token), so a budget can stop a run that never reports usage
mid-way. A reported total always wins over the estimate.

This budget is Workbench's, enforced by cancelling the run (``POST …/cancel``); it is not
the agent's ``max_total_tokens``, which the server enforces itself (``budget_exceeded``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A rough token count of streamed text (at least one per non-empty chunk)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def usage_total(usage: Any) -> int | None:
    """``total_tokens`` of a usage dict (or the sum of its parts), None if it has none."""
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens")
    if isinstance(total, int | str) and str(total).isdigit():
        return int(total)
    parts = [
        usage.get(k) for k in ("total_input_tokens", "total_output_tokens", "total_thought_tokens")
    ]
    numbers = [int(p) for p in parts if isinstance(p, int | str) and str(p).isdigit()]
    return sum(numbers) if numbers else None


@dataclass
class TokenMeter:
    """Tokens of one interaction: reported usage if any, else the running estimate."""

    reported: int | None = None
    estimated: int = 0

    def add_text(self, text: str) -> None:
        self.estimated += estimate_tokens(text)

    def report(self, usage: Any) -> None:
        total = usage_total(usage)
        if total is not None:
            self.reported = max(total, self.reported or 0)

    @property
    def tokens(self) -> int:
        return max(self.reported or 0, self.estimated)

    @property
    def is_estimate(self) -> bool:
        return self.reported is None or self.estimated > self.reported


def over_budget(tokens: int, budget: int | None) -> bool:
    return budget is not None and budget > 0 and tokens >= budget


def budget_message(budget: int, tokens: int) -> str:
    return (
        f"Stopped by Workbench: the run used {tokens:,} tokens, reaching its budget of {budget:,}."
    )
