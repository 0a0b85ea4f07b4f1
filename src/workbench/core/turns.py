"""Run one turn: send it, fold the stream, time it, keep it in the history.

Qt-free. The UI calls :meth:`TurnRunner.run` through its task manager and receives
:class:`TurnUpdate` snapshots through a callback; it repaints on its own timer, never per
event. The interaction is saved as soon as its id is known and again when it ends, whether
it completes, fails or is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.client import Client, InteractionSnapshot

from .errors import details, explain
from .follower import Followers, Snapshot
from .history import AttachmentInfo, HistoryStore
from .stall import StallWatch, stall_seconds
from .stream import StreamAccumulator

PUBLISH_SECONDS = 0.03
"""Shortest gap between two snapshots handed to the UI while deltas stream in."""

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


@dataclass
class TurnUpdate:
    """The state of the running turn, as often as it changes."""

    session_id: str
    interaction_id: str | None
    parent_id: str | None
    input_steps: list[Any]
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    error: str | None = None
    error_details: str = ""
    """The technical side of ``error`` (status, field path, the server's words)."""
    last_event_id: str | None = None
    """The id of the last stream event seen (the Runs dock resumes after it)."""
    stalled: bool = False
    """Still going, but no event for the stall limit: the chat offers cancel / keep waiting."""

    @property
    def status(self) -> str:
        return str(self.data.get("status") or "")


class _Clock:
    """Time to first token, thought durations, generation speed."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.first: float | None = None
        self.thought_open: dict[int, float] = {}
        self.thoughts: list[float] = []

    def event(self, event: Any) -> None:
        now = time.monotonic()
        kind = getattr(event, "event_type", None)
        index = getattr(event, "index", None)
        if kind == "step.start":
            step = getattr(event, "step", None)
            if getattr(step, "type", None) == "thought" and isinstance(index, int):
                self.thought_open[index] = now
        elif kind == "step.delta" and self.first is None:
            self.first = now
        elif kind == "step.stop" and isinstance(index, int) and index in self.thought_open:
            self.thoughts.append(round(now - self.thought_open.pop(index), 2))

    def metrics(self) -> dict[str, Any]:
        now = time.monotonic()
        out: dict[str, Any] = {"elapsed": round(now - self.t0, 3)}
        if self.first is not None:
            out["ttft"] = round(self.first - self.t0, 3)
            out["generation_seconds"] = round(now - self.first, 3)
        live = [round(now - t, 2) for t in self.thought_open.values()]
        if self.thoughts or live:
            out["thought_seconds"] = self.thoughts + live
        return out


def _wire(snapshot: Any) -> dict[str, Any]:
    if isinstance(snapshot, dict):
        return dict(snapshot)
    to_wire = getattr(snapshot, "to_wire", None)
    return dict(to_wire()) if callable(to_wire) else {}


class TurnRunner:
    """Sends turns with one long-lived client and records them."""

    def __init__(
        self,
        client: Client,
        history: HistoryStore,
        *,
        poll_seconds: float = 2.0,
        followers: Followers | None = None,
        stall_limit: float | None = None,
    ):
        self.client = client
        self.stall_seconds = stall_seconds(stall_limit)
        """No event for this long while a turn streams: the turn is marked stalled."""
        self.watch: StallWatch | None = None
        """The running turn's stall watch (one turn at a time)."""
        self.history = history
        self.followers = followers if followers is not None else Followers()
        """Where the turn's snapshots are published: the Runs dock watches a background turn
        there instead of attaching a second stream."""
        self.poll_seconds = poll_seconds
        self.detach_background = False
        """When set, cancelling a background turn only stops following it (the app is quitting
        and keeps background work going; the Runs dock re-attaches on the next start)."""

    async def run(
        self,
        session_id: str,
        body: dict[str, Any],
        input_steps: list[Any],
        attachments: Sequence[AttachmentInfo] = (),
        on_update: Callable[[TurnUpdate], None] | None = None,
        *,
        notes: dict[str, Any] | None = None,
    ) -> TurnUpdate:
        """Run one turn to its end (or until cancelled) and return its last state.

        ``notes`` are kept with the turn's metrics (say ``shared_runs``: background runs the
        local engine was also working on, which explains a slow answer in its footer).
        """
        parent = body.get("previous_interaction_id")
        update = TurnUpdate(session_id, None, parent, input_steps)
        clock = _Clock()
        saved_once = False

        def publish() -> None:
            update.metrics = {**clock.metrics(), **(notes or {})}
            if update.interaction_id is not None:
                snap = Snapshot(
                    update.interaction_id,
                    update.data,
                    update.metrics,
                    input_steps,
                    session_id,
                    owner="chat",
                    done=update.done,
                    error=update.error or "",
                    last_event_id=update.last_event_id,
                    stalled=update.stalled,
                )
                if self.followers.own(snap):
                    self.followers.publish(snap)
            if on_update is not None:  # after: a view adopting it finds the follower
                on_update(update)

        def save() -> None:
            nonlocal saved_once
            if update.interaction_id is None:
                return
            stored = dict(body)
            stored.pop("input", None)
            self.history.save_interaction(
                session_id,
                update.interaction_id,
                parent_id=parent,
                input_blocks=input_steps,
                request=stored,
                data=update.data,
                metrics=update.metrics,
                attachments=() if saved_once else attachments,
            )
            saved_once = True

        try:
            if body.get("stream"):
                await self._stream(body, update, clock, publish, save)
            else:
                await self._unary(body, update, publish, save)
        except asyncio.CancelledError:
            detached = bool(body.get("background")) and self.detach_background
            await self._cancelled(body, update)
            if detached and update.interaction_id:  # still running: nobody follows it now
                self.followers.release(update.interaction_id, "chat")
                save()
                raise
            update.done = True
            publish()
            save()
            raise
        except Exception as exc:
            update.error = explain(exc, self.client.base_url)
            update.error_details = details(exc)
            if update.interaction_id is not None and update.status not in TERMINAL:
                update.data["status"] = "failed"
        update.done = True
        publish()
        save()
        return update

    async def _stream(
        self,
        body: dict[str, Any],
        update: TurnUpdate,
        clock: _Clock,
        publish: Callable[[], None],
        save: Callable[[], None],
    ) -> None:
        acc = StreamAccumulator()

        def stalled(flag: bool) -> None:
            update.stalled = flag
            if update.interaction_id:
                keep = self.keep_waiting if flag else None
                self.followers.on_keep_waiting(update.interaction_id, keep)
            publish()

        watch = self.watch = StallWatch(self.stall_seconds, stalled)
        watch.start()
        try:
            await self._fold(body, update, clock, publish, save, acc, watch)
        finally:
            watch.stop()
            update.stalled = False
            if self.watch is watch:
                self.watch = None
            if update.interaction_id:
                self.followers.on_keep_waiting(update.interaction_id, None)

    def keep_waiting(self) -> None:
        """The user chose to wait on the stalled turn: another full period before asking."""
        if self.watch is not None:
            self.watch.keep_waiting()

    async def _fold(
        self,
        body: dict[str, Any],
        update: TurnUpdate,
        clock: _Clock,
        publish: Callable[[], None],
        save: Callable[[], None],
        acc: StreamAccumulator,
        watch: StallWatch,
    ) -> None:
        last_publish = 0.0
        kind = ""
        async with self.client.interactions.create_stream(body) as stream:
            async for item in stream:
                watch.progress()
                if isinstance(item, InteractionSnapshot):
                    update.data = _wire(item.interaction)
                    kind = "snapshot"
                else:
                    clock.event(item)
                    event_id = getattr(item, "event_id", None)
                    if isinstance(event_id, str):
                        update.last_event_id = event_id
                    if not acc.feed(item):
                        continue
                    kind = str(getattr(item, "event_type", ""))
                now = time.monotonic()
                lifecycle = kind not in ("step.delta",)
                if kind != "snapshot" and (lifecycle or now - last_publish >= PUBLISH_SECONDS):
                    update.data = acc.snapshot_wire()
                elif kind != "snapshot":
                    continue  # coalesced: the next publish carries this delta too
                last_publish = now
                new_id = update.data.get("id") or stream.interaction_id
                first = update.interaction_id is None and bool(new_id)
                if new_id:
                    update.interaction_id = str(new_id)
                    update.data.setdefault("id", update.interaction_id)
                publish()
                if first:
                    save()
        if kind != "snapshot":
            final = acc.snapshot_wire()  # the deltas coalesced after the last publish
            if final.get("id"):
                update.data = final

    async def _unary(
        self,
        body: dict[str, Any],
        update: TurnUpdate,
        publish: Callable[[], None],
        save: Callable[[], None],
    ) -> None:
        interaction = await self.client.interactions.create(body)
        update.data = _wire(interaction)
        update.interaction_id = str(update.data.get("id") or "") or None
        publish()
        save()
        while update.interaction_id and update.status not in TERMINAL:
            await asyncio.sleep(self.poll_seconds)
            update.data = _wire(await self.client.interactions.get(update.interaction_id))
            publish()

    async def _cancelled(self, body: dict[str, Any], update: TurnUpdate) -> None:
        if update.interaction_id is None:
            return
        if body.get("background") and self.detach_background:
            return  # still running on the server; the history keeps its last known state
        if body.get("store", True):
            # A background run goes on without us unless the server is told to stop it, and
            # so does a stored foreground one: servers keep it running for a while after its
            # stream's client went away, so that it can be resumed (engine.md).
            with contextlib.suppress(Exception):
                cancelled = await asyncio.wait_for(
                    asyncio.shield(self.client.interactions.cancel(update.interaction_id)), 5
                )
                update.data = _wire(cancelled) or update.data
        if update.status not in TERMINAL:
            update.data["status"] = "cancelled"
