"""Runs the Deep Research panel's requests: start a research run, answer its plan, open
citations.

A research run is a background run like any other (the Runs dock follows it, shows its
progress from the thought summaries, notifies); this controller builds its create through
:mod:`workbench.core.research`, shows a proposed plan when a run ends with one, sends the
confirmation as the run's next hop, and opens what a report's citation points at: a web page
in the browser, a file in the Sandbox files dock at the cited lines or page.

Signals:
    status_message(str): a short message for the status bar.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from workbench.core.citations import Citation
from workbench.core.connection import Connection
from workbench.core.errors import explain
from workbench.core.research import ResearchError, build_request, confirm_config, confirm_input
from workbench.core.tasks import TaskManager

from ..files.controller import FilesController
from ..runs.controller import RunsController
from .panel import ResearchAsk, ResearchDock

START_TASK = "research-start"


class ResearchController(QObject):
    """Glue between the panel, the run tracker and the files dock."""

    status_message = Signal(str)

    def __init__(
        self,
        dock: ResearchDock,
        runs: RunsController,
        files: FilesController,
        tasks: TaskManager,
        connection: Callable[[], Connection | None],
        parent: QObject | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
    ) -> None:
        super().__init__(parent)
        self.dock, self.runs, self.files, self.tasks = dock, runs, files, tasks
        self._connection = connection
        self._open_url = open_url
        dock.start_requested.connect(self.start)
        dock.uploads_requested.connect(self.refresh_uploads)
        dock.plan_answered.connect(self.answer_plan)
        runs.run_ended.connect(self.run_ended)
        runs.dock.run_selected.connect(self.run_changed)
        waiting = [r for r in runs.tracker.records() if r.plan and r.status == "completed"]
        if waiting:  # a plan proposed before the restart still waits
            dock.show_plan(waiting[0].id, waiting[0].title, waiting[0].plan)

    # --- starting ------------------------------------------------------------------------

    def start(self, ask: ResearchAsk) -> None:
        self.tasks.start(START_TASK, self._start(ask))

    async def _start(self, ask: ResearchAsk) -> None:
        conn = self._connection()
        if conn is None:
            self.dock.show_status("Not connected: connect to a server first.", problem=True)
            return
        self.dock.set_busy(True)
        self.dock.show_status("Preparing the sources…")
        try:
            body, notes = await build_request(
                conn.client,
                ask.question,
                ask.sources,
                ask.options,
                local=conn.profile.is_local,
                progress=self.dock.show_status,
            )
        except ResearchError as exc:
            self.dock.show_status(str(exc), problem=True)
            return
        except Exception as exc:
            self.dock.show_status(explain(exc, conn.client.base_url), problem=True)
            return
        finally:
            self.dock.set_busy(False)
        words = " ".join(ask.question.split())
        title = "Research: " + (words if len(words) <= 60 else words[:59].rstrip() + "…")
        run_id = self.runs.launch(body, title=title)
        if not run_id:
            self.dock.show_status("Not connected: the research was not started.", problem=True)
            return
        plan = "It proposes a plan first." if ask.options.plan_first else ""
        self.dock.show_status(" ".join(["Started: follow it in Runs.", plan, *notes]).strip())

    def refresh_uploads(self) -> None:
        self.tasks.start("research-uploads", self._uploads())

    async def _uploads(self) -> None:
        conn = self._connection()
        if conn is None:
            self.dock.show_status("Not connected: connect to list uploaded files.", problem=True)
            return
        try:
            files = await conn.client.files.list()
        except Exception as exc:
            self.dock.show_status(explain(exc, conn.client.base_url), problem=True)
            return
        self.dock.set_uploads(
            [
                (f.name, f"{f.display_name or f.name} · {f.mime_type or '?'}")
                for f in files
                if f.name and f.state != "FAILED"
            ]
        )

    # --- the plan ------------------------------------------------------------------------

    def run_ended(self, run_id: str) -> None:
        """Show a proposed plan; a report just written appears in the sandbox shown."""
        self.run_changed(run_id)
        run = self.runs.tracker.get(run_id)
        if (
            run is not None
            and run.environment_id
            and run.environment_id == self.files.environment_id
        ):
            self.files.refresh()

    def run_changed(self, run_id: str) -> None:
        """A run ended (or was selected): show its plan when it proposes one."""
        run = self.runs.tracker.get(run_id)
        if run is None:
            return
        if run.plan and run.status == "completed":
            self.dock.show_plan(run.id, run.title, run.plan)
            self.dock.show()
            self.dock.raise_()
        elif run.id == self.dock.plan_run_id:
            self.dock.hide_plan()

    def answer_plan(self, run_id: str, text: str) -> None:
        """Run the plan: confirmed as proposed, or as the user edited it."""
        run = self.runs.tracker.get(run_id)
        conn = self._connection()
        if run is None or not run.plan:
            self.dock.hide_plan()
            return
        if conn is None or conn.profile.id != run.profile_id:
            self.dock.show_status(f"Connect to “{run.server}” to answer this plan.", problem=True)
            return
        reply = confirm_input(run.plan, text)
        changes = {"agent_config": confirm_config(run.request)}
        self.tasks.start(
            f"run:{run.id}", self.runs.tracker.continue_run(conn.client, run, reply, changes)
        )
        self.dock.hide_plan()
        self.dock.show_status("Researching with the plan: follow it in Runs.")
        self.runs.show_run(run.id)

    # --- citations -----------------------------------------------------------------------

    def open_citation(self, cite: Citation) -> None:
        """A web page opens in the browser; a file in Sandbox files, at the cited passage."""
        if cite.kind == "url":
            url = QUrl(cite.uri)
            if url.scheme() in ("http", "https"):
                self._open_url(url)
                self.status_message.emit(f"Opened {cite.uri}")
            else:
                self.status_message.emit(f"Not a web address: {cite.uri}")
            return
        self.files.show_citation(cite)
