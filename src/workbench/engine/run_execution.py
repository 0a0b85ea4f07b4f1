"""Starting and executing runs: the first stored row, background slots, the task, the end.

A started run gets its record written, ``interaction.created`` logged, and a task that
drives its work (``run_model``, or an agent's / a tool loop's ``Run.work``), turning chunks
into steps and events (``convert.OutputAssembler``). A background run takes one of
``max_background_runs`` slots or waits ``queued`` for one; the slot taken by
:meth:`RunExecution.start` is released when :meth:`RunExecution._execute` ends, so both live
here. Whatever happens, a run ends with ``interaction.completed`` carrying its real final
status, and its log is closed so streams end with ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from .attach import Detacher
from .backends.base import BACKGROUND, FOREGROUND, Backend, GenerationRequest, priority
from .config import EngineConfig
from .convert import OutputAssembler
from .create_request import CreateRequest
from .live_run import Outcome, Run
from .model_run import run_model
from .run_events import RunEvents
from .run_index import RunIndex
from .status import STOPPED, TERMINAL, lifecycle_view, new_interaction_id, now, resource_view
from .store import InteractionRecord

log = logging.getLogger("workbench.engine.runner")


def initial_record(
    req: CreateRequest,
    prev: InteractionRecord | None,
    queued: bool,
    extra: dict[str, Any] | None,
) -> InteractionRecord:
    """The interaction as it is stored when its run starts (``queued`` or ``in_progress``)."""
    stamp = now()
    resource: dict[str, Any] = {
        "id": new_interaction_id(),
        "object": "interaction",
        "status": "queued" if queued else "in_progress",
        **({"agent": req.agent} if req.agent is not None else {"model": req.model}),
        "created": stamp,
        "updated": stamp,
    }
    if prev is not None:
        resource["previous_interaction_id"] = prev.id
    resource.update(req.echo)
    resource.update(extra or {})
    return InteractionRecord(
        id=resource["id"],
        status=resource["status"],
        created=stamp,
        updated=stamp,
        resource=resource,
        input_steps=req.input_steps,
        previous_interaction_id=prev.id if prev else None,
        request_input=req.body.get("input"),
        has_request_input=req.input_present,
    )


class RunExecution:
    """Starts runs, drives each on its own task and ends it; asks a run to stop."""

    def __init__(
        self,
        config: EngineConfig,
        backend: Backend,
        index: RunIndex,
        emitter: RunEvents,
        detacher: Detacher,
    ) -> None:
        self.config = config
        self.backend = backend
        self.index = index
        self.emitter = emitter
        self.detacher = detacher
        self._slots = asyncio.Semaphore(max(1, config.max_background_runs))
        self.end_hooks: list[Callable[[dict[str, Any]], Awaitable[object]]] = []
        """Called with the final Interaction (no steps) on its own task when a run ends."""
        self.hook_tasks: set[asyncio.Task[object]] = set()

    async def start(
        self,
        req: CreateRequest,
        gen: GenerationRequest,
        prev: InteractionRecord | None,
        *,
        work: Callable[[Run], Awaitable[Outcome]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Run:
        """Store the new interaction, log ``interaction.created`` and start its task."""
        queued = req.background and self._slots.locked()
        if req.background and not queued:
            await self._slots.acquire()
        record = initial_record(req, prev, queued, extra)
        try:
            if req.store:
                await self.emitter.store.insert_interaction(record)
        except BaseException:
            if req.background and not queued:
                self._slots.release()
            raise
        events = self.emitter.events
        channel = events.open(record.id, persist=req.store)
        run = Run(
            record=record,
            channel=channel,
            request=gen,
            background=req.background,
            store=req.store,
            continuable=(
                not req.background and req.store and self.config.continuation_cap is not None
            ),
            assembler=OutputAssembler(len(req.input_steps), lambda p: None),
            thought_summaries=req.thought_summaries,
            work=work,
        )
        run.assembler.emit = lambda payload: self.emitter.emit(run, payload)
        self.index.add(run)
        self.emitter.emit(
            run,
            {"event_type": "interaction.created", "interaction": lifecycle_view(record.resource)},
        )
        run.task = asyncio.create_task(self._execute(run, queued, holds_slot=req.background))
        return run

    def request_cancel(
        self,
        run: Run,
        *,
        status: str = "cancelled",
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        """Ask a run to stop; it ends with ``status`` (cancelled, or failed on shutdown)."""
        if run.cancel_event.is_set() or run.record.status in TERMINAL:
            return
        run.abort_status = status
        run.abort_errors = errors
        run.cancel_event.set()
        gen = run.gen_task
        if gen is not None:
            grace = self.config.shutdown_grace_seconds
            asyncio.get_running_loop().call_later(
                grace, lambda: None if gen.done() else gen.cancel()
            )

    async def _execute(self, run: Run, queued: bool, holds_slot: bool) -> None:
        status = "failed"
        errors: list[dict[str, str]] | None = None
        try:
            if queued:
                acquired = await self._wait_for_slot(run)
                holds_slot = acquired
                if not acquired:
                    await self._finish(run, run.abort_status, run.abort_errors)
                    return
                await self.emitter.transition(run, "in_progress")
            run.gen_task = asyncio.create_task(self._work(run))
            try:
                status, errors = await run.gen_task
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                status, errors = run.abort_status, run.abort_errors
            await self._finish(run, status, errors)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self._finish(run, "failed", [STOPPED])
            raise
        except Exception as exc:
            log.exception("run %s crashed", run.id)
            with contextlib.suppress(Exception):
                await self._finish(run, "failed", [{"code": "internal", "message": str(exc)}])
        finally:
            if holds_slot:
                self._slots.release()
            self.detacher.forget(run.id)
            run.done.set()
            self.index.discard(run)

    async def _wait_for_slot(self, run: Run) -> bool:
        acquire = asyncio.ensure_future(self._slots.acquire())
        cancelled = asyncio.ensure_future(run.cancel_event.wait())
        try:
            await asyncio.wait({acquire, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
        if acquire.done() and not acquire.cancelled() and not run.cancel_event.is_set():
            return True
        if acquire.done() and not acquire.cancelled():
            self._slots.release()
        else:
            acquire.cancel()
        return False

    async def _work(self, run: Run) -> Outcome:
        # The run's own task: its generations (an agent's many) are foreground or background.
        priority.set(BACKGROUND if run.background else FOREGROUND)
        if "stall" in self.config.faults:
            # Fault: stuck in_progress, as real interactions sometimes are; only a cancel ends it.
            await run.cancel_event.wait()
            return run.abort_status, run.abort_errors
        if run.work is not None:
            return await run.work(run)
        cap = self.config.continuation_cap if run.continuable else None
        return await run_model(run, self.backend, cap)

    async def _finish(self, run: Run, status: str, errors: list[dict[str, str]] | None) -> None:
        if run.record.status in TERMINAL:
            return
        run.assembler.close()
        extra: dict[str, Any] = {}
        if status == "requires_continuation":
            token = "ct_" + secrets.token_urlsafe(18)
            run.record.continuation_token = token
            run.record.resource["continuation_token"] = token
            extra["continuation_token"] = token
        if errors:
            run.record.resource["errors"] = errors
        if "omit-usage" in self.config.faults:
            run.record.resource.pop("usage", None)  # fault: as the real service sometimes does
        if "usage" in run.record.resource:
            extra["usage"] = run.record.resource["usage"]
        await self.emitter.transition(run, status, **extra)
        view = lifecycle_view(resource_view(run.record, run.assembler.steps))
        self.emitter.emit(run, {"event_type": "interaction.completed", "interaction": view})
        await self.emitter.events.finish(run.channel)
        if run.store:
            config = run.record.resource.get("webhook_config")
            self._after_end({**view, **({"webhook_config": config} if config else {})})

    def _after_end(self, view: dict[str, Any]) -> None:
        """Start the end hooks on tasks of their own: a run never waits for a webhook."""
        for hook in self.end_hooks:
            task: asyncio.Task[object] = asyncio.ensure_future(hook(view))
            self.hook_tasks.add(task)
            task.add_done_callback(self._hook_done)

    def _hook_done(self, task: asyncio.Task[object]) -> None:
        self.hook_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an end hook failed: %r", task.exception())
