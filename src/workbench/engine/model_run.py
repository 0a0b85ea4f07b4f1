"""The work of a model interaction: one backend generation turned into steps and events.

``run_model`` streams the backend's chunks into the run's ``OutputAssembler`` and returns
the final status (and errors) for the runner to apply. ``generate`` is one such generation;
``model_tools.py`` calls it once per hop of the built-in tool loop. Agent interactions do
their work in ``agent/loop.py`` instead; all report through the same ``Run`` (``runner.py``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .backends.base import (
    Backend,
    BackendError,
    FinishChunk,
    GenerationRequest,
    TextChunk,
    ThoughtChunk,
    ToolCallChunk,
    UsageChunk,
)
from .convert import usage_dict
from .live_run import Outcome, Run

log = logging.getLogger("workbench.engine.runner")


@dataclass
class Hop:
    """What one backend generation did (the text and thoughts are already in the run)."""

    finish: str | None = None
    usage: UsageChunk | None = None
    capped: bool = False
    failure: dict[str, str] | None = None


async def generate(
    run: Run,
    backend: Backend,
    request: GenerationRequest,
    cap: int | None,
    on_call: Callable[[str, dict[str, Any]], object],
) -> Hop:
    """One generation streamed into the run's steps; each tool call goes to ``on_call``.

    ``cap`` stops after that many output chunks of the whole run (continuation).
    """
    out = run.assembler
    hop = Hop()
    thoughts = 0
    budget = request.thinking_budget
    stream = backend.generate(request, run.cancel_event)
    try:
        async for chunk in stream:
            if run.cancel_event.is_set():
                break
            if isinstance(chunk, TextChunk | ThoughtChunk):
                if cap is not None and out.output_chunks >= cap:
                    hop.capped = True
                    break
                if isinstance(chunk, TextChunk):
                    out.text(chunk.text)
                    continue
                thoughts += 1
                if run.thought_summaries and (budget is None or thoughts <= budget):
                    out.thought(chunk.text)
            elif isinstance(chunk, ToolCallChunk):
                on_call(chunk.name, dict(chunk.arguments))
            elif isinstance(chunk, UsageChunk):
                hop.usage = chunk
            elif isinstance(chunk, FinishChunk):
                hop.finish = chunk.reason
    except BackendError as exc:
        hop.failure = {"code": exc.code or "internal", "message": str(exc) or "generation failed"}
    except Exception as exc:
        log.exception("backend failed for %s", run.id)
        hop.failure = {"code": "internal", "message": f"generation failed: {exc}"}
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        out.close()
    return hop


def announce_notes(run: Run) -> None:
    """The model gets derived text instead of the media: say so before it answers."""
    if run.thought_summaries and run.request.notes and not run.assembler.steps:
        run.assembler.thought(" ".join(run.request.notes))


def final_status(run: Run, hop: Hop) -> Outcome:
    """The run's outcome after its last generation ``hop``."""
    if run.cancel_event.is_set():
        return run.abort_status, run.abort_errors
    if hop.failure is not None:
        run.assembler.emit({"event_type": "error", "error": hop.failure})
        return "failed", [hop.failure]
    if run.assembler.calls():
        return "requires_action", None
    if hop.capped:
        return "requires_continuation", None
    if hop.finish == "length":
        return "incomplete", None
    return "completed", None


async def run_model(run: Run, backend: Backend, cap: int | None) -> Outcome:
    """Generate once; ``cap`` stops after that many output chunks (continuation)."""
    announce_notes(run)
    out = run.assembler
    hop = await generate(run, backend, run.request, cap, out.call)
    run.record.resource["usage"] = usage_dict(run.request, out, hop.usage)
    return final_status(run, hop)
