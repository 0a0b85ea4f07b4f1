"""Runs the Schedules and Webhooks docks' requests against the current server.

Scheduled executions join the Runs dock: every ``POLL_MS`` the controller reads the recent
executions of the server's triggers, and each new one is followed there like a launched run
(so it ends with a desktop notification and its transcript opens from the Runs dock or from
here). Executions that existed before the app connected are not announced.

Signals:
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from workbench.core.connection import Connection
from workbench.core.errors import explain
from workbench.core.schedules import Schedules, WebhookRegistry
from workbench.core.tasks import TaskManager
from workbench.protocol import Trigger, TriggerExecution

from .dock import SchedulesDock
from .webhooks_dock import SecretDialog, WebhooksDock

POLL_MS = 15_000
DEFAULT_AGENT = "antigravity-preview-05-2026"
Service = TypeVar("Service", Schedules, WebhookRegistry)


class RunFollower(Protocol):
    """What the controller needs of the Runs controller."""

    def follow(self, interaction_id: str, body: dict[str, Any], title: str) -> str: ...
    def show_run(self, run_id: str) -> None: ...
    def open_transcript(self, run_id: str) -> None: ...


class SchedulesController(QObject):
    """Triggers and webhooks as named tasks; scheduled runs handed to the Runs dock."""

    status_message = Signal(str)

    def __init__(
        self,
        schedules: SchedulesDock,
        webhooks: WebhooksDock,
        tasks: TaskManager,
        connection: Callable[[], Connection | None],
        runs: RunFollower,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.dock, self.hooks_dock, self.tasks, self.runs = schedules, webhooks, tasks, runs
        self._connection = connection
        self._triggers: dict[str, Trigger] = {}
        self._seen: set[str] | None = None
        schedules.refresh_requested.connect(self.refresh)
        schedules.create_requested.connect(self.create)
        schedules.pause_requested.connect(self.set_paused)
        schedules.run_requested.connect(self.run_now)
        schedules.delete_requested.connect(self.delete)
        schedules.selected.connect(self.select)
        schedules.open_requested.connect(self.open_execution)
        webhooks.refresh_requested.connect(self.refresh_webhooks)
        webhooks.register_requested.connect(self.register)
        webhooks.ping_requested.connect(self.ping)
        webhooks.rotate_requested.connect(self.rotate)
        webhooks.enable_requested.connect(self.set_enabled)
        webhooks.delete_requested.connect(self.delete_webhook)
        webhooks.selected.connect(self.select_webhook)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    # --- plumbing ------------------------------------------------------------------------

    def _run(
        self,
        name: str,
        service: type[Service],
        work: Callable[[Service], Awaitable[object]],
        *,
        then: Callable[[], object] | None = None,
        done: str = "",
    ) -> None:
        """Start ``work`` on the server's triggers or webhooks as task ``name``.

        On success it says ``done`` (if anything) and calls ``then`` (a refresh, say); a
        failure, or no connection, is shown in the dock of that ``service``.
        """
        dock: SchedulesDock | WebhooksDock = self.dock if service is Schedules else self.hooks_dock
        conn = self._connection()
        if conn is None:
            dock.show_problem("Not connected: connect to a server to manage its schedules.")
            return

        async def go() -> None:
            try:
                await work(service(conn.client))
                if done:
                    self.status_message.emit(done)
                if then is not None:
                    then()
            except ValueError as exc:
                text = str(exc)  # (not capitalize(): it would lower-case "URL")
                dock.show_problem(text[:1].upper() + text[1:] + ".")
            except Exception as exc:
                dock.show_problem(explain(exc, conn.client.base_url))
            else:
                dock.show_problem("")

        self.tasks.start(name, go())

    def connection_changed(self, ok: bool) -> None:
        """(Re)connected: read both panels; announce only executions that start from now on."""
        self._seen = None
        if not ok:
            self.timer.stop()
            return
        conn = self._connection()
        agents = list(dict.fromkeys([*(conn.agents if conn else []), DEFAULT_AGENT]))
        self.dock.set_agents(agents)
        self.refresh()
        self.refresh_webhooks()
        self.timer.start()

    # --- schedules -----------------------------------------------------------------------

    async def _read_triggers(self, schedules: Schedules) -> list[Trigger]:
        """The server's triggers, remembered by id and shown in the dock."""
        triggers = await schedules.all()
        self._triggers = {t.id: t for t in triggers if t.id}
        self.dock.set_triggers(triggers)
        return triggers

    def refresh(self) -> None:
        self._run("schedules-list", Schedules, self._read_triggers)

    def create(self, fields: dict[str, str]) -> None:
        async def work(schedules: Schedules) -> None:
            made = await schedules.create(
                agent=fields.get("agent", ""), prompt=fields.get("prompt", ""),
                schedule=fields.get("schedule", ""), time_zone=fields.get("time_zone", "UTC"),
                name=fields.get("name", ""),
            )  # fmt: skip
            self.status_message.emit(f"Schedule “{made.display_name or made.id}” created")
            self.dock.clear_form()

        self._run("schedules-create", Schedules, work, then=self.refresh)

    def set_paused(self, trigger_id: str, paused: bool) -> None:
        self._run(
            f"schedules-pause:{trigger_id}",
            Schedules,
            lambda s: s.set_paused(trigger_id, paused),
            then=self.refresh,
            done="Schedule paused" if paused else "Schedule resumed",
        )

    def run_now(self, trigger_id: str) -> None:
        async def work(schedules: Schedules) -> None:
            execution = await schedules.run_now(trigger_id)
            if self._seen is not None and execution.id:
                self._seen.add(execution.id)
            self._follow(execution)
            self.status_message.emit("Started: it shows in Runs")
            self.select(trigger_id)

        self._run(f"schedules-run:{trigger_id}", Schedules, work)

    def delete(self, trigger_id: str) -> None:
        """Delete a trigger (the dock asked the user first); its runs stay."""
        self._run(
            f"schedules-delete:{trigger_id}",
            Schedules,
            lambda s: s.delete(trigger_id),
            then=self.refresh,
        )

    def select(self, trigger_id: str) -> None:
        """Show the executions of the selected trigger ("" : none selected, nothing to read)."""
        if not trigger_id:
            return

        async def work(schedules: Schedules) -> None:
            self.dock.set_executions(trigger_id, await schedules.executions(trigger_id))

        self._run("schedules-executions", Schedules, work)

    def _follow(self, execution: TriggerExecution) -> str:
        if not execution.interaction_id:
            return ""
        trig = self._triggers.get(execution.trigger_id or "")
        body = dict(trig.interaction or {}) if trig else {}
        title = (trig.display_name or trig.id or "Scheduled run") if trig else "Scheduled run"
        return self.runs.follow(execution.interaction_id, body, f"⏰ {title}")

    def open_execution(self, execution: TriggerExecution) -> None:
        run_id = self._follow(execution)
        if run_id:
            self.runs.show_run(run_id)
            self.runs.open_transcript(run_id)

    def poll(self) -> None:
        """New executions of any trigger start being followed in the Runs dock."""

        async def work(schedules: Schedules) -> None:
            triggers = await self._read_triggers(schedules)
            first = self._seen is None
            seen = self._seen if self._seen is not None else set()
            for trig in triggers:
                if not trig.id:
                    continue
                for execution in await schedules.executions(trig.id, limit=5):
                    if not execution.id or execution.id in seen:
                        continue
                    seen.add(execution.id)
                    if not first and execution.status != "skipped":
                        self._follow(execution)
            self._seen = seen  # (set_triggers above re-read the selected one's executions)

        self._run("schedules-poll", Schedules, work)

    # --- webhooks ------------------------------------------------------------------------

    def refresh_webhooks(self) -> None:
        async def work(hooks: WebhookRegistry) -> None:
            self.hooks_dock.set_webhooks(await hooks.all())

        self._run("webhooks-list", WebhookRegistry, work)

    def register(self, uri: str, events: list[str], name: str) -> None:
        async def work(hooks: WebhookRegistry) -> None:
            made = await hooks.register(uri, events, name)
            self.hooks_dock.clear_form()
            self.refresh_webhooks()
            if made.new_signing_secret:
                self._show_secret("Webhook registered", made.new_signing_secret)

        self._run("webhooks-register", WebhookRegistry, work)

    def _show_secret(self, title: str, secret: str) -> None:
        dialog = SecretDialog(title, secret, self.hooks_dock)
        dialog.setModal(True)
        dialog.open()

    def ping(self, webhook_id: str) -> None:
        async def work(hooks: WebhookRegistry) -> None:
            await hooks.ping(webhook_id)
            self.status_message.emit("Ping queued: see the delivery log")
            QTimer.singleShot(1000, lambda: self.select_webhook(webhook_id))

        self._run(f"webhooks-ping:{webhook_id}", WebhookRegistry, work)

    def rotate(self, webhook_id: str) -> None:
        async def work(hooks: WebhookRegistry) -> None:
            secret = await hooks.rotate(webhook_id)
            self.refresh_webhooks()
            self._show_secret("New signing secret (the old one works for 24 hours)", secret)

        self._run(f"webhooks-rotate:{webhook_id}", WebhookRegistry, work)

    def set_enabled(self, webhook_id: str, enabled: bool) -> None:
        self._run(
            f"webhooks-enable:{webhook_id}",
            WebhookRegistry,
            lambda h: h.set_enabled(webhook_id, enabled),
            then=self.refresh_webhooks,
        )

    def delete_webhook(self, webhook_id: str) -> None:
        self._run(
            f"webhooks-delete:{webhook_id}",
            WebhookRegistry,
            lambda h: h.delete(webhook_id),
            then=self.refresh_webhooks,
        )

    def select_webhook(self, webhook_id: str) -> None:
        """Show the delivery log of the selected webhook ("" : none selected)."""
        if not webhook_id:
            return

        async def work(hooks: WebhookRegistry) -> None:
            self.hooks_dock.set_deliveries(webhook_id, await hooks.deliveries(webhook_id))

        self._run("webhooks-deliveries", WebhookRegistry, work)
