"""The restart rule: runs a previous process left unfinished end ``failed``.

At startup every interaction still ``queued`` or ``in_progress`` in the database belonged to a
process that died. Its output steps are rebuilt by folding its event log, a step left open is
closed, and the log is completed with ``error`` (``engine_restarted``), the status update and
``interaction.completed``, so a client re-attaching to the stream sees it end.
"""

from __future__ import annotations

import json

from .convert import fold_events
from .eventlog import EventLog
from .status import RESTARTED, lifecycle_view, now, resource_view
from .store import InteractionRecord, Store


async def recover(store: Store, events: EventLog) -> int:
    """Fail runs a previous process left unfinished and complete their logs."""
    count = 0
    for rec in await store.unfinished_interactions():
        await _recover_one(store, events, rec)
        count += 1
    return count


async def _recover_one(store: Store, events: EventLog, rec: InteractionRecord) -> None:
    stored = await store.events_after(rec.id, 0)
    payloads = [json.loads(e.data) for e in stored]
    steps, open_index = fold_events(payloads)
    first = len(rec.input_steps)
    rec.output_steps = [steps[i] for i in sorted(steps) if i >= first]
    channel = events.open(rec.id, persist=True, next_seq=(stored[-1].seq + 1) if stored else 1)
    if not stored:
        events.emit(
            channel,
            {"event_type": "interaction.created", "interaction": lifecycle_view(rec.resource)},
        )
    if open_index is not None:
        events.emit(channel, {"event_type": "step.stop", "index": open_index})
    events.emit(channel, {"event_type": "error", "error": dict(RESTARTED)})
    stamp = now()
    rec.status = "failed"
    rec.updated = stamp
    rec.resource.update(status="failed", updated=stamp, errors=[dict(RESTARTED)])
    events.emit(
        channel,
        {
            "event_type": "interaction.status_update",
            "interaction_id": rec.id,
            "status": "failed",
        },
    )
    view = lifecycle_view(resource_view(rec))
    events.emit(channel, {"event_type": "interaction.completed", "interaction": view})
    await store.update_interaction(rec)
    await events.finish(channel)
