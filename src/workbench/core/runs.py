"""The run tracker: every background interaction launched from the app, on any server.

Qt-free. A run is one background job as the user sees it: the interaction created first and
the ones that continue it after client-side function calls (its *hops*). For each run the
tracker keeps status, elapsed time, step count, tokens so far, the last ``event_id`` and the
sandbox (``environment_id``) in the history database (:mod:`.run_store`), so that after a restart
the app re-attaches with ``GET …?stream=true&last_event_id=…`` — reconnecting, never
re-creating: a create is POSTed exactly once per hop (protocol.md §6.6, §7.3, §12 #16–19).

When a hop ends the tracker fetches the whole interaction once, saves it into the history
(so "Open transcript" works offline), and lists the function calls still waiting for a
result. The app's per-run token budget (:mod:`.budget`) cancels a run that reaches it.

Callers (the UI controller) run :meth:`RunTracker.launch`, :meth:`attach` and
:meth:`continue_run` as named tasks and get ``on_change(run)`` callbacks, throttled to
``notify_seconds`` except on status changes.

Runs are saved at most every ``save_seconds`` while they stream, and within
``burst_seconds`` (0.2 s) of a status change: changes that come together (fifty runs launched
at once, a wave of them ending) share one transaction, which updates only the rows of runs
that changed. ``save()`` writes at once (quitting, forgetting a run). A ``runs.json`` from
an older Workbench is imported once (:meth:`.run_store.RunStore.import_json`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.client import Client, InteractionSnapshot, InteractionStream, NotFoundError

from .budget import budget_message, estimate_tokens, over_budget
from .errors import explain
from .follower import Followers, Snapshot
from .history import HistoryStore
from .research import plan_text, progress_line
from .run_outcome import answered_by, assess
from .run_records import (
    _REQUEST_DROP,
    RUNNING,
    TERMINAL,
    PendingCall,
    RunRecord,
    _wire,
    format_elapsed,
    output_steps,
    pending_calls,
)
from .run_store import RunStore
from .stall import DeleteOutcome, StallWatch, stall_seconds, stop_and_delete
from .stream import StreamAccumulator

__all__ = [
    "RUNNING",
    "TERMINAL",
    "PendingCall",
    "RunRecord",
    "RunTracker",
    "format_elapsed",
    "output_steps",
    "pending_calls",
]

log = logging.getLogger(__name__)


class RunTracker:
    """Tracks runs, persists them in ``history``'s database and saves finished hops there.

    ``path`` is the ``runs.json`` of an older Workbench: imported once if it exists.
    """

    def __init__(
        self,
        path: Path,
        history: HistoryStore,
        *,
        on_change: Callable[[RunRecord], None] | None = None,
        notify_seconds: float = 0.1,
        save_seconds: float = 1.0,
        burst_seconds: float = 0.2,
        followers: Followers | None = None,
        stall_limit: float | None = None,
    ) -> None:
        self.path = path
        self.store = RunStore(history)
        self.stall_seconds = stall_seconds(stall_limit)
        """No event for this long while a run streams: it is marked stalled (:mod:`.stall`)."""
        self._stall_watches: dict[str, StallWatch] = {}
        self.followers = followers if followers is not None else Followers()
        """Where runs' snapshots are published, and where a chat turn it adopts is watched."""
        self._accumulators: dict[str, StreamAccumulator] = {}
        self._thoughts: dict[str, tuple[int, str]] = {}
        """Per run: the index and text so far of the thought summary streaming now."""
        self.history = history
        self.on_change = on_change
        self.notify_seconds = notify_seconds
        self.save_seconds = save_seconds
        self.runs: dict[str, RunRecord] = {}
        self.default_budget: int | None = None
        """The token budget given to new runs (the Runs dock's setting), kept in the file."""
        self.burst_seconds = burst_seconds
        self._notified: dict[str, float] = {}
        self._saved_at = 0.0
        self._pending_save: asyncio.TimerHandle | None = None
        self._load()

    # --- persistence ---------------------------------------------------------------------

    def _load(self) -> None:
        try:
            if self.path.exists():
                self.store.import_json(self.path)
            self.default_budget, runs = self.store.load()
        except (OSError, sqlite3.Error) as exc:
            log.warning("runs unreadable (%s); starting empty", exc)
            return
        self.runs = {run.id: run for run in runs}

    def save(self) -> None:
        """Write the runs that changed now (one transaction)."""
        if self._pending_save is not None:
            self._pending_save.cancel()
            self._pending_save = None
        if self.history.closed:  # the app is gone; a late timer has nothing to write to
            return
        try:
            self.store.save(self.runs.values(), self.default_budget)
        except sqlite3.Error as exc:
            log.warning("runs not saved: %s", exc)
        self._saved_at = time.monotonic()

    def _save_soon(self) -> None:
        """Save within ``burst_seconds`` (at once when no event loop runs)."""
        if self._pending_save is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.save()
            return
        self._pending_save = loop.call_later(self.burst_seconds, self.save)

    def _changed(self, run: RunRecord, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._saved_at >= self.save_seconds:
            self._save_soon()
        if self.on_change is None:
            return
        if force or now - self._notified.get(run.id, 0.0) >= self.notify_seconds:
            self._notified[run.id] = now
            self.on_change(run)

    # --- queries -------------------------------------------------------------------------

    def records(self) -> list[RunRecord]:
        return sorted(self.runs.values(), key=lambda r: r.created, reverse=True)

    def get(self, run_id: str) -> RunRecord | None:
        return self.runs.get(run_id)

    def by_interaction(self, interaction_id: str) -> RunRecord | None:
        for run in self.runs.values():
            if interaction_id in run.interaction_ids:
                return run
        return None

    def to_attach(self, profile_id: str) -> list[RunRecord]:
        """Runs of this server that were still going when last seen."""
        return [r for r in self.records() if r.profile_id == profile_id and r.running]

    def forget(self, run_id: str) -> None:
        self.runs.pop(run_id, None)
        try:
            self.store.delete(run_id)
        except sqlite3.Error as exc:
            log.warning("run %s not forgotten: %s", run_id, exc)
        self.save()

    # --- running -------------------------------------------------------------------------

    def new_run(
        self,
        body: dict[str, Any],
        *,
        profile_id: str,
        server: str = "",
        title: str = "",
        budget: int | None = None,
        agent_name: str = "",
        session_id: str = "",
    ) -> RunRecord:
        kind = "agent" if body.get("agent") else "model"
        run = RunRecord(
            id=uuid.uuid4().hex[:12],
            profile_id=profile_id,
            server=server,
            target=str(body.get("agent") or body.get("model") or ""),
            target_kind=kind,
            title=title or agent_name or "Background run",
            agent_name=agent_name,
            budget=budget,
            session_id=session_id,
            request={k: v for k, v in body.items() if k not in _REQUEST_DROP},
        )
        self.runs[run.id] = run
        self._changed(run, force=True)
        return run

    def adopt(
        self,
        interaction_id: str,
        body: dict[str, Any],
        *,
        profile_id: str,
        server: str = "",
        title: str = "",
        budget: int | None = None,
        session_id: str = "",
    ) -> RunRecord:
        """Track a background interaction someone else created (e.g. a chat turn)."""
        existing = self.by_interaction(interaction_id)
        if existing is not None:
            return existing
        run = self.new_run(
            body,
            profile_id=profile_id,
            server=server,
            title=title,
            budget=budget,
            session_id=session_id,
        )
        run.interaction_ids.append(interaction_id)
        run.status, run.origin = "in_progress", "chat"
        self._changed(run, force=True)
        return run

    def watch_chat(self, run: RunRecord) -> bool:
        """Follow an adopted chat turn through the chat's own stream (no second stream).

        The chat's runner saves it (with its metrics); this only keeps the run's record up to
        date. False when nobody streams it any more (then :meth:`attach` it).
        """
        iid = run.interaction_id
        if not iid or self.followers.get(iid) is None:
            return False

        def seen(snap: Snapshot) -> None:
            data = snap.data
            status_before = run.status
            if snap.last_event_id:
                run.last_event_id = snap.last_event_id
            run.status = str(data.get("status") or run.status)
            stalled_before, run.stalled = run.stalled, snap.stalled and not snap.done
            outputs = output_steps(data.get("steps") or [])
            run.hop_steps = list(range(len(outputs)))
            # Until the server reports usage, tokens are estimated from the text so far.
            run.hop_estimated = estimate_tokens(json.dumps(outputs, ensure_ascii=False))
            self._usage(run, data.get("usage"))
            if data.get("environment_id"):
                run.environment_id = str(data["environment_id"])
            if snap.done:
                if snap.error and run.status in RUNNING:
                    run.status = "failed"
                run.error = snap.error
                outcome = assess(run.status, data)
                run.answer, run.verdict, run.verdict_reason = (
                    outcome.answer,
                    outcome.verdict,
                    outcome.reason,
                )
                run.model = answered_by(data, run.request) or run.model
                if run.status in TERMINAL:
                    run.ended = time.time()
            changed = run.status != status_before or run.stalled != stalled_before
            self._changed(run, force=snap.done or changed)

        self.followers.watch(iid, seen)
        return True

    async def launch(self, client: Client, run: RunRecord, body: dict[str, Any]) -> RunRecord:
        """POST the create (once) and follow its events to the end of the hop."""
        wire = dict(body)
        wire["background"] = True
        wire["store"] = True
        wire.pop("stream", None)
        inputs = wire.get("input") or []
        try:
            await self._follow(client, run, client.interactions.create_stream(wire), inputs)
        except Exception as exc:
            if not run.interaction_id:
                run.status = "failed"
                run.ended = time.time()
            run.error = explain(exc, client.base_url)
            self._changed(run, force=True)
            raise
        return run

    async def attach(self, client: Client, run: RunRecord) -> RunRecord:
        """Re-attach to a run's stream after the last event seen (or fetch its end state)."""
        if not run.interaction_id or run.status not in RUNNING:
            return run
        if run.last_event_id is None:  # nothing seen yet: the replay starts from scratch
            run.hop_steps, run.hop_reported, run.hop_estimated = [], None, 0
        stream = client.interactions.get_stream(run.interaction_id, last_event_id=run.last_event_id)
        try:
            await self._follow(client, run, stream, None)
        except NotFoundError:
            run.status, run.ended = "failed", time.time()
            run.error = "The server no longer knows this run (it was deleted or expired)."
            self._changed(run, force=True)
        return run

    async def _follow(
        self,
        client: Client,
        run: RunRecord,
        stream: InteractionStream,
        inputs: list[Any] | None,
    ) -> None:
        run.error = ""
        self._accumulators[run.id] = StreamAccumulator()
        watch = self._stall_watches[run.id] = StallWatch(
            self.stall_seconds, lambda stalled: self._stalled(run, stalled)
        )
        watch.start()
        try:
            async with stream:
                async for item in stream:
                    watch.progress()
                    await self._item(client, run, stream, item, inputs)
        finally:
            watch.stop()
            run.stalled = False
            if self._stall_watches.get(run.id) is watch:
                del self._stall_watches[run.id]
            self._accumulators.pop(run.id, None)
            if run.interaction_id:
                self.followers.release(run.interaction_id, "runs")
                self.followers.on_keep_waiting(run.interaction_id, None)
        await self._finish_hop(client, run, inputs)

    def _stalled(self, run: RunRecord, stalled: bool) -> None:
        """The stall watch's verdict; watchers (a transcript on it) hear it too."""
        run.stalled = stalled
        iid = run.interaction_id
        if iid:
            keep = (lambda: self.keep_waiting(run)) if stalled else None
            self.followers.on_keep_waiting(iid, keep)
        self._changed(run, force=True)

    def keep_waiting(self, run: RunRecord) -> None:
        """The user chose to wait on a stalled run: another full period before asking again."""
        watch = self._stall_watches.get(run.id)
        if watch is not None:
            watch.keep_waiting()
        elif run.stalled and run.interaction_id:  # a chat turn's: its own follower waits
            self.followers.keep_waiting(run.interaction_id)

    async def delete(self, client: Client, run: RunRecord) -> DeleteOutcome:
        """Delete a run on the server — a running one is cancelled first and checked to
        have ended — and forget it here; when the server keeps running it, it stays listed
        with the outcome's message as its error."""
        outcome = await stop_and_delete(client, run.interaction_ids)
        if outcome.ok:
            self.forget(run.id)
            return outcome
        run.status = outcome.status or run.status
        run.error = outcome.message
        self._changed(run, force=True)
        return outcome

    async def _item(
        self,
        client: Client,
        run: RunRecord,
        stream: InteractionStream,
        item: Any,
        inputs: list[Any] | None,
    ) -> None:
        """One event of a run's stream: the record, the history's first save, watchers."""
        status_before = run.status
        self._apply(run, item)
        if stream.interaction_id and stream.interaction_id not in run.interaction_ids:
            run.interaction_ids.append(stream.interaction_id)
            self._save_to_history(run, {"id": stream.interaction_id}, inputs)
        self._publish(run, item, inputs)
        run.reconnects = stream.reconnects + stream.state.reconnects
        if over_budget(run.tokens, run.budget) and not run.budget_stopped and run.status in RUNNING:
            run.budget_stopped = True
            run.error = budget_message(run.budget or 0, run.tokens)
            self._changed(run, force=True)
            await client.interactions.cancel(run.interaction_id)
        self._changed(run, force=run.status != status_before)

    def _publish(self, run: RunRecord, item: Any, inputs: list[Any] | None) -> None:
        """Fold the event and hand the snapshot to watchers (a transcript showing the run).

        Folding costs little; building the snapshot is skipped while nobody watches (fifty
        concurrent runs stream into the app with no transcript open on them).
        """
        iid = run.interaction_id
        if not iid:
            return
        if isinstance(item, InteractionSnapshot):
            acc = self._accumulators[run.id] = StreamAccumulator(item.interaction)
        else:
            acc = self._accumulators.setdefault(run.id, StreamAccumulator())
            with contextlib.suppress(Exception):  # a replay from mid-hop may not fold
                acc.feed(item)
        snap = Snapshot(
            iid,
            {},
            {"elapsed": round(run.elapsed(), 3)},
            inputs or [],
            run.session_id,
            owner="runs",
        )
        if not self.followers.own(snap):
            return
        if self.followers.watched(iid):
            snap.data = acc.snapshot_wire()
            snap.data.setdefault("id", iid)
            self.followers.publish(snap)

    def _apply(self, run: RunRecord, item: Any) -> None:
        if isinstance(item, InteractionSnapshot):
            data = _wire(item.interaction)
            run.status = str(data.get("status") or run.status)
            run.hop_steps = list(range(len(output_steps(data.get("steps") or []))))
            meter = run.meter()
            meter.report(data.get("usage"))
            run.hop_reported = meter.reported
            return
        event_id = getattr(item, "event_id", None)
        if isinstance(event_id, str):
            run.last_event_id = event_id
        kind = getattr(item, "event_type", None)
        if kind in ("interaction.created", "interaction.completed"):
            inter = _wire(getattr(item, "interaction", None))
            if inter.get("status"):
                run.status = str(inter["status"])
            self._usage(run, inter.get("usage"))
            if inter.get("environment_id"):
                run.environment_id = str(inter["environment_id"])
        elif kind == "interaction.status_update":
            status = getattr(item, "status", None)
            if status:
                run.status = str(status)
            self._usage(run, _wire(getattr(item, "usage", None)) or None)
        elif kind == "step.start":
            index = getattr(item, "index", None)
            step_type = getattr(getattr(item, "step", None), "type", None)
            if isinstance(index, int) and step_type != "user_input" and index not in run.hop_steps:
                run.hop_steps.append(index)
        elif kind == "step.delta":
            delta = _wire(getattr(item, "delta", None))
            text = delta.get("text")
            if delta.get("type") == "thought_summary":
                content = delta.get("content")
                text = content.get("text") if isinstance(content, dict) else None
                self._progress(run, getattr(item, "index", None), text)
            if isinstance(text, str):
                run.hop_estimated += estimate_tokens(text)
            meta = _wire(getattr(item, "metadata", None))
            self._usage(run, meta.get("total_usage"))
        elif kind == "step.stop":
            self._usage(run, _wire(getattr(item, "usage", None)) or None)
        elif kind == "error":
            err = _wire(getattr(item, "error", None))
            run.error = str(err.get("message") or "The server reported an error.")

    def _progress(self, run: RunRecord, index: Any, text: Any) -> None:
        """The newest thought summary's last line becomes the run's progress text."""
        if not isinstance(text, str):
            return
        seen_index, so_far = self._thoughts.get(run.id, (-1, ""))
        so_far = so_far + text if index == seen_index else text
        self._thoughts[run.id] = (index if isinstance(index, int) else -1, so_far)
        run.progress = progress_line(so_far) or run.progress

    @staticmethod
    def _usage(run: RunRecord, usage: Any) -> None:
        if usage:
            meter = run.meter()
            meter.report(usage)
            run.hop_reported = meter.reported

    async def _finish_hop(self, client: Client, run: RunRecord, inputs: list[Any] | None) -> None:
        if not run.interaction_id:
            return
        data: dict[str, Any] = {}
        try:
            data = _wire(await client.interactions.get(run.interaction_id))
        except Exception as exc:
            log.info("could not fetch the end state of %s: %s", run.interaction_id, exc)
        if data:
            run.status = str(data.get("status") or run.status)
            self._usage(run, data.get("usage"))
            if data.get("environment_id"):
                run.environment_id = str(data["environment_id"])
            outputs = output_steps(data.get("steps") or [])
            if len(outputs) > len(run.hop_steps):
                run.hop_steps = list(range(len(outputs)))
            if inputs is None:
                inputs = [s for s in data.get("steps") or [] if s.get("type") == "user_input"][:1]
            self._save_to_history(run, data, inputs)
            self.followers.publish(
                Snapshot(
                    run.interaction_id, data, {}, inputs or [], run.session_id, "runs", done=True
                )
            )
            if run.status == "requires_action" and run.origin != "chat":
                run.pending = pending_calls(data)
            outcome = assess(run.status, data)
            run.answer, run.verdict, run.verdict_reason = (
                outcome.answer,
                outcome.verdict,
                outcome.reason,
            )
            run.model = answered_by(data, run.request) or run.model
            run.plan = plan_text(data, run.request)
        self._thoughts.pop(run.id, None)
        if run.status in TERMINAL:
            run.ended = time.time()
            if run.budget_stopped and run.status == "cancelled":
                run.error = run.error or budget_message(run.budget or 0, run.tokens)
        self._changed(run, force=True)

    def _save_to_history(
        self, run: RunRecord, data: dict[str, Any], inputs: list[Any] | None
    ) -> None:
        iid = run.interaction_id
        if not iid:
            return
        try:
            if not run.session_id:
                run.session_id = self.history.session_of(iid) or ""
            if not run.session_id:
                run.session_id = self.history.create_session(run.title, run.profile_id).id
            hops = run.interaction_ids
            parent = hops[-2] if len(hops) > 1 else run.request.get("previous_interaction_id")
            existing = self.history.interaction(iid)
            self.history.save_interaction(
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

    async def cancel(self, client: Client, run: RunRecord) -> None:
        """Stop a running run on the server; a run waiting for you just stops waiting."""
        if run.status in RUNNING and run.interaction_id:
            await client.interactions.cancel(run.interaction_id)
            return
        if run.status == "requires_action":
            run.status, run.pending, run.ended = "cancelled", [], time.time()
            self._changed(run, force=True)

    def continuation_body(self, run: RunRecord, results: list[dict[str, Any]]) -> dict[str, Any]:
        """The next hop: the function results, chained to the last interaction (§5.2)."""
        body = dict(run.request)
        body["previous_interaction_id"] = run.interaction_id
        body["input"] = results
        if run.environment_id and run.target_kind == "agent":
            body["environment"] = run.environment_id
        return body

    async def continue_run(
        self,
        client: Client,
        run: RunRecord,
        results: list[dict[str, Any]],
        changes: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Send the function results (or a user's reply, say to a research plan) as a new
        hop of the same run and follow it; ``changes`` replace fields of the request."""
        body = {**self.continuation_body(run, results), **(changes or {})}
        run.tokens_before = run.tokens
        run.steps_before = run.steps
        run.hop_steps, run.hop_reported, run.hop_estimated = [], None, 0
        run.last_event_id = None
        run.pending = []
        run.status, run.ended = "queued", None
        run.answer, run.verdict, run.verdict_reason = "", "", ""
        run.plan, run.progress = "", ""
        self._changed(run, force=True)
        return await self.launch(client, run, body)
