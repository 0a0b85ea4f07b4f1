"""What the Schedules and Webhooks docks share: a dock listing one kind of server item.

Both show, under a problem line, a vertical splitter of three parts: the server's items in a
table with action buttons and Refresh, a form for a new item, and the selected item's log.
The buttons work only while an item is selected; a list read again keeps the selection;
Delete asks first. The table, the confirmation and the time format are also used by the
server-credentials section of Settings.

Signals (of every such dock):
    refresh_requested(): read the items again.
    delete_requested(str): an item id, after the user confirmed.
    selected(str): the item whose log to show ("" for none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..plain import plain_label


def when(stamp: str | None) -> str:
    """An RFC 3339 time as local ``YYYY-MM-DD HH:MM`` ("" when missing)."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def confirm(parent: QWidget, title: str, text: str, then: Callable[[], None]) -> QMessageBox:
    """A non-blocking Yes/Cancel question; ``then`` runs on Yes."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent,
    )  # fmt: skip
    box.setTextFormat(Qt.TextFormat.PlainText)  # it names things a server or user named
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.accepted.connect(then)
    box.open()
    return box


def list_table(headers: list[str]) -> QTableWidget:
    """A read-only table that selects one whole row at a time."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def cell(text: str, row_id: str = "", tip: str = "") -> QTableWidgetItem:
    """A table cell; ``row_id`` is kept as its data (what :meth:`current_id` reads)."""
    item = QTableWidgetItem(text)
    if row_id:
        item.setData(Qt.ItemDataRole.UserRole, row_id)
    if tip:
        item.setToolTip(tip)
    return item


def _column(*parts: QWidget | QLayout) -> QWidget:
    """A widget with ``parts`` stacked top to bottom, edge to edge."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    return column


class Listed(Protocol):
    """A server item: what the dock needs of it is its id."""

    @property
    def id(self) -> str | None: ...


ItemT = TypeVar("ItemT", bound=Listed)


class ListDetailDock(QDockWidget, Generic[ItemT]):
    """A list of server items with actions, a form, and the selected item's log.

    A subclass builds its three parts with :meth:`_list_panel`, :meth:`_form_panel` and
    :meth:`_log_panel`, stacks them with :meth:`_stack`, and says what selecting an item
    changes (:meth:`_show_selection`); its Delete button calls :meth:`_ask_to_delete`.
    """

    refresh_requested = Signal()
    delete_requested = Signal(str)
    selected = Signal(str)

    def __init__(self, title: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName(object_name)
        self._items: list[ItemT] = []
        self._list = list_table([])
        self._actions: tuple[QPushButton, ...] = ()
        self.dialog: QWidget | None = None
        self.problem = plain_label(QLabel())
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b3261e")
        self.problem.hide()

    # --- building it ---------------------------------------------------------------------

    def _list_panel(self, table: QTableWidget, actions: Sequence[QPushButton]) -> QWidget:
        """The item table over its buttons; ``actions`` need a selected item."""
        self._list, self._actions = table, tuple(actions)
        table.itemSelectionChanged.connect(self._selection)
        buttons = QHBoxLayout()
        refresh = QPushButton("Refresh")
        for button in self._actions:
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        refresh.clicked.connect(self.refresh_requested)
        return _column(table, buttons)

    @staticmethod
    def _form_panel() -> tuple[QWidget, QFormLayout]:
        """The part that holds the form for a new item, and its form layout."""
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 4, 0, 4)
        return box, form

    @staticmethod
    def _log_panel(label: QLabel, table: QTableWidget) -> QWidget:
        """The selected item's log: a heading over a table."""
        return _column(label, table)

    def _stack(self, *parts: QWidget) -> None:
        """The problem line over a vertical splitter of ``parts``, as the dock's body."""
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        split = QSplitter(Qt.Orientation.Vertical)
        for part in parts:
            split.addWidget(part)
        layout.addWidget(self.problem)
        layout.addWidget(split)
        self.setWidget(body)

    # --- what the controller sets --------------------------------------------------------

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def _set_items(
        self, items: Sequence[ItemT], rows: Sequence[Sequence[QTableWidgetItem]]
    ) -> None:
        """Show ``items`` (one row of cells each), keeping the selected one selected."""
        keep = self.current_id()
        self._items = list(items)
        self._list.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for col, item in enumerate(cells):
                self._list.setItem(row, col, item)
        for row, listed in enumerate(self._items):
            if listed.id == keep:
                self._list.selectRow(row)
        self._selection()

    # --- reading it ----------------------------------------------------------------------

    def current_id(self) -> str:
        rows = self._list.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self._list.item(rows[0].row(), 0)
        value: Any = item.data(Qt.ItemDataRole.UserRole) if item else ""
        return str(value or "")

    def current(self) -> ItemT | None:
        wanted = self.current_id()
        return next((i for i in self._items if i.id == wanted), None)

    # --- events --------------------------------------------------------------------------

    def _selection(self) -> None:
        listed = self.current()
        for button in self._actions:
            button.setEnabled(listed is not None)
        self._show_selection(listed)
        self.selected.emit(listed.id if listed and listed.id else "")

    def _show_selection(self, listed: ItemT | None) -> None:
        """What else changes with the selection (button labels, the log); nothing here."""

    def _ask_to_delete(self, title: str, text: Callable[[ItemT], str]) -> None:
        """Ask ``title``/``text(item)`` about the selected item; Yes emits delete_requested."""
        listed = self.current()
        if listed is None or not listed.id:
            return
        item_id = listed.id
        self.dialog = confirm(
            self, title, text(listed), lambda: self.delete_requested.emit(item_id)
        )
