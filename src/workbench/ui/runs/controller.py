"""Glue between the run tracker (core) and the Runs dock, approvals and notifications.

Every coroutine goes through the window's task manager, one task per run
(``run:<id>``). Hops that end waiting for client-side function calls are answered here:
calls allowed for the run or always allowed run at once (if Workbench has a handler),
others show an approval card and a "needs you" notification.

Signals:
    transcript_requested(str, str): session id and interaction id to show in the transcript.
    environment_selected(str, str): the sandbox of the selected run ("" while it has none
        yet) and the id of that run ("" when no run is selected).
    status_message(str): a short message for the status bar.
    history_changed(): a run saved something new into the history (the sessions list).
    run_ended(str): this run stopped running (finished, failed, waiting for you…).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.core.approvals import DENIED_RESULT, AllowList, Decision
from workbench.core.client_tools import ToolRegistry
from workbench.core.connection import Connection
from workbench.core.errors import explain
from workbench.core.follower import Followers
from workbench.core.history import HistoryStore
from workbench.core.run_records import run_title
from workbench.core.runs import RUNNING, PendingCall, RunRecord, RunTracker
from workbench.core.tasks import TaskManager

from .dock import RunsDock
from .notifier import Notifier

log = logging.getLogger(__name__)


class RunsController(QObject):
    """Launches, follows, re-attaches, cancels and answers background runs."""

    transcript_requested = Signal(str, str)
    environment_selected = Signal(str, str)
    status_message = Signal(str)
    history_changed = Signal()
    run_ended = Signal(str)

    def __init__(
        self,
        tracker_path: Any,
        history: HistoryStore,
        allow_list: AllowList,
        tasks: TaskManager,
        dock: RunsDock,
        notifier: Notifier,
        connection: Callable[[], Connection | None],
        parent: QObject | None = None,
        followers: Followers | None = None,
        stall_limit: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.tracker = RunTracker(
            tracker_path,
            history,
            on_change=self._changed,
            followers=followers,
            stall_limit=stall_limit,
        )
        dock.stall_seconds = self.tracker.stall_seconds
        self.allow_list, self.tasks, self.dock, self.notifier = allow_list, tasks, dock, notifier
        self.tools = ToolRegistry()
        self._connection = connection
        self._notified: dict[str, str] = {}
        self._listed: dict[str, tuple[str, str, int]] = {}
        dock.has_handler = self.tools.has
        dock.set_runs(self.tracker.records())
        dock.cancel_requested.connect(self.cancel)
        dock.open_requested.connect(self.open_transcript)
        dock.forget_requested.connect(self.forget)
        dock.keep_waiting_requested.connect(self.keep_waiting)
        dock.decision_made.connect(self.decide)
        dock.run_selected.connect(self._selected)
        dock.budget.setValue(self.tracker.default_budget or 0)
        dock.budget_changed.connect(self._budget_changed)
        notifier.open_requested.connect(self.show_run)
        for run in self.tracker.records():  # seen before the restart: no second notification
            self._notified[run.id] = self._note_key(run)

    # --- queries -------------------------------------------------------------------------

    @property
    def budget(self) -> int | None:
        return self.tracker.default_budget

    def _budget_changed(self, value: int) -> None:
        self.tracker.default_budget = value or None
        self.tracker.save()

    @property
    def any_running(self) -> bool:
        return any(r.running for r in self.tracker.runs.values())

    def _client_for(self, run: RunRecord | None = None) -> Connection | None:
        conn = self._connection()
        if conn is None:
            self.status_message.emit("Not connected: the run cannot be reached now.")
            return None
        if run is not None and run.profile_id != conn.profile.id:
            self.status_message.emit(
                f"This run is on “{run.server}”; switch to that profile to reach it."
            )
            return None
        return conn

    # --- launching and attaching ---------------------------------------------------------

    def launch(self, body: dict[str, Any], *, title: str = "", agent_name: str = "") -> str:
        """Start a background run; returns its run id ("" if not connected)."""
        conn = self._client_for()
        if conn is None:
            return ""
        run = self.tracker.new_run(
            body,
            profile_id=conn.profile.id,
            server=conn.profile.name,
            title=title,
            budget=self.budget,
            agent_name=agent_name,
        )
        self.tasks.start(f"run:{run.id}", self.tracker.launch(conn.client, run, body))
        self.show_run(run.id)
        return run.id

    def adopt(self, interaction_id: str, body: dict[str, Any], session_id: str = "") -> None:
        """Track a background turn the chat started (watch its stream, never re-create)."""
        conn = self._connection()
        if conn is None or self.tracker.by_interaction(interaction_id) is not None:
            return
        text = ""
        for step in body.get("input") or []:
            for block in step.get("content") or [] if isinstance(step, dict) else []:
                if isinstance(block, dict) and block.get("type") == "text":
                    text = str(block.get("text", ""))
        run = self.tracker.adopt(
            interaction_id,
            body,
            profile_id=conn.profile.id,
            server=conn.profile.name,
            title=run_title(text) or "Chat turn",
            budget=self.budget,
            session_id=session_id,
        )
        if self.tracker.watch_chat(run):
            return  # the chat streams it: one stream, and the chat saves it
        self.tasks.start(f"run:{run.id}", self.tracker.attach(conn.client, run))

    def follow(self, interaction_id: str, body: dict[str, Any], title: str) -> str:
        """Track an interaction started elsewhere (a scheduled execution) like a launched
        run: followed, notified when it ends, its transcript one click away. The run's id."""
        run = self.tracker.by_interaction(interaction_id)
        if run is not None:
            return run.id
        conn = self._connection()
        if conn is None:
            return ""
        run = self.tracker.adopt(
            interaction_id, body, profile_id=conn.profile.id, server=conn.profile.name,
            title=title, budget=self.budget,
        )  # fmt: skip
        run.origin = "runs"
        self.tasks.start(f"run:{run.id}", self.tracker.attach(conn.client, run))
        return run.id

    def reattach_all(self) -> int:
        """After (re)connecting: follow again every run of this server that was going."""
        conn = self._connection()
        if conn is None:
            return 0
        runs = self.tracker.to_attach(conn.profile.id)
        for run in runs:
            self.tasks.start(f"run:{run.id}", self.tracker.attach(conn.client, run), replace=False)
        if runs:
            self.status_message.emit(f"Re-attached to {len(runs)} background run(s).")
        return len(runs)

    def cancel(self, run_id: str) -> None:
        run = self.tracker.get(run_id)
        conn = self._client_for(run)
        if run is None or conn is None:
            return
        self.tasks.start(f"cancel:{run_id}", self.tracker.cancel(conn.client, run))

    def cancel_interaction(self, interaction_id: str) -> None:
        """Cancel the run streaming this interaction (a transcript's stall bar asks)."""
        run = self.tracker.by_interaction(interaction_id)
        if run is not None:
            self.cancel(run.id)

    def forget(self, run_id: str) -> None:
        """Drop an ended run from the list; a running one is stopped and deleted first."""
        run = self.tracker.get(run_id)
        if run is None:
            return
        if run.running:
            conn = self._client_for(run)
            if conn is not None:
                self.tasks.start(f"delete:{run_id}", self._delete(conn, run))
            return
        self.tracker.forget(run_id)
        self._removed(run_id)

    async def _delete(self, conn: Connection, run: RunRecord) -> None:
        try:
            outcome = await self.tracker.delete(conn.client, run)
        except Exception as exc:
            self.status_message.emit(explain(exc, conn.client.base_url))
            return
        if outcome.ok:
            self._removed(run.id)
            self.status_message.emit(f"“{run.title}” was stopped and deleted on the server.")
        else:
            self.status_message.emit(outcome.message)

    def _removed(self, run_id: str) -> None:
        self.dock.remove_run(run_id)

    def keep_waiting(self, run_id: str) -> None:
        run = self.tracker.get(run_id)
        if run is not None:
            self.tracker.keep_waiting(run)
            self.dock.update_run(run)

    def show_run(self, run_id: str) -> None:
        self.dock.select_run(run_id)

    def open_transcript(self, run_id: str) -> None:
        run = self.tracker.get(run_id)
        if run is None or not run.interaction_id:
            return
        self.tasks.start("open-run", self._open(run))

    async def _open(self, run: RunRecord) -> None:
        conn = self._connection()
        if run.running and conn is not None and conn.profile.id == run.profile_id:
            try:  # a live run: save what it has so far, then show it
                data = (await conn.client.interactions.get(run.interaction_id)).model_dump(
                    mode="json", by_alias=True, exclude_unset=True
                )
                self.tracker._save_to_history(run, data, None)
            except Exception as exc:
                self.status_message.emit(explain(exc, conn.client.base_url))
        if run.session_id:
            self.transcript_requested.emit(run.session_id, run.interaction_id)

    def _selected(self, run_id: str) -> None:
        run = self.tracker.get(run_id)
        self.environment_selected.emit(run.environment_id if run else "", run.id if run else "")

    # --- changes and notifications -------------------------------------------------------

    @staticmethod
    def _note_key(run: RunRecord) -> str:
        return f"{run.interaction_id}:{run.status}:{run.needs_you}"

    def _changed(self, run: RunRecord) -> None:
        if self.tracker.get(run.id) is not run:
            return  # deleted: its follow may still be winding down
        self.dock.update_run(run)
        listed = (run.session_id, run.status, len(run.interaction_ids))
        if run.session_id and self._listed.get(run.id) != listed:
            self._listed[run.id] = listed
            self.history_changed.emit()
        if run.id == self.dock.current_run_id():
            self.environment_selected.emit(run.environment_id, run.id)
        if run.status in RUNNING or (run.ended is None and not run.needs_you):
            return
        key = self._note_key(run)
        if self._notified.get(run.id) == key:
            return
        self._notified[run.id] = key
        self.run_ended.emit(run.id)
        if run.status == "requires_action" and run.origin == "chat":
            self.notifier.notify(run.id, "needs_you", f"{run.title}: answer in the chat")
        elif run.status == "requires_action":
            if self._auto_answer(run):
                return
            names = ", ".join(sorted({c.name for c in run.pending if not c.decision}))
            self.notifier.notify(run.id, "needs_you", f"{run.title}: approve {names}")
        elif run.status == "completed" and run.plan:
            self.notifier.notify(run.id, "needs_you", f"{run.title}: confirm the research plan")
        elif run.status == "completed" and not run.not_done:
            self.notifier.notify(run.id, "finished", f"{run.title}: finished")
        elif run.status == "cancelled" and not run.budget_stopped:
            return  # the user stopped it
        elif run.status == "completed":  # it says itself that it could not do the task
            self.notifier.notify(run.id, "failed", f"{run.title}: not done — {_gist(run.answer)}")
        else:
            why = run.error or run.status.replace("_", " ")
            self.notifier.notify(run.id, "failed", f"{run.title}: {why}")

    # --- approvals -----------------------------------------------------------------------

    def _allowed(self, run: RunRecord, call: PendingCall) -> bool:
        return self.allow_list.allows(call.name) or call.name in run.allowed_tools

    def _auto_answer(self, run: RunRecord) -> bool:
        """Decide what the allow-lists cover; continue if nothing is left to ask."""
        for call in run.pending:
            if not call.decision and self._allowed(run, call) and self.tools.has(call.name):
                call.decision = Decision.ONCE.value
        if any(not c.decision for c in run.pending):
            self.tracker.save()
            return False
        self._continue(run)
        return True

    def decide(
        self, run_id: str, call_id: str, decision: str, args: dict[str, Any], result: Any
    ) -> None:
        run = self.tracker.get(run_id)
        if run is None:
            return
        call = next((c for c in run.pending if c.call_id == call_id), None)
        if call is None or call.decision:
            return
        call.decision, call.arguments = decision, dict(args)
        if decision == Decision.DENY.value:
            call.result, call.is_error = DENIED_RESULT, True
        elif result is not None:
            call.result = result
        if decision == Decision.ALWAYS.value:
            self.allow_list.add(call.name)
        elif decision == Decision.RUN.value and call.name not in run.allowed_tools:
            run.allowed_tools.append(call.name)
        if not self._auto_answer(run):
            self.dock.update_run(run)

    def _continue(self, run: RunRecord) -> None:
        conn = self._client_for(run)
        if conn is None:
            return
        self.tasks.start(f"run:{run.id}", self._answer_and_continue(conn, run))

    async def _answer_and_continue(self, conn: Connection, run: RunRecord) -> None:
        results: list[dict[str, Any]] = []
        for call in run.pending:
            step: dict[str, Any] = {
                "type": "function_result",
                "call_id": call.call_id,
                "name": call.name,
            }
            if call.decision != Decision.DENY.value and self.tools.has(call.name):
                try:
                    call.result = await self.tools.run(call.name, call.arguments)
                except Exception as exc:
                    call.result, call.is_error = {"error": f"{type(exc).__name__}: {exc}"}, True
            step["result"] = call.result if call.result is not None else ""
            if call.is_error:
                step["is_error"] = True
            results.append(step)
        await self.tracker.continue_run(conn.client, run, results)

    def shutdown(self) -> None:
        self.tracker.save()
        self.notifier.close()


def _gist(text: str, limit: int = 140) -> str:
    """The first words of an answer, for a one-line notification."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
