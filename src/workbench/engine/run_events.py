"""What a run logs and stores as it goes: its events, checkpoints and status changes.

Every status change goes through :meth:`RunEvents.transition`, which allows only the
transitions of protocol.md §7.2, bumps ``updated``, logs ``interaction.status_update`` and
persists the row. Every event goes through :meth:`RunEvents.emit`, which also counts the
steps since the last checkpoint. Apart from :mod:`.run_execution` so that the runner can log
a checkpoint on request (a stream about to be cut) without reaching into a run's task.
"""

from __future__ import annotations

import logging
from typing import Any

from .attach import Checkpoints
from .eventlog import EventLog
from .live_run import Run
from .status import LEGAL, now
from .store import Store

log = logging.getLogger("workbench.engine.runner")


class RunEvents:
    """Emits a run's events and persists its record."""

    def __init__(self, store: Store, events: EventLog, checkpoints: Checkpoints) -> None:
        self.store = store
        self.events = events
        self.checkpoints = checkpoints

    def emit(self, run: Run, payload: dict[str, Any]) -> None:
        """Log one event of the run; every ``checkpoint_events`` steps, a checkpoint too."""
        self.events.emit(run.channel, payload)
        every = self.checkpoints.every
        if not (every and run.store and str(payload.get("event_type", "")).startswith("step.")):
            return
        run.since_checkpoint += 1
        if run.since_checkpoint >= every:
            self.checkpoint_now(run)

    def checkpoint_now(self, run: Run) -> int | None:
        """Log a checkpoint (``continuation_token`` on a status update); its event position.

        None when the run cannot be resumed from here (not stored, or no longer running).
        """
        if not run.store or run.record.status != "in_progress" or run.channel.closed:
            return None
        run.since_checkpoint = 0
        seq = run.channel.last_seq + 1
        self.events.emit(
            run.channel,
            {
                "event_type": "interaction.status_update",
                "interaction_id": run.id,
                "status": "in_progress",
                "continuation_token": self.checkpoints.token(run.id, seq),
            },
        )
        return seq

    async def transition(self, run: Run, status: str, **extra: Any) -> None:
        """Move the run to ``status`` (a legal move only), log it and store the row."""
        current = run.record.status
        if status not in LEGAL.get(current, frozenset()):
            raise RuntimeError(f"illegal transition {current} -> {status} for {run.id}")
        stamp = now()
        run.record.status = status
        run.record.updated = stamp
        run.record.resource["status"] = status
        run.record.resource["updated"] = stamp
        event: dict[str, Any] = {
            "event_type": "interaction.status_update",
            "interaction_id": run.id,
            "status": status,
        }
        event.update(extra)
        self.emit(run, event)
        await self.persist(run)

    async def persist(self, run: Run) -> None:
        """Store the run's record and steps as they are now (a stored run only)."""
        if not run.store:
            return
        run.record.output_steps = run.assembler.steps
        try:
            await self.store.update_interaction(run.record)
        except Exception:
            log.exception("could not store interaction %s", run.id)
