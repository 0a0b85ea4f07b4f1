"""Every live run by id, and the lookups that see a live run before its stored row.

Apart from :mod:`.runner` so that what accepts a create (:mod:`.admission`) and what
executes a run (:mod:`.run_execution`) share one table of live runs without importing the
runner. A live run's record and steps are newer than its row in the store, so every lookup
asks this table first.
"""

from __future__ import annotations

from typing import Any

from .errors import not_found
from .live_run import Run
from .status import resource_view
from .store import InteractionRecord, Store

MAX_HISTORY = 10_000
"""The most interactions one ``previous_interaction_id`` chain is followed through."""


class RunIndex:
    """The live runs: stored ones by id, unstored ones (``store: false``) kept apart."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runs: dict[str, Run] = {}
        self.unstored: set[Run] = set()

    def add(self, run: Run) -> None:
        """A run that just started; only a stored run can be looked up by its id."""
        if run.store:
            self.runs[run.id] = run
        else:
            self.unstored.add(run)

    def discard(self, run: Run) -> None:
        """A run that ended: lookups read its stored row from now on."""
        self.runs.pop(run.id, None)
        self.unstored.discard(run)

    def every(self) -> list[Run]:
        """Every live run, stored or not."""
        return list(self.runs.values()) + list(self.unstored)

    def environment_ids(self) -> set[str]:
        """The environments live runs (running or queued) use: never expired under them."""
        ids = (run.record.resource.get("environment_id") for run in self.every())
        return {env_id for env_id in ids if isinstance(env_id, str)}

    async def record(self, interaction_id: str) -> InteractionRecord | None:
        """A stored interaction, live or finished."""
        run = self.runs.get(interaction_id)
        if run is not None:
            return run.record
        return await self.store.get_interaction(interaction_id)

    async def view(self, interaction_id: str, include_input: bool = False) -> dict[str, Any]:
        """The Interaction resource for GET; 404 when unknown."""
        run = self.runs.get(interaction_id)
        if run is not None:
            return run.snapshot(include_input)
        rec = await self.store.get_interaction(interaction_id)
        if rec is None:
            raise not_found(f"interaction {interaction_id!r} not found")
        return resource_view(rec, include_input=include_input)

    async def history(self, first: InteractionRecord) -> list[dict[str, Any]]:
        """All steps of the conversation ending with ``first`` (oldest first)."""
        chain = [first]
        seen = {first.id}
        rec = first
        while rec.previous_interaction_id and len(chain) < MAX_HISTORY:
            prev = await self.record(rec.previous_interaction_id)
            if prev is None or prev.id in seen:
                break
            chain.append(prev)
            seen.add(prev.id)
            rec = prev
        steps: list[dict[str, Any]] = []
        for item in reversed(chain):
            run = self.runs.get(item.id)
            steps.extend(item.input_steps + (run.assembler.steps if run else item.output_steps))
        return steps
