"""Saving a run's hops into the local history, so "Open transcript" works offline.

The run tracker (:mod:`.runs`) calls this when a hop's interaction id first arrives and again
with the end state. A run keeps one session: the one it was given, the one its interaction is
already saved in (a chat turn the chat saved first), or a new one titled after the run; each
hop is chained to the one before. The history is a cache: a failure to write it is logged and
the run goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from .history import HistoryStore
from .run_records import RunRecord

log = logging.getLogger(__name__)


def input_steps(value: Any) -> list[Any]:
    """A create's ``input`` as the steps the history keeps (protocol.md §4.1).

    A string or one content block is one ``user_input`` step, so the transcript shows it as
    the user's words (a string used to be kept as its characters); a list — of content
    blocks or of steps, both of which the transcript reads — is kept as sent.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
    if isinstance(value, dict):
        return [{"type": "user_input", "content": [value]}]
    if isinstance(value, list):
        return list(value)
    raise TypeError(f"a run's input must be a string, a content block or a list, not {value!r}")


def save_hop(
    history: HistoryStore, run: RunRecord, data: dict[str, Any], inputs: list[Any] | None
) -> None:
    """Insert or update the run's current interaction; ``data`` may be only ``{"id": …}``.

    ``inputs`` None keeps what was saved before; an earlier save's metrics (the chat's TTFT
    and thought durations) are kept, with the run's elapsed time added.
    """
    iid = run.interaction_id
    if not iid:
        return
    try:
        if not run.session_id:
            run.session_id = history.session_of(iid) or ""
        if not run.session_id:
            run.session_id = history.create_session(run.title, run.profile_id).id
        hops = run.interaction_ids
        parent = hops[-2] if len(hops) > 1 else run.request.get("previous_interaction_id")
        existing = history.interaction(iid)
        history.save_interaction(
            run.session_id,
            iid,
            parent_id=existing.parent_id if existing else parent,
            input_blocks=inputs if inputs is not None else (existing.input if existing else []),
            request=dict(run.request),
            data=data if data.get("status") or not existing else existing.data,
            # Keep what the chat measured (TTFT, thought durations) when it saved first.
            metrics={
                **(existing.metrics if existing else {}),
                "elapsed": round(run.elapsed(), 3),
            },
        )
    except Exception as exc:  # the history is a cache; a run goes on without it
        log.warning("run %s not saved to the history: %s", run.id, exc)
