"""Runs interactions: what the routes call to create, read, follow, cancel and delete them.

The runner wires the parts and keeps the rules that span them: a create is admitted
(:mod:`.admission`: every check against stored state, before any work), then started and
executed (:mod:`.run_execution`: the stored row, background slots, the run's task, its end),
and every event and status change of a run goes through :mod:`.run_events`. Live runs are
looked up in :mod:`.run_index` before the store. What stays here: streams that lose or find
their reader (:mod:`.attach`), cancel, delete, shutdown and the restart rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .admission import Admission
from .agent.runs import AgentRuns
from .attach import Checkpoints, Detacher
from .backends.base import Backend
from .config import EngineConfig
from .create_request import CreateRequest
from .errors import ApiError, bad_request, not_found
from .eventlog import EventLog
from .live_run import Run
from .recovery import recover
from .run_events import RunEvents
from .run_execution import RunExecution
from .run_index import RunIndex
from .status import DISCONNECTED, STOPPED, TERMINAL
from .store import InteractionRecord, Store


class Runner:
    """Owns every live run and the rules they follow."""

    def __init__(
        self, config: EngineConfig, store: Store, events: EventLog, backend: Backend
    ) -> None:
        self.config = config
        self.store = store
        self.events = events
        self.backend = backend
        self.index = RunIndex(store)
        self.runs: dict[str, Run] = self.index.runs
        """The stored live runs by id (unstored ones are in ``index`` only)."""
        self.stopping = False
        self.agents: AgentRuns | None = None
        self.checkpoints = Checkpoints(config.checkpoint_events)
        self.detacher = Detacher(config.detach_seconds)
        self.emitter = RunEvents(store, events, self.checkpoints)
        self.admission = Admission(config, backend, self.index)
        self.execution = RunExecution(config, backend, self.index, self.emitter, self.detacher)
        self.create_checks: list[Callable[[CreateRequest], Awaitable[None]]] = []
        """Checks a create must pass before anything starts (webhook_config destinations)."""
        self.end_hooks: list[Callable[[dict[str, Any]], Awaitable[object]]] = (
            self.execution.end_hooks
        )
        """Called with the final Interaction (no steps) on its own task when a run ends."""

    # -- lookups ------------------------------------------------------------------------

    async def record(self, interaction_id: str) -> InteractionRecord | None:
        """A stored interaction, live or finished."""
        return await self.index.record(interaction_id)

    async def view(self, interaction_id: str, include_input: bool = False) -> dict[str, Any]:
        """The Interaction resource for GET; 404 when unknown."""
        return await self.index.view(interaction_id, include_input)

    # -- create -------------------------------------------------------------------------

    async def create(self, req: CreateRequest) -> Run:
        """Validate against stored state, then start the run. Raises ``ApiError`` before work."""
        for check in self.create_checks:
            await check(req)
        admitted = await self.admission.admit(req, self.agents)
        if self.stopping:
            await admitted.discard()
            raise ApiError(503, "the engine is shutting down")
        try:
            return await self.execution.start(
                req, admitted.request, admitted.prev, work=admitted.work, extra=admitted.extra
            )
        except BaseException:
            # The run never started (its row could not be stored, say): nothing refers to the
            # sandbox made for it, and the client never learnt its id.
            await admitted.discard()
            raise

    def checkpoint_now(self, run: Run) -> int | None:
        """Log a checkpoint (``continuation_token`` on a status update); its event position.

        None when the run cannot be resumed from here (not stored, or no longer running).
        """
        return self.emitter.checkpoint_now(run)

    # -- streams that outlive their connection (attach.py) --------------------------------

    def checkpoint_position(self, req: CreateRequest) -> int | None:
        """The event position a create resumes from, when it names a checkpoint.

        A create with a checkpoint ``continuation_token`` of ``previous_interaction_id`` is
        the SDK reconnecting (§6.7): it gets that interaction's events after the checkpoint,
        never a new generation. Raises 400 for a checkpoint-shaped token that is not one of
        that interaction's.
        """
        token, prev = req.continuation_token, req.previous_interaction_id
        if token is None or not Checkpoints.looks_like(token):
            return None
        position = self.checkpoints.position(token, prev or "")
        if prev is None or position is None:
            raise bad_request(
                "continuation_token is not a checkpoint of the interaction named in "
                "previous_interaction_id (checkpoints end with the engine process)"
            )
        return position

    def reader_left(self, run: Run) -> None:
        """A stream of a foreground run lost its client: detach it, or cancel unstored ones."""
        if run.background or run.record.status in TERMINAL:
            return

        def cancel() -> None:
            self.request_cancel(run, errors=[dict(DISCONNECTED)])

        if not run.store or self.detacher.seconds <= 0:
            cancel()
            return
        self.detacher.detach(run.id, cancel)

    def reader_came(self, interaction_id: str) -> Run | None:
        """A stream follows a live run (counted so a detached run is not cancelled)."""
        run = self.runs.get(interaction_id)
        if run is not None and not run.background:
            self.detacher.attach(interaction_id)
        return run

    # -- cancel, delete, shutdown ---------------------------------------------------------

    def request_cancel(
        self,
        run: Run,
        *,
        status: str = "cancelled",
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        """Ask a run to stop; it ends with ``status`` (cancelled, or failed on shutdown)."""
        self.execution.request_cancel(run, status=status, errors=errors)

    async def cancel(
        self, interaction_id: str, errors: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        """Cancel a running interaction and wait for it to stop; unchanged when terminal."""
        run = self.runs.get(interaction_id)
        if run is not None and "cancel-ignored" in self.config.faults:
            return run.snapshot()  # fault: a cancel that answers while the run goes on
        if run is not None:
            self.request_cancel(run, errors=errors)
            await run.done.wait()
        return await self.view(interaction_id)

    async def cancel_run(self, run: Run, errors: list[dict[str, str]] | None = None) -> None:
        """Cancel a run object (also unstored ones) and wait for it to stop."""
        self.request_cancel(run, errors=errors)
        await run.done.wait()

    async def delete(self, interaction_id: str) -> None:
        """Delete a stored interaction (cancelling it first when it runs); 404 when unknown."""
        run = self.runs.get(interaction_id)
        if run is not None and "delete-no-cancel" in self.config.faults:
            return  # fault: success is answered, the run goes on and stays readable
        if run is not None:
            self.request_cancel(run)
            await run.done.wait()
        if not await self.store.delete_interaction(interaction_id):
            raise not_found(f"interaction {interaction_id!r} not found")

    async def shutdown(self, wait_seconds: float = 5.0) -> None:
        """Stop every run: foreground ones cancelled, background ones failed with a reason."""
        self.stopping = True
        runs = self.index.every()
        for run in runs:
            if run.background:
                self.request_cancel(run, status="failed", errors=[STOPPED])
            else:
                self.request_cancel(
                    run, errors=[{"code": "cancelled", "message": "the engine shut down"}]
                )
        waits = [asyncio.ensure_future(run.done.wait()) for run in runs]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=wait_seconds)
            for waiter in pending:
                waiter.cancel()
            for run in runs:
                if run.task is not None and not run.task.done():
                    run.task.cancel()
        hooks = self.execution.hook_tasks
        if hooks:  # queue the last webhook events before the store closes
            await asyncio.wait(list(hooks), timeout=wait_seconds)
        await self.events.flush()

    async def recover(self) -> int:
        """Apply the restart rule to runs a previous process left unfinished."""
        return await recover(self.store, self.events)
