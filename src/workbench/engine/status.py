"""Statuses and their rules (protocol.md §7.2), timestamps, ids and resource views."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from .store import InteractionRecord

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
LEGAL: dict[str | None, frozenset[str]] = {
    None: frozenset({"queued", "in_progress"}),
    "queued": frozenset({"in_progress", "cancelled", "failed"}),
    "in_progress": TERMINAL,
}
RESTARTED = {
    "code": "engine_restarted",
    "message": "The engine stopped while this interaction was running, so it did not finish. "
    "Send the request again to retry.",
}
STOPPED = {
    "code": "engine_stopped",
    "message": "The engine was shut down while this interaction was running, so it did not "
    "finish. Send the request again to retry.",
}
DISCONNECTED = {"code": "cancelled", "message": "client disconnected"}

_last_stamp = dt.datetime.min.replace(tzinfo=dt.UTC)


def now() -> str:
    """RFC 3339 UTC with microseconds, strictly increasing within the process."""
    global _last_stamp
    stamp = dt.datetime.now(dt.UTC)
    if stamp <= _last_stamp:
        stamp = _last_stamp + dt.timedelta(microseconds=1)
    _last_stamp = stamp
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_interaction_id() -> str:
    """A fresh interaction id (``v1_`` like Gemini's)."""
    return "v1_" + secrets.token_urlsafe(18)


def lifecycle_view(resource: dict[str, Any]) -> dict[str, Any]:
    """The partial Interaction carried by lifecycle events (no steps, protocol.md §13 Q4)."""
    keys = (
        "id",
        "object",
        "status",
        "model",
        "agent",
        "created",
        "updated",
        "usage",
        "continuation_token",
        "errors",
        "previous_interaction_id",
    )
    return {k: resource[k] for k in keys if k in resource}


def resource_view(
    record: InteractionRecord,
    output_steps: list[dict[str, Any]] | None = None,
    include_input: bool = False,
) -> dict[str, Any]:
    """The Interaction JSON for a record: resource fields, ``steps``, maybe ``input``."""
    out = dict(record.resource)
    out["steps"] = record.input_steps + (
        record.output_steps if output_steps is None else output_steps
    )
    if include_input and record.has_request_input:
        out["input"] = record.request_input
    for key in ("usage", "errors", "continuation_token"):
        if key in out:
            out[key] = out.pop(key)
    return out
