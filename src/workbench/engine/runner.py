"""Runs interactions: the status machine, generation tasks, cancel, shutdown and recovery.

A create becomes a ``Run``: its record is written, ``interaction.created`` is logged, and a
task drives the backend, turning chunks into steps and events (``convert.OutputAssembler``).
Every status change goes through ``_transition``, which allows only the transitions of
protocol.md §7.2, bumps ``updated``, logs ``interaction.status_update`` and persists the row.
Whatever happens, a run ends with ``interaction.completed`` carrying its real final status,
and its log is closed so streams end with ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from .agent.runs import AgentRuns
from .aliases import AliasTable
from .attach import Checkpoints, Detacher
from .backends.base import BACKGROUND, FOREGROUND, Backend, GenerationRequest, ModelInfo, priority
from .config import EngineConfig
from .convert import OutputAssembler, generation_request
from .create_request import CreateRequest
from .errors import ApiError, bad_request, not_found
from .eventlog import EventLog
from .live_run import Outcome, Run
from .model_run import run_model
from .model_tools import ModelTools
from .recovery import recover
from .status import (
    DISCONNECTED,
    LEGAL,
    STOPPED,
    TERMINAL,
    lifecycle_view,
    new_interaction_id,
    now,
    resource_view,
)
from .steps import check_function_results, pending_calls
from .store import InteractionRecord, Store

log = logging.getLogger("workbench.engine.runner")
MAX_HISTORY = 10_000


class Runner:
    """Owns every live run and the rules they follow."""

    def __init__(
        self, config: EngineConfig, store: Store, events: EventLog, backend: Backend
    ) -> None:
        self.config = config
        self.store = store
        self.events = events
        self.backend = backend
        self.runs: dict[str, Run] = {}
        self._unstored: set[Run] = set()
        self._slots = asyncio.Semaphore(max(1, config.max_background_runs))
        self.stopping = False
        self.agents: AgentRuns | None = None
        self.checkpoints = Checkpoints(config.checkpoint_events)
        self.detacher = Detacher(config.detach_seconds)
        self.create_checks: list[Callable[[CreateRequest], Awaitable[None]]] = []
        """Checks a create must pass before anything starts (webhook_config destinations)."""
        self.end_hooks: list[Callable[[dict[str, Any]], Awaitable[object]]] = []
        """Called with the final Interaction (no steps) on its own task when a run ends."""
        self._hook_tasks: set[asyncio.Task[object]] = set()

    # -- lookups ------------------------------------------------------------------------

    def model_info(self, model: str) -> ModelInfo | None:
        """The served model for this name: a model id, or a name the alias table maps."""
        return AliasTable(self.config.model_aliases).target(model, self.backend.models())

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

    # -- create -------------------------------------------------------------------------

    async def create(self, req: CreateRequest) -> Run:
        """Validate against stored state, then start the run. Raises ``ApiError`` before work."""
        info: ModelInfo | None = None
        for check in self.create_checks:
            await check(req)
        if req.agent is None:
            self._check_model_only(req)
            assert req.model is not None
            info = self.model_info(req.model)
            if info is None:
                served = ", ".join(m.id for m in self.backend.models())
                raise not_found(
                    f"model {req.model!r} is not served here; available: {served} (and the "
                    "aliases GET /models lists)"
                )
        elif self.agents is None:
            raise not_found(f"agent {req.agent!r} is not available: agents are not enabled")
        else:
            try:
                await self.agents.resolve(req)  # 404 / 400 for the agent itself come first
            except ApiError as exc:
                raise await self._with_saved_agents(exc) from None
        history: list[dict[str, Any]] = []
        prev: InteractionRecord | None = None
        if req.previous_interaction_id is not None:
            prev = await self.record(req.previous_interaction_id)
            if prev is None:
                raise not_found(f"previous interaction {req.previous_interaction_id!r} not found")
            if prev.status not in TERMINAL:
                raise bad_request(
                    f"previous interaction {prev.id!r} is still {prev.status}; wait for it to "
                    "finish or cancel it"
                )
            history = await self.history(prev)
        if req.continuation_token is not None and (
            prev is None
            or prev.status != "requires_continuation"
            or prev.continuation_token != req.continuation_token
        ):
            raise bad_request(
                "continuation_token was not issued by the interaction named in "
                "previous_interaction_id"
            )
        check_function_results(req.input_steps, pending_calls(history))
        if self.agents is not None and req.agent is not None:
            plan = await self.agents.prepare(req, history)
            if self.stopping:
                await plan.discard()
                raise ApiError(503, "the engine is shutting down")
            return await self._start(req, plan.request, prev, work=plan.work, extra=plan.resource)
        assert info is not None
        if req.builtin_tools:
            return await self._start_with_tools(req, history, prev, info)
        # Decoding media and extracting PDF text can take a while: keep it off the loop.
        gen = await asyncio.to_thread(generation_request, req, history, info)
        if self.stopping:
            raise ApiError(503, "the engine is shutting down")
        return await self._start(req, gen, prev)

    async def _start_with_tools(
        self,
        req: CreateRequest,
        history: list[dict[str, Any]],
        prev: InteractionRecord | None,
        info: ModelInfo,
    ) -> Run:
        """A model interaction with built-in tools (``model_tools.py``)."""
        if self.agents is None:
            raise bad_request(
                "built-in tools are not available: this engine runs without its sandbox; "
                "send only 'function' tools"
            )
        plan = await ModelTools(self.agents).prepare(req, history, prev, info)
        if self.stopping:
            await plan.discard()
            raise ApiError(503, "the engine is shutting down")
        return await self._start(req, plan.request, prev, work=plan.work, extra=plan.resource)

    async def _with_saved_agents(self, exc: ApiError) -> ApiError:
        """An unknown agent's 404 also names the saved agents that do exist (the spec's 404)."""
        if exc.http_status != 404 or "saved agent" not in exc.message or self.agents is None:
            return exc
        page = await self.agents.definitions.list(100, None)
        ids = [str(a.get("id")) for a in page.get("agents", []) if isinstance(a, dict)]
        saved = ", ".join(ids) if ids else "none yet"
        return ApiError(404, f"{exc.message}; saved agents: {saved}", exc.code)

    @staticmethod
    def _check_model_only(req: CreateRequest) -> None:
        if req.cached_content is not None:
            # The engine keeps no context caches, so every name is unknown (never ignored).
            raise not_found(
                f"cached content {req.cached_content!r} not found: the local engine has no "
                "context caches; send the content as input instead"
            )

    async def _start(
        self,
        req: CreateRequest,
        gen: GenerationRequest,
        prev: InteractionRecord | None,
        *,
        work: Callable[[Run], Awaitable[Outcome]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Run:
        queued = req.background and self._slots.locked()
        if req.background and not queued:
            await self._slots.acquire()
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
        record = InteractionRecord(
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
        try:
            if req.store:
                await self.store.insert_interaction(record)
        except BaseException:
            if req.background and not queued:
                self._slots.release()
            raise
        channel = self.events.open(record.id, persist=req.store)
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
        run.assembler.emit = lambda payload: self._emit(run, payload)
        if req.store:
            self.runs[run.id] = run
        else:
            self._unstored.add(run)
        self._emit(
            run, {"event_type": "interaction.created", "interaction": lifecycle_view(resource)}
        )
        run.task = asyncio.create_task(self._execute(run, queued, holds_slot=req.background))
        return run

    # -- execution ----------------------------------------------------------------------

    def _emit(self, run: Run, payload: dict[str, Any]) -> None:
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

    async def _transition(self, run: Run, status: str, **extra: Any) -> None:
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
        self._emit(run, event)
        await self._persist(run)

    async def _persist(self, run: Run) -> None:
        if not run.store:
            return
        run.record.output_steps = run.assembler.steps
        try:
            await self.store.update_interaction(run.record)
        except Exception:
            log.exception("could not store interaction %s", run.id)

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
                await self._transition(run, "in_progress")
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
            self.runs.pop(run.id, None)
            self._unstored.discard(run)

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
        await self._transition(run, status, **extra)
        view = lifecycle_view(resource_view(run.record, run.assembler.steps))
        self._emit(run, {"event_type": "interaction.completed", "interaction": view})
        await self.events.finish(run.channel)
        if run.store:
            config = run.record.resource.get("webhook_config")
            self._after_end({**view, **({"webhook_config": config} if config else {})})

    def _after_end(self, view: dict[str, Any]) -> None:
        """Start the end hooks on tasks of their own: a run never waits for a webhook."""
        for hook in self.end_hooks:
            task: asyncio.Task[object] = asyncio.ensure_future(hook(view))
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_done)

    def _hook_done(self, task: asyncio.Task[object]) -> None:
        self._hook_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an end hook failed: %r", task.exception())

    # -- cancel, delete, shutdown ---------------------------------------------------------

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
        runs = list(self.runs.values()) + list(self._unstored)
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
        if self._hook_tasks:  # queue the last webhook events before the store closes
            await asyncio.wait(list(self._hook_tasks), timeout=wait_seconds)
        await self.events.flush()

    async def recover(self) -> int:
        """Apply the restart rule to runs a previous process left unfinished."""
        return await recover(self.store, self.events)
