"""The main window fits a small screen: 1024×640 with its default docks, nothing clipped.

It used to need 1237×722 — Runs and Sandbox files side by side, each with a single row of
buttons, and the Agents form's height — a tight fit on a 1366×768 laptop with a title bar.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from workbench.core.run_records import RunRecord
from workbench.ui.runs.model import COLUMNS, RunsModel
from workbench.ui.runs.table import RUN_MIN, RunsTable
from workbench.ui.window_state import side_widths


def test_main_window_minimum_size_fits_1024_by_640(make_window: Any) -> None:
    w = make_window()
    w.show()
    # What appears while working must not widen it either: a stalled run's "Keep waiting",
    # the runs summary, a transfer's progress row.
    runs = w.docks.runs_dock
    runs.wait_button.show()
    runs.summary.setText("12 running (3 stalled) · 40 queued · 2 need you")
    w.docks.files_dock.progress_box.show()
    hint = w.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640, hint
    w.resize(1024, 640)
    assert (w.width(), w.height()) == (1024, 640)


def test_runs_table_keeps_the_run_column_readable(qtbot: QtBot) -> None:
    model = RunsModel()
    model.set_runs([RunRecord(id="r", profile_id="p", title="Translate the handbook")])
    table = RunsTable(model)
    qtbot.addWidget(table)
    table.resize(1400, 200)
    table.show()
    qtbot.waitExposed(table)
    assert not any(table.isColumnHidden(c) for c in range(len(COLUMNS)))
    table.resize(520, 200)
    qtbot.waitUntil(lambda: table.isColumnHidden(6))
    assert table.columnWidth(0) >= RUN_MIN
    assert not table.isColumnHidden(1) and not table.isColumnHidden(2)  # target, status stay
    table.resize(1400, 200)
    qtbot.waitUntil(lambda: not table.isColumnHidden(6))
    assert table.columnWidth(6) == table.widths[6]  # back at its width


def test_header_drops_the_server_address_before_the_title(qtbot: QtBot) -> None:
    from workbench.ui.header import TITLE_ROOM, SessionHeader

    header = SessionHeader()
    qtbot.addWidget(header)
    header.show_title("Research: When was Acme founded")
    header.show_connection("Local engine · 127.0.0.1:41573", True)
    header.resize(1000, 30)
    header.show()
    qtbot.waitExposed(header)
    assert header.connection_label.text() == "● Local engine · 127.0.0.1:41573"
    header.resize(360, 30)
    qtbot.waitUntil(lambda: header.connection_label.text() == "● Local engine")
    assert "127.0.0.1:41573" in header.connection_label.toolTip()
    qtbot.waitUntil(lambda: header.session_title.width() >= TITLE_ROOM - 30)
    # Words about the connection itself are never dropped.
    header.show_connection("Local engine · starting 48 %…", False)
    assert header.connection_label.text() == "○ Local engine · starting 48 %…"


def _transcript_share(w: Any) -> float:
    return float(w.transcript.width()) / w.width()


def test_first_start_on_a_narrow_window_leaves_the_transcript_half(
    make_window: Any, qtbot: QtBot
) -> None:
    """At 1024×640 the right dock's natural 400 px left the transcript a third of the window."""
    w = make_window()
    w.resize(1024, 640)
    w.show()
    qtbot.waitUntil(lambda: _transcript_share(w) >= 0.5)
    assert w.dock.width() >= w.dock.minimumWidth()
    body = w.dock.widget().widget()  # the Run settings form fits: nothing clipped on the right
    qtbot.waitUntil(lambda: body.width() >= body.minimumSizeHint().width())
    # A layout the user saved is theirs: widened again, it comes back wide.
    w.resizeDocks([w.dock], [420], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: w.dock.width() >= 400)
    w.extras.layout.save()
    w.hide()
    again = make_window()
    again.resize(1024, 640)
    again.show()
    assert again.extras.layout.restored
    qtbot.waitUntil(lambda: again.dock.width() >= 400)
    qtbot.wait(50)
    assert again.dock.width() >= 400


def test_side_widths_shrink_only_when_the_transcript_would_get_under_half() -> None:
    assert side_widths(1366, 404, 260) == (404, 260)  # 702 px of 1366 left: as built
    dock, sessions = side_widths(1024, 404, 260)
    assert 1024 - dock - sessions >= 512 and dock < 404 and sessions < 260
    assert side_widths(1024, 200, 100) == (200, 100)  # never widened


def test_each_dock_tab_group_shows_one_tab_bar(make_window: Any, qtbot: QtBot) -> None:
    """Qt leaks a visible tab bar per tabify into a split area before the first layout; the
    leaked copies ("Sandbox files | Models" drawn over the Runs dock) must stay hidden."""
    from PySide6.QtWidgets import QTabBar

    w = make_window(backend=None)  # no connection: nothing else re-lays the docks out
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)

    def shown() -> list[list[str]]:
        bars = [b for b in w.findChildren(QTabBar) if b.parent() is w and b.isVisible()]
        return [[b.tabText(i) for i in range(b.count())] for b in bars]

    qtbot.waitUntil(lambda: bool(shown()))  # the first layout pass shows the bars in use
    titles = [t for tabs in shown() for t in tabs]
    assert len(titles) == len(set(titles)), shown()
    assert len(shown()) == 3 and "Runs" in titles and "Sandbox files" in titles
    w.docks.models_dock.raise_()  # the layout changes: still one bar per group
    qtbot.wait(50)
    titles = [t for tabs in shown() for t in tabs]
    assert len(titles) == len(set(titles)), shown()
