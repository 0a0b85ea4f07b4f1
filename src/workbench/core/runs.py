"""The run tracker: every background interaction launched from the app, on any server.

Qt-free. A run is one background job as the user sees it: the interaction created first and
the ones that continue it after client-side function calls (its *hops*). For each run the
tracker keeps status, elapsed time, step count, tokens so far, the last ``event_id`` and the
sandbox (``environment_id``) in the history database (:mod:`.run_registry`), so that after a
restart the app re-attaches with ``GET …?stream=true&last_event_id=…`` — reconnecting, never
re-creating: a create is POSTed exactly once per hop (protocol.md §6.6, §7.3, §12 #16–19).

This module follows the streams; what each event means for a run's record is
:mod:`.run_events`. When a hop ends the tracker fetches the whole interaction once, saves it
into the history (:mod:`.run_history`, so "Open transcript" works offline), and lists the
function calls still waiting for a result. The app's per-run token budget (:mod:`.budget`)
cancels a run that reaches it.

Callers (the UI controller) run :meth:`RunTracker.launch`, :meth:`attach` and
:meth:`continue_run` as named tasks and get ``on_change(run)`` callbacks (throttled, see
:mod:`.run_registry`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.client import Client, InteractionSnapshot, InteractionStream, NotFoundError

from .budget import budget_message, over_budget
from .errors import explain
from .follower import Followers, Snapshot
from .history import HistoryStore
from .run_events import Thoughts, fold_chat_snapshot, fold_end_state, fold_event, record_end
from .run_history import input_steps, save_hop
from .run_records import (
    RUNNING,
    TERMINAL,
    PendingCall,
    RunRecord,
    _wire,
    format_elapsed,
    output_steps,
    pending_calls,
)
from .run_registry import RunRegistry
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


class RunTracker(RunRegistry):
    """Follows runs' streams on their servers; keeps them (:class:`.run_registry.RunRegistry`)
    and saves finished hops in ``history``.

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
        self.stall_seconds = stall_seconds(stall_limit)
        """No event for this long while a run streams: it is marked stalled (:mod:`.stall`)."""
        self._stall_watches: dict[str, StallWatch] = {}
        self.followers = followers if followers is not None else Followers()
        """Where runs' snapshots are published, and where a chat turn it adopts is watched."""
        self._accumulators: dict[str, StreamAccumulator] = {}
        self._thoughts: Thoughts = {}
        """Per run: the index and text so far of the thought summary streaming now."""
        super().__init__(
            path,
            history,
            on_change=on_change,
            notify_seconds=notify_seconds,
            save_seconds=save_seconds,
            burst_seconds=burst_seconds,
        )

    # --- running -------------------------------------------------------------------------

    def watch_chat(self, run: RunRecord) -> bool:
        """Follow an adopted chat turn through the chat's own stream (no second stream).

        The chat's runner saves it (with its metrics); this only keeps the run's record up to
        date. False when nobody streams it any more (then :meth:`attach` it).
        """
        iid = run.interaction_id
        if not iid or self.followers.get(iid) is None:
            return False

        def seen(snap: Snapshot) -> None:
            changed = fold_chat_snapshot(run, snap)
            self._changed(run, force=snap.done or changed)

        self.followers.watch(iid, seen)
        return True

    async def launch(self, client: Client, run: RunRecord, body: dict[str, Any]) -> RunRecord:
        """POST the create (once) and follow its events to the end of the hop."""
        wire = dict(body)
        wire["background"] = True
        wire["store"] = True
        wire.pop("stream", None)
        inputs = input_steps(wire.get("input"))
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
        fold_event(run, item, self._thoughts)

    async def _finish_hop(self, client: Client, run: RunRecord, inputs: list[Any] | None) -> None:
        if not run.interaction_id:
            return
        data: dict[str, Any] = {}
        try:
            data = _wire(await client.interactions.get(run.interaction_id))
        except Exception as exc:
            log.info("could not fetch the end state of %s: %s", run.interaction_id, exc)
        if data:
            fold_end_state(run, data)
            if inputs is None:
                inputs = [s for s in data.get("steps") or [] if s.get("type") == "user_input"][:1]
            self._save_to_history(run, data, inputs)
            self.followers.publish(
                Snapshot(
                    run.interaction_id, data, {}, inputs or [], run.session_id, "runs", done=True
                )
            )
            record_end(run, data)
        self._thoughts.pop(run.id, None)
        if run.status in TERMINAL:
            run.ended = time.time()
            if run.budget_stopped and run.status == "cancelled":
                run.error = run.error or budget_message(run.budget or 0, run.tokens)
        self._changed(run, force=True)

    def _save_to_history(
        self, run: RunRecord, data: dict[str, Any], inputs: list[Any] | None
    ) -> None:
        save_hop(self.history, run, data, inputs)

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
