"""The Runs dock: every background run, its live progress, approvals, cancel, transcript.

Signals:
    run_selected(str): the selected run id ("" when none).
    cancel_requested(str): stop this run on the server.
    open_requested(str): open this run's transcript.
    forget_requested(str): drop a finished run from the list — or, for a running one, stop
        it on the server and delete it.
    keep_waiting_requested(str): a stalled run gets another period before it is flagged.
    decision_made(str, str, str, object, object): run id, call id, decision, arguments,
        typed result — from an approval card.
    budget_changed(int): the token budget for new runs (0 = none).
    compare_requested(str, str): two selected runs to show side by side.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.runs import PendingCall, RunRecord, format_elapsed

from .approval_card import ApprovalCard
from .model import RunIdRole, RunsModel
from .table import RunsTable


def summary_words(runs: list[RunRecord]) -> str:
    """ "2 running (1 stalled) · 1 queued · 1 needs you"; "" when nothing is going on."""
    running = [r for r in runs if r.status == "in_progress"]
    stalled = sum(1 for r in running if r.stalled)
    parts = [f"{len(running)} running" + (f" ({stalled} stalled)" if stalled else "")]
    parts.append(f"{sum(1 for r in runs if r.status == 'queued')} queued")
    waiting = sum(1 for r in runs if r.needs_you)
    parts.append(f"{waiting} {'needs' if waiting == 1 else 'need'} you")
    return " · ".join(p for p in parts if not p.startswith("0 "))


class RunsDock(QDockWidget):
    """A table of runs above the selected run's details and approval cards."""

    run_selected = Signal(str)
    cancel_requested = Signal(str)
    open_requested = Signal(str)
    forget_requested = Signal(str)
    keep_waiting_requested = Signal(str)
    decision_made = Signal(str, str, str, object, object)
    budget_changed = Signal(int)
    compare_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("runsDock")
        self.model = RunsModel(self)
        self.has_handler: Callable[[str], bool] = lambda _name: False
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 6, 6, 6)

        bar = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel run")
        self.open_button = QPushButton("Open transcript")
        self.forget_button = QPushButton("Remove from list")
        self.wait_button = QPushButton("Keep waiting")
        self.wait_button.setToolTip("Wait for this stalled run another period.")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Select two runs (Ctrl+click) to compare them side by side")
        for button in (
            self.cancel_button,
            self.open_button,
            self.forget_button,
            self.compare_button,
        ):
            button.setEnabled(False)
            bar.addWidget(button)
        bar.addWidget(self.wait_button)
        self.wait_button.hide()
        self.stall_seconds = 300.0
        """The stall limit the details quote (set by the controller)."""
        bar.addStretch(1)
        outer.addLayout(bar)
        # What is going on, and the budget, on a row of their own: one row of everything
        # made the dock (beside Sandbox files) wider than a 1024-pixel window.
        status_row = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("runsSummary")
        self.summary.setAccessibleName("Runs in progress")
        self.summary.setWordWrap(True)
        self.summary.setToolTip(
            "Queued runs wait for a free slot: the engine runs a few background runs at once."
        )
        status_row.addWidget(self.summary, 1)
        status_row.addWidget(QLabel("Budget for new runs:"))
        self.budget = QSpinBox()
        self.budget.setRange(0, 100_000_000)
        self.budget.setSingleStep(1000)
        self.budget.setSpecialValueText("no limit")
        self.budget.setSuffix(" tokens")
        self.budget.setAccessibleName("Token budget for new runs")
        self.budget.setToolTip(
            "Workbench cancels a run when it reaches this many tokens (its own cap, "
            "separate from an agent's max_total_tokens)."
        )
        status_row.addWidget(self.budget)
        outer.addLayout(status_row)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = RunsTable(self.model)
        self.table.doubleClicked.connect(lambda _i: self._emit(self.open_requested))
        split.addWidget(self.table)

        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 4, 0, 0)
        self.empty = QLabel(
            "No background runs yet. Run an agent from the Agents panel, or tick "
            "“Run in the background” in Run settings and send a message."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid); padding: 8px;")
        dl.addWidget(self.empty)
        # The selected run's details, its answer and approval cards scroll together, so
        # the table keeps most of the height (issue 19: it showed about 1.5 rows).
        inner = QWidget()
        il = QVBoxLayout(inner)
        il.setContentsMargins(0, 0, 4, 0)
        self.detail = QLabel()
        self.detail.setObjectName("runDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        il.addWidget(self.detail)
        self.answer = QLabel()
        self.answer.setObjectName("runAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer.hide()
        il.addWidget(self.answer)
        self.cards_box = QWidget()
        self.cards = QVBoxLayout(self.cards_box)
        self.cards.setContentsMargins(0, 0, 0, 0)
        il.addWidget(self.cards_box)
        il.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        dl.addWidget(scroll, 1)
        split.addWidget(detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([150, 150])
        split.setChildrenCollapsible(False)
        outer.addWidget(split, 1)
        self.setWidget(body)

        self.table.selectionModel().selectionChanged.connect(self._selection)
        self.cancel_button.clicked.connect(lambda: self._emit(self.cancel_requested))
        self.open_button.clicked.connect(lambda: self._emit(self.open_requested))
        self.forget_button.clicked.connect(lambda: self._emit(self.forget_requested))
        self.compare_button.clicked.connect(self._compare)
        self.wait_button.clicked.connect(lambda: self._emit(self.keep_waiting_requested))
        self.budget.valueChanged.connect(self.budget_changed.emit)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.model.tick)
        self._timer.start()
        self.card_widgets: list[ApprovalCard] = []
        self._shown_cards: tuple[str, tuple[str, ...]] = ("", ())
        self._refresh_empty()

    # --- data ----------------------------------------------------------------------------

    def set_runs(self, runs: list[RunRecord]) -> None:
        self.model.set_runs(runs)
        self._refresh_empty()

    def update_run(self, run: RunRecord) -> None:
        self.model.update_run(run)
        self._refresh_empty()
        if run.id == self.current_run_id():
            self._show_detail(run)

    def remove_run(self, run_id: str) -> None:
        self.model.remove_run(run_id)
        self._refresh_empty()

    def select_run(self, run_id: str) -> None:
        row = self.model.row_of(run_id)
        if row >= 0:
            self.table.selectRow(row)
            self.show()
            self.raise_()

    def current_run_id(self) -> str:
        """The run the details show: the current row of the selection (the last clicked)."""
        selection = self.table.selectionModel()
        rows = selection.selectedRows()
        current = selection.currentIndex()
        if current.isValid() and selection.isRowSelected(current.row(), current.parent()):
            return str(current.siblingAtColumn(0).data(RunIdRole))
        return str(rows[0].data(RunIdRole)) if rows else ""

    def selected_run_ids(self) -> list[str]:
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [str(i.data(RunIdRole)) for i in rows]

    def _compare(self) -> None:
        ids = self.selected_run_ids()
        if len(ids) == 2:
            self.compare_requested.emit(ids[0], ids[1])

    def current_run(self) -> RunRecord | None:
        return self.model.run_at(self.model.row_of(self.current_run_id()))

    # --- internals -----------------------------------------------------------------------

    def _refresh_empty(self) -> None:
        self.empty.setVisible(self.model.rowCount() == 0)
        self.summary.setText(summary_words(self.model.runs()))

    def _emit(self, signal: SignalInstance) -> None:
        run_id = self.current_run_id()
        if run_id:
            signal.emit(run_id)

    def _selection(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self.compare_button.setEnabled(len(self.table.selectionModel().selectedRows()) == 2)
        run = self.current_run()
        self._show_detail(run)
        self.run_selected.emit(run.id if run else "")

    def _show_detail(self, run: RunRecord | None) -> None:
        self.cancel_button.setEnabled(bool(run and (run.running or run.needs_you)))
        self.open_button.setEnabled(bool(run and run.interaction_id))
        self.forget_button.setEnabled(run is not None)
        running = bool(run and run.running)
        self.forget_button.setText("Stop and delete" if running else "Remove from list")
        self.forget_button.setToolTip(
            "Cancel this run on the server, check that it stopped, then delete it."
            if running
            else "Drop this run from the list (its transcript stays in the history)."
        )
        self.wait_button.setVisible(bool(run and run.stalled and run.running))
        if run is None:
            self.detail.setText("")
            self.answer.hide()
            self._set_cards("", [])
            return
        # Everything below came from a server, a model or a file: escaped before it is HTML.
        esc = html.escape
        parts = [f"<b>{esc(run.title)}</b> · {esc(run.target_kind)} <code>{esc(run.target)}</code>"]
        if run.model and run.model != run.target:
            parts.append(f"model <code>{html.escape(run.model)}</code>")
        if run.interaction_id:
            parts.append(f"interaction <code>{esc(run.interaction_id)}</code>")
        if run.environment_id:
            parts.append(f"sandbox <code>{esc(run.environment_id)}</code>")
        if run.reconnects:
            parts.append(f"re-attached {run.reconnects}×")
        text = " · ".join(parts)
        if run.progress:
            text += f"<br>{'Progress' if run.running else 'Last step'}: {esc(run.progress)}"
        if run.plan:
            text += "<br>A research plan waits for you: confirm or edit it in Deep Research."
        if run.error:
            text += f"<br><span style='color:#cf222e'>{esc(run.error)}</span>"
        if run.needs_you:
            text += "<br>Waiting for your approval below."
        if run.stalled and run.running:
            text += (
                "<br><span style='color:#bc4c00'>No progress from the server for "
                f"{format_elapsed(self.stall_seconds)}: the run may be stuck. Cancel it, or "
                "keep waiting.</span>"
            )
        self.detail.setText(text)
        self._show_answer(run)
        self._set_cards(run.id, [c for c in run.pending if not c.decision] if run.needs_you else [])

    def _show_answer(self, run: RunRecord) -> None:
        """The final answer's own words; a run that did not do its task says so first."""
        if not run.answer and not run.not_done:
            self.answer.hide()
            return
        words = html.escape(run.answer or "(no answer)").replace("\n", "<br>")
        if run.not_done:
            head = (
                f"<b style='color:#cf222e'>Not done</b> — {html.escape(run.verdict_reason)}."
                "<br>Its last words:"
            )
        else:
            head = "<b>Answer:</b>"
        self.answer.setText(f"{head}<br><span style='white-space:pre-wrap'>{words}</span>")
        self.answer.show()

    def _set_cards(self, run_id: str, calls: list[PendingCall]) -> None:
        key = (run_id, tuple(c.call_id for c in calls))
        if key == self._shown_cards:
            return
        self._shown_cards = key
        while self.cards.count():
            item = self.cards.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        self.card_widgets = []
        for call in calls:
            card = ApprovalCard(call, has_handler=self.has_handler(call.name))
            card.decided.connect(
                lambda cid, d, a, r, rid=run_id: self.decision_made.emit(rid, cid, d, a, r)
            )
            self.cards.addWidget(card)
            self.card_widgets.append(card)
        if calls:
            self.cards.addStretch(1)
