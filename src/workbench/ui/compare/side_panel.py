"""One side of the Compare view: which session and branch, and its transcript.

The transcript is the app's own :class:`TranscriptView` (read-only: no Edit or Branch), so a
compared turn looks exactly as it does in the chat.

Signals:
    side_requested(str, str): session id, leaf id ("" = the branch the session shows).
    switch_requested(str, str, int): session id, interaction id, -1/+1 (the ‹ › switcher).
    open_requested(str, str): session id, leaf id — open this branch in the main window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.attachments import human_size
from workbench.core.compare import CompareSide
from workbench.core.history import SessionInfo
from workbench.core.media_info import sent_line

from ..plain import plain_label, plain_tip
from ..transcript import TranscriptView, TurnEntry


def side_entries(side: CompareSide) -> list[TurnEntry]:
    """The transcript entries of a side, as the chat builds them from the history."""
    entries = []
    for rec in side.turns:
        index, count = side.positions.get(rec.id, (1, 1))
        entries.append(
            TurnEntry(
                interaction_id=rec.id,
                input_steps=rec.input,
                data=rec.data,
                metrics=rec.metrics,
                target=rec.target,
                branch_index=index,
                branch_count=count,
                attachments=[
                    sent_line(a.name, f"{a.mime_type} · {human_size(a.size)}")
                    for a in rec.attachments
                ],
            )
        )
    return entries


class SidePanel(QWidget):
    """Session and branch pickers above a read-only transcript."""

    side_requested = Signal(str, str)
    switch_requested = Signal(str, str, int)
    open_requested = Signal(str, str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side: CompareSide | None = None
        self._filling = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        top = QHBoxLayout()
        heading = QLabel(f"<b>{name}</b>")
        top.addWidget(heading)
        self.session = QComboBox()
        self.session.setAccessibleName(f"{name}: session")
        self.session.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.session.setMinimumContentsLength(16)
        top.addWidget(self.session, 3)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open this branch in the main window")
        top.addWidget(self.open_button)
        layout.addLayout(top)
        self.branch = QComboBox()
        self.branch.setAccessibleName(f"{name}: branch")
        self.branch.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.branch.setMinimumContentsLength(16)
        layout.addWidget(self.branch)
        self.transcript = TranscriptView(editing=False)
        self.transcript.setAccessibleName(f"{name}: transcript")
        self.transcript.setObjectName(f"compare{name.replace(' ', '')}")
        layout.addWidget(self.transcript, 1)
        self.problem = plain_label(QLabel())
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #cf222e;")
        self.problem.hide()
        layout.addWidget(self.problem)

        self.session.activated.connect(self._session_chosen)
        self.branch.activated.connect(self._branch_chosen)
        self.open_button.clicked.connect(self._open)
        self.transcript.switch_requested.connect(self._switch)

    def set_sessions(self, sessions: list[SessionInfo]) -> None:
        self._filling = True
        current = self.side.session.id if self.side else None
        self.session.clear()
        for s in sessions:
            self.session.addItem(s.title or "Untitled session", s.id)
            self.session.setItemData(
                self.session.count() - 1,
                plain_tip(s.title or "Untitled session"),
                Qt.ItemDataRole.ToolTipRole,
            )
        if current is not None:
            self._select_session(current)
        self._filling = False

    def _select_session(self, session_id: str) -> None:
        index = self.session.findData(session_id)
        if index < 0:  # a run's session made after the list was read
            self.session.addItem(self.side.title if self.side else session_id, session_id)
            index = self.session.count() - 1
        self.session.setCurrentIndex(index)

    def show_side(self, side: CompareSide) -> None:
        self.side = side
        self.problem.hide()
        self._filling = True
        self._select_session(side.session.id)
        self.branch.clear()
        for b in side.branches:
            self.branch.addItem(b.label, b.leaf_id)
        index = self.branch.findData(side.leaf_id)
        if index < 0:  # a path that ends mid-tree (a run's hop that was continued)
            self.branch.addItem(f"Up to turn {len(side.turns)}", side.leaf_id)
            index = self.branch.count() - 1
        self.branch.setCurrentIndex(index)
        self.branch.setEnabled(self.branch.count() > 1)
        self._filling = False
        self.transcript.set_entries(side_entries(side))

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        if self.side is not None:  # the pickers go back to what is shown
            self.show_side(self.side)
            self.problem.show()

    def _session_chosen(self, index: int) -> None:
        if not self._filling:
            self.side_requested.emit(str(self.session.itemData(index)), "")

    def _branch_chosen(self, index: int) -> None:
        if not self._filling and self.side is not None:
            self.side_requested.emit(self.side.session.id, str(self.branch.itemData(index)))

    def _switch(self, interaction_id: str, step: int) -> None:
        if self.side is not None:
            self.switch_requested.emit(self.side.session.id, interaction_id, step)

    def _open(self) -> None:
        if self.side is not None:
            self.open_requested.emit(self.side.session.id, self.side.leaf_id)
