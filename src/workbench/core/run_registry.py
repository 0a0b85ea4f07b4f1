"""The runs the app knows, kept in the history database, with throttled change callbacks.

Qt-free. This is the bookkeeping half of the run tracker (:class:`.runs.RunTracker` adds the
streams): the records by id, creating and adopting runs, forgetting them, and when to write.

Runs are saved at most every ``save_seconds`` while they stream, and within
``burst_seconds`` (0.2 s) of a status change: changes that come together (fifty runs launched
at once, a wave of them ending) share one transaction, which updates only the rows of runs
that changed (:mod:`.run_store`). ``save()`` writes at once (quitting, forgetting a run). A
``runs.json`` from an older Workbench is imported once (:meth:`.run_store.RunStore.import_json`).
``on_change(run)`` callbacks are throttled to ``notify_seconds`` except on status changes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .history import HistoryStore
from .run_records import _REQUEST_DROP, RunRecord
from .run_store import RunStore

log = logging.getLogger(__name__)


class RunRegistry:
    """The runs by id, persisted in ``history``'s database.

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
    ) -> None:
        self.path = path
        self.store = RunStore(history)
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

    # --- new runs ------------------------------------------------------------------------

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
