"""The work of a model interaction: one backend generation turned into steps and events.

``run_model`` streams the backend's chunks into the run's ``OutputAssembler`` and returns
the final status (and errors) for the runner to apply. Agent interactions do their work in
``agent/loop.py`` instead; both report through the same ``Run`` (``runner.py``).
"""

from __future__ import annotations

import contextlib
import logging

from .backends.base import (
    Backend,
    BackendError,
    FinishChunk,
    TextChunk,
    ThoughtChunk,
    ToolCallChunk,
    UsageChunk,
)
from .convert import usage_dict
from .live_run import Outcome, Run

log = logging.getLogger("workbench.engine.runner")


async def run_model(run: Run, backend: Backend, cap: int | None) -> Outcome:
    """Generate once; ``cap`` stops after that many output chunks (continuation)."""
    out = run.assembler
    finish: str | None = None
    usage: UsageChunk | None = None
    capped = False
    thoughts = 0
    budget = run.request.thinking_budget
    failure: dict[str, str] | None = None
    if run.thought_summaries and run.request.notes and not out.steps:
        # The model gets derived text instead of the media: say so before it answers.
        out.thought(" ".join(run.request.notes))
    stream = backend.generate(run.request, run.cancel_event)
    try:
        async for chunk in stream:
            if run.cancel_event.is_set():
                break
            if isinstance(chunk, TextChunk | ThoughtChunk):
                if cap is not None and out.output_chunks >= cap:
                    capped = True
                    break
                if isinstance(chunk, TextChunk):
                    out.text(chunk.text)
                    continue
                thoughts += 1
                if run.thought_summaries and (budget is None or thoughts <= budget):
                    out.thought(chunk.text)
            elif isinstance(chunk, ToolCallChunk):
                out.call(chunk.name, dict(chunk.arguments))
            elif isinstance(chunk, UsageChunk):
                usage = chunk
            elif isinstance(chunk, FinishChunk):
                finish = chunk.reason
    except BackendError as exc:
        failure = {"code": exc.code or "internal", "message": str(exc) or "generation failed"}
    except Exception as exc:
        log.exception("backend failed for %s", run.id)
        failure = {"code": "internal", "message": f"generation failed: {exc}"}
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        out.close()
    run.record.resource["usage"] = usage_dict(run.request, out, usage)
    if run.cancel_event.is_set():
        return run.abort_status, run.abort_errors
    if failure is not None:
        out.emit({"event_type": "error", "error": failure})
        return "failed", [failure]
    if out.calls():
        return "requires_action", None
    if capped:
        return "requires_continuation", None
    if finish == "length":
        return "incomplete", None
    return "completed", None
