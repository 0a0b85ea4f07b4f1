"""How what a server says about a run changes its record: stream events, snapshots, end states.

Qt-free and I/O-free, so the rules for status, steps, tokens, sandbox, progress text and the
final verdict live in one place whichever way the news arrives — the run's own stream
(:class:`.runs.RunTracker`), the chat's stream of a turn the tracker adopted, or the whole
interaction fetched when a hop ends.
"""

from __future__ import annotations

import json
import time
from typing import Any

from workbench.client import InteractionSnapshot

from .budget import estimate_tokens
from .follower import Snapshot
from .research import plan_text, progress_line
from .run_outcome import answered_by, assess
from .run_records import RUNNING, TERMINAL, RunRecord, _wire, output_steps, pending_calls

Thoughts = dict[str, tuple[int, str]]
"""Per run id: the index and text so far of the thought summary streaming now."""


def record_usage(run: RunRecord, usage: Any) -> None:
    """Take the server's token count for this hop, when it sent one."""
    if usage:
        meter = run.meter()
        meter.report(usage)
        run.hop_reported = meter.reported


def record_progress(run: RunRecord, thoughts: Thoughts, index: Any, text: Any) -> None:
    """The newest thought summary's last line becomes the run's progress text."""
    if not isinstance(text, str):
        return
    seen_index, so_far = thoughts.get(run.id, (-1, ""))
    so_far = so_far + text if index == seen_index else text
    thoughts[run.id] = (index if isinstance(index, int) else -1, so_far)
    run.progress = progress_line(so_far) or run.progress


def fold_event(run: RunRecord, item: Any, thoughts: Thoughts) -> None:
    """One item of a run's stream (an event, or the snapshot a re-attach starts with)."""
    if isinstance(item, InteractionSnapshot):
        data = _wire(item.interaction)
        run.status = str(data.get("status") or run.status)
        run.hop_steps = list(range(len(output_steps(data.get("steps") or []))))
        meter = run.meter()
        meter.report(data.get("usage"))
        run.hop_reported = meter.reported
        return
    event_id = getattr(item, "event_id", None)
    if isinstance(event_id, str):
        run.last_event_id = event_id
    kind = getattr(item, "event_type", None)
    if kind in ("interaction.created", "interaction.completed"):
        inter = _wire(getattr(item, "interaction", None))
        if inter.get("status"):
            run.status = str(inter["status"])
        record_usage(run, inter.get("usage"))
        if inter.get("environment_id"):
            run.environment_id = str(inter["environment_id"])
    elif kind == "interaction.status_update":
        status = getattr(item, "status", None)
        if status:
            run.status = str(status)
        record_usage(run, _wire(getattr(item, "usage", None)) or None)
    elif kind == "step.start":
        index = getattr(item, "index", None)
        step_type = getattr(getattr(item, "step", None), "type", None)
        if isinstance(index, int) and step_type != "user_input" and index not in run.hop_steps:
            run.hop_steps.append(index)
    elif kind == "step.delta":
        delta = _wire(getattr(item, "delta", None))
        text = delta.get("text")
        if delta.get("type") == "thought_summary":
            content = delta.get("content")
            text = content.get("text") if isinstance(content, dict) else None
            record_progress(run, thoughts, getattr(item, "index", None), text)
        if isinstance(text, str):
            run.hop_estimated += estimate_tokens(text)
        meta = _wire(getattr(item, "metadata", None))
        record_usage(run, meta.get("total_usage"))
    elif kind == "step.stop":
        record_usage(run, _wire(getattr(item, "usage", None)) or None)
    elif kind == "error":
        err = _wire(getattr(item, "error", None))
        run.error = str(err.get("message") or "The server reported an error.")


def record_outcome(run: RunRecord, data: dict[str, Any]) -> None:
    """The verdict on a hop that ended (:mod:`.run_outcome`) and the model that answered."""
    outcome = assess(run.status, data)
    run.answer, run.verdict, run.verdict_reason = outcome.answer, outcome.verdict, outcome.reason
    run.model = answered_by(data, run.request) or run.model


def fold_end_state(run: RunRecord, data: dict[str, Any]) -> None:
    """The interaction fetched whole when a hop ended: status, tokens, sandbox, steps."""
    run.status = str(data.get("status") or run.status)
    record_usage(run, data.get("usage"))
    if data.get("environment_id"):
        run.environment_id = str(data["environment_id"])
    outputs = output_steps(data.get("steps") or [])
    if len(outputs) > len(run.hop_steps):
        run.hop_steps = list(range(len(outputs)))


def record_end(run: RunRecord, data: dict[str, Any]) -> None:
    """After the end state is saved: calls waiting for the user, the verdict, a plan."""
    if run.status == "requires_action" and run.origin != "chat":
        run.pending = pending_calls(data)
    record_outcome(run, data)
    run.plan = plan_text(data, run.request)


def fold_chat_snapshot(run: RunRecord, snap: Snapshot) -> bool:
    """A snapshot of an adopted chat turn, published by the chat's own stream.

    Until the server reports usage, tokens are estimated from the text so far. True when
    the run's status or its stalled flag changed.
    """
    data = snap.data
    status_before = run.status
    if snap.last_event_id:
        run.last_event_id = snap.last_event_id
    run.status = str(data.get("status") or run.status)
    stalled_before, run.stalled = run.stalled, snap.stalled and not snap.done
    outputs = output_steps(data.get("steps") or [])
    run.hop_steps = list(range(len(outputs)))
    run.hop_estimated = estimate_tokens(json.dumps(outputs, ensure_ascii=False))
    record_usage(run, data.get("usage"))
    if data.get("environment_id"):
        run.environment_id = str(data["environment_id"])
    if snap.done:
        if snap.error and run.status in RUNNING:
            run.status = "failed"
        run.error = snap.error
        record_outcome(run, data)
        if run.status in TERMINAL:
            run.ended = time.time()
    return run.status != status_before or run.stalled != stalled_before
