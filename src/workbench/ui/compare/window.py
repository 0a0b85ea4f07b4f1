"""The Compare view: two runs or two branches side by side.

Both transcripts on top (the app's transcript rendering, read-only); below them a diff of
the final answers (word or line level) and a table of the request settings and metrics
with what differs marked. Every side comes from :class:`~workbench.core.compare.CompareService`;
the pickers above each transcript choose another session or branch. Esc closes it.

Signals:
    open_requested(str, str): session id, leaf id — show this branch in the main window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from workbench.core.compare import (
    CompareError,
    CompareService,
    CompareSide,
    DiffMode,
    Row,
    answer_diff,
    metric_rows,
    setting_rows,
    similarity,
)

from ..plain import plain_label, plain_tip
from ..transcript.render import DARK, Theme
from .diff_html import diff_html, diff_summary
from .side_panel import SidePanel

DIFFERS_BG, DIFFERS_BG_DARK = "#fff8c5", "#4b3d0a"


class CompareWindow(QDialog):
    """Left and right sides, the answers' diff and the settings/metrics table."""

    open_requested = Signal(str, str)

    def __init__(
        self,
        service: CompareService,
        left: CompareSide,
        right: CompareSide,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare")
        self.setObjectName("compareWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.service = service
        self.mode: DiffMode = "words"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)

        self.left, self.right = SidePanel("Left"), SidePanel("Right")
        sides = QSplitter(Qt.Orientation.Horizontal)
        sides.addWidget(self.left)
        sides.addWidget(self.right)
        sides.setChildrenCollapsible(False)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._diff_page(), "Final answers")
        self.table = self._table()
        self.tabs.addTab(self.table, "Settings and metrics")

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(sides)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

        for panel in (self.left, self.right):
            panel.side_requested.connect(lambda sid, leaf, p=panel: self._load(p, sid, leaf))
            panel.switch_requested.connect(
                lambda sid, iid, step, p=panel: self._switch(p, sid, iid, step)
            )
            panel.open_requested.connect(self.open_requested)
        sessions = service.sessions()
        self.left.set_sessions(sessions)
        self.right.set_sessions(sessions)
        self.left.show_side(left)
        self.right.show_side(right)
        self._fit()
        self.refresh()

    # --- building ------------------------------------------------------------------------

    def _diff_page(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(6, 6, 6, 6)
        bar = QHBoxLayout()
        self.summary = plain_label(QLabel())
        self.summary.setObjectName("diffSummary")
        bar.addWidget(self.summary, 1)
        bar.addWidget(QLabel("Compare by:"))
        self.by_words, self.by_lines = QRadioButton("Words"), QRadioButton("Lines")
        self.by_words.setChecked(True)
        group = QButtonGroup(page)
        for button in (self.by_words, self.by_lines):
            group.addButton(button)
            bar.addWidget(button)
        self.by_words.toggled.connect(lambda on: self.set_mode("words" if on else "lines"))
        col.addLayout(bar)
        row = QSplitter(Qt.Orientation.Horizontal)
        self.left_answer, self.right_answer = QTextBrowser(), QTextBrowser()
        for browser, name in ((self.left_answer, "Left"), (self.right_answer, "Right")):
            browser.setAccessibleName(f"{name} final answer")
            browser.setOpenLinks(False)
            row.addWidget(browser)
        col.addWidget(row, 1)
        return page

    def _table(self) -> QTableWidget:
        table = QTableWidget(0, 3)
        table.setObjectName("compareTable")
        table.setAccessibleName("Settings and metrics of both sides")
        table.setHorizontalHeaderLabels(["", "Left", "Right"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        table.setShowGrid(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # Wrapped rows are measured at the columns' widths: again when those change.
        header.sectionResized.connect(lambda *_a: table.resizeRowsToContents())
        return table

    def _fit(self) -> None:
        """Most of the parent window (or the screen), never more than the screen."""
        screen = self.screen()
        free = screen.availableGeometry() if screen is not None else None
        parent = self.parentWidget()
        width, height = (parent.width(), parent.height()) if parent is not None else (1200, 800)
        if free is not None:
            width, height = min(width, free.width() - 16), min(height, free.height() - 48)
        self.resize(max(640, width - 40), max(480, height - 40))

    # --- what is shown -------------------------------------------------------------------

    def _dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def _theme(self) -> Theme:
        return DARK if self._dark() else Theme()

    def set_mode(self, mode: DiffMode) -> None:
        self.mode = mode
        (self.by_words if mode == "words" else self.by_lines).setChecked(True)
        self._show_diff()

    def refresh(self) -> None:
        """Redraw the diff and the table from the two sides shown."""
        self._show_diff()
        self._show_table()

    def _sides(self) -> tuple[CompareSide, CompareSide] | None:
        left, right = self.left.side, self.right.side
        return (left, right) if left is not None and right is not None else None

    def _show_diff(self) -> None:
        sides = self._sides()
        if sides is None:
            return
        pieces = answer_diff(sides[0].answer, sides[1].answer, self.mode)
        theme, dark = self._theme(), self._dark()
        self.left_answer.setHtml(diff_html(pieces, "left", theme, dark=dark))
        self.right_answer.setHtml(diff_html(pieces, "right", theme, dark=dark))
        self.summary.setText(diff_summary(pieces, similarity(pieces)))
        changed = sum(1 for p in pieces if p.tag != "equal")
        self.tabs.setTabText(0, f"Final answers ({changed} differ)" if changed else "Final answers")

    def _show_table(self) -> None:
        sides = self._sides()
        if sides is None:
            return
        left, right = sides
        self.table.setHorizontalHeaderLabels(["", f"Left: {left.title}", f"Right: {right.title}"])
        groups = [("Request", setting_rows(left, right)), ("Metrics", metric_rows(left, right))]
        self.table.setRowCount(sum(len(rows) + 1 for _name, rows in groups))
        tint = QBrush(QColor(DIFFERS_BG_DARK if self._dark() else DIFFERS_BG))
        bold = QFont(self.table.font())
        bold.setBold(True)
        row = 0
        differing = 0
        for name, rows in groups:
            head = QTableWidgetItem(name)
            head.setFont(bold)
            self.table.setItem(row, 0, head)
            self.table.setSpan(row, 0, 1, 3)
            row += 1
            for item in rows:
                self._put_row(row, item, tint)
                differing += item.differs
                row += 1
        self.table.resizeRowsToContents()
        label = "Settings and metrics"
        self.tabs.setTabText(1, f"{label} ({differing} differ)" if differing else label)

    def _put_row(self, row: int, item: Row, tint: QBrush) -> None:
        cells = [f"  {item.label}" + ("  ≠" if item.differs else ""), item.left, item.right]
        for col, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            cell.setToolTip(plain_tip(text))
            if item.differs:
                cell.setBackground(tint)
                cell.setData(Qt.ItemDataRole.AccessibleTextRole, f"{text} (differs)")
            self.table.setItem(row, col, cell)

    # --- changing a side -----------------------------------------------------------------

    def _load(self, panel: SidePanel, session_id: str, leaf_id: str) -> None:
        try:
            side = self.service.side(session_id, leaf_id or None)
        except CompareError as exc:
            panel.show_problem(str(exc))
            return
        panel.show_side(side)
        self.refresh()

    def _switch(self, panel: SidePanel, session_id: str, interaction_id: str, step: int) -> None:
        try:
            leaf = self.service.switch(session_id, interaction_id, step)
        except CompareError as exc:
            panel.show_problem(str(exc))
            return
        self._load(panel, session_id, leaf)
