"""What the run tracker keeps about a run (persisted by :mod:`.run_store`), and small helpers.

Qt-free; see :mod:`.runs` for the tracker itself.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .budget import TokenMeter

TERMINAL = frozenset(
    {
        "completed",
        "requires_action",
        "requires_continuation",
        "incomplete",
        "budget_exceeded",
        "failed",
        "cancelled",
    }
)
RUNNING = frozenset({"queued", "in_progress"})
_REQUEST_DROP = ("input", "previous_interaction_id", "stream", "continuation_token")


class PendingCall(BaseModel):
    """A client-side function call waiting for the user (or already decided)."""

    model_config = ConfigDict(extra="ignore")

    call_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    decision: str = ""
    result: Any = None
    is_error: bool = False


class RunRecord(BaseModel):
    """One tracked run (persisted)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    profile_id: str
    server: str = ""
    target: str = ""
    target_kind: str = "model"
    title: str = ""
    agent_name: str = ""
    interaction_ids: list[str] = Field(default_factory=list)
    status: str = "queued"
    created: float = Field(default_factory=time.time)
    ended: float | None = None
    steps_before: int = 0
    hop_steps: list[int] = Field(default_factory=list)
    tokens_before: int = 0
    hop_reported: int | None = None
    hop_estimated: int = 0
    last_event_id: str | None = None
    budget: int | None = None
    budget_stopped: bool = False
    environment_id: str = ""
    session_id: str = ""
    error: str = ""
    request: dict[str, Any] = Field(default_factory=dict)
    pending: list[PendingCall] = Field(default_factory=list)
    allowed_tools: list[str] = Field(default_factory=list)
    reconnects: int = 0
    origin: str = "runs"
    """"runs" (launched here) or "chat" (a background chat turn; the chat answers its calls)."""
    answer: str = ""
    """The final answer's own words (the last model_output text of the last hop)."""
    verdict: str = ""
    """"finished", "not_done" (see :mod:`.run_outcome`) or "" while it is going."""
    verdict_reason: str = ""
    model: str = ""
    """The model that produced the answer, as the server reported it."""
    progress: str = ""
    """The last line of the newest thought summary (a Deep Research run's stage)."""
    plan: str = ""
    """A Deep Research plan waiting for the user's confirmation (``collaborative_planning``)."""
    stalled: bool = Field(default=False, exclude=True)
    """Still running, but no event for the stall limit (:mod:`.stall`); never persisted:
    after a restart the follower judges it afresh."""

    @property
    def interaction_id(self) -> str:
        return self.interaction_ids[-1] if self.interaction_ids else ""

    @property
    def steps(self) -> int:
        return self.steps_before + len(self.hop_steps)

    def meter(self) -> TokenMeter:
        return TokenMeter(self.hop_reported, self.hop_estimated)

    @property
    def tokens(self) -> int:
        return self.tokens_before + self.meter().tokens

    @property
    def tokens_estimated(self) -> bool:
        return self.status in RUNNING and self.meter().is_estimate

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def not_done(self) -> bool:
        """Ended without doing its task (by status, or by its own final words)."""
        return self.verdict == "not_done"

    @property
    def needs_you(self) -> bool:
        return self.status == "requires_action" and any(not c.decision for c in self.pending)

    def elapsed(self, now: float | None = None) -> float:
        end = self.ended if self.ended is not None else (now or time.time())
        return max(0.0, end - self.created)


TITLE_CHARS = 60


def run_title(text: str, limit: int = TITLE_CHARS) -> str:
    """A one-line title from a prompt: whitespace collapsed, cut at a word with "…" when long
    (a title cut mid-word, "…the amount column to t", reads as a typo)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def format_elapsed(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _wire(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        out = dump(mode="json", by_alias=True, exclude_unset=True)
        return out if isinstance(out, dict) else {}
    return {}


_INPUT_ECHO = frozenset({"user_input", "function_result"})


def output_steps(steps: list[Any]) -> list[dict[str, Any]]:
    """The steps after the echoed input (user input or function results) of one hop."""
    items = [s for s in steps if isinstance(s, dict)]
    start = 0
    while start < len(items) and items[start].get("type") in _INPUT_ECHO:
        start += 1
    return items[start:]


def pending_calls(data: dict[str, Any]) -> list[PendingCall]:
    """``function_call`` steps with no ``function_result`` after them (§12 #11)."""
    steps = data.get("steps") or []
    answered = {s.get("call_id") for s in steps if s.get("type") == "function_result"}
    out = []
    for step in steps:
        if step.get("type") == "function_call" and step.get("id") not in answered:
            args = step.get("arguments")
            out.append(
                PendingCall(
                    call_id=str(step.get("id") or ""),
                    name=str(step.get("name") or ""),
                    arguments=args if isinstance(args, dict) else {},
                )
            )
    return out
