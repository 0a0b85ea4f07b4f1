"""Compare two sessions, two branches or two runs side by side (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from support.history_seed import save_turn, seed_branches, seed_two_sessions
from workbench.core.runs import RunRecord
from workbench.ui.compare import CompareWindow
from workbench.ui.compare.launcher import NOTHING
from workbench.ui.main_window import MainWindow

HOSTILE = "<b>x</b><script>alert(1)</script>"


def _table(window: CompareWindow) -> dict[str, tuple[str, str]]:
    t = window.table
    out = {}
    for row in range(t.rowCount()):
        cells = [t.item(row, c) for c in range(3)]
        if all(c is not None for c in cells):
            label = cells[0].text().replace("≠", "").strip()  # type: ignore[union-attr]
            out[label] = (cells[1].text(), cells[2].text())  # type: ignore[union-attr]
    return out


def test_two_sessions_side_by_side(make_window: Callable[..., MainWindow], qtbot: QtBot) -> None:
    w = make_window()
    a, b = seed_two_sessions(w.history)
    shown = w.extras.compare.compare_sessions(a, b)
    assert shown is not None and shown.isVisible()
    for panel in (shown.left, shown.right):
        panel.transcript.flush()
    left_html = shown.left.transcript.toHtml()
    assert "Here is a simple version" in shown.left.transcript.toPlainText()
    assert "Here is a short version" in shown.right.transcript.toPlainText()
    # The chat's renderer, read-only: copy links stay, Edit and Branch from here do not.
    assert "wb:copy/int_a1" in left_html
    assert "wb:edit/" not in left_html and "wb:branch/" not in left_html
    assert shown.tabs.tabText(0) == "Final answers (4 differ)"
    assert shown.summary.text() == "4 stretches differ · 75% alike"
    assert "line-through" in shown.left_answer.toHtml()
    rows = _table(shown)
    assert rows["Target"] == ("model qwen2.5-coder-0.5b", "model qwen2.5-coder-1.5b")
    assert rows["Tools"] == ("—", "code_execution")
    assert rows["Time to first token"] == ("0.31 s", "0.82 s")
    assert shown.tabs.tabText(1) == "Settings and metrics (9 differ)"
    shown.set_mode("lines")
    assert shown.by_lines.isChecked() and "stretches differ" in shown.summary.text()
    # Esc closes it (and frees it).
    QTest.keyClick(shown, Qt.Key.Key_Escape)
    assert not shown.isVisible()
    qtbot.waitUntil(lambda: w.extras.compare.windows == [], timeout=2000)  # freed


def test_branches_of_one_session_and_switching_sides(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    sid, leaf1, leaf2 = seed_branches(w.history)
    w.controller.refresh_sessions()
    w.sessions.compare_requested.emit(sid, sid)  # "Compare its branches"
    (shown,) = w.extras.compare.windows
    qtbot.addWidget(shown)
    assert shown.left.side is not None and shown.right.side is not None
    assert (shown.left.side.leaf_id, shown.right.side.leaf_id) == (leaf2, leaf1)
    assert shown.right.branch.isEnabled() and shown.right.branch.count() == 2
    assert _table(shown)["Turns"] == ("2", "2")
    # The ‹ › switcher in a compared transcript moves that side to the other branch.
    shown.right.transcript._on_link(QUrl(f"wb:next/{leaf1}"))
    assert shown.right.side.leaf_id == leaf2
    # The branch picker too.
    shown.right.branch.setCurrentIndex(0)
    shown.right.branch.activated.emit(0)
    assert shown.right.side.leaf_id == leaf1
    assert "Pear." in shown.right_answer.toPlainText()
    # "Open" shows that branch in the main window.
    shown.right.open_button.click()
    assert w.controller.session_id == sid
    assert [e.interaction_id for e in w.transcript.entries()] == ["int_r1", leaf1]


def test_a_session_deleted_meanwhile_is_reported_next_to_its_side(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    a, b = seed_two_sessions(w.history)
    shown = w.extras.compare.compare_sessions(a, b)
    assert shown is not None
    qtbot.addWidget(shown)
    w.history.delete_session(b)
    shown.left.side_requested.emit(b, "")
    assert not shown.left.problem.isHidden()
    assert shown.left.problem.text() == "That session is no longer in the history."
    assert shown.left.side is not None and shown.left.side.session.id == a  # unchanged


def test_two_runs_from_the_runs_dock(make_window: Callable[..., MainWindow], qtbot: QtBot) -> None:
    w = make_window()
    a, b = seed_two_sessions(w.history)
    tracker = w.docks.runs.tracker
    runs = [
        RunRecord(id="r1", profile_id="local", title="first", interaction_ids=["int_a1"]),
        RunRecord(id="r2", profile_id="local", title="second", interaction_ids=["int_b1"]),
        RunRecord(id="r3", profile_id="local", title="unsaved", interaction_ids=["int_none"]),
    ]
    for run in runs:
        tracker.runs[run.id] = run
    dock = w.docks.runs_dock
    dock.set_runs(runs)
    assert not dock.compare_button.isEnabled()
    dock.table.selectRow(dock.model.row_of("r1"))
    assert not dock.compare_button.isEnabled()  # one run: nothing to compare it with
    selection = dock.table.selectionModel()
    index = dock.model.index(dock.model.row_of("r2"), 0)
    selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
    assert dock.compare_button.isEnabled()
    dock.compare_button.click()
    (shown,) = w.extras.compare.windows
    qtbot.addWidget(shown)
    assert shown.left.side is not None and shown.right.side is not None
    assert {shown.left.side.session.id, shown.right.side.session.id} == {a, b}
    # A run whose turns are not in the history yet: the status bar says so.
    w.extras.compare_runs("r1", "r3")
    assert "no saved transcript yet" in w.statusBar().currentMessage()
    assert len(w.extras.compare.windows) == 1


def test_compare_from_the_menu_picks_something_sensible(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    assert w.extras.compare_current() is None
    assert w.statusBar().currentMessage() == NOTHING
    sid, _l1, leaf2 = seed_branches(w.history)
    w.controller.open_session(sid)
    shown = w.extras.compare_current()  # the open session has two branches: those
    assert shown is not None
    qtbot.addWidget(shown)
    assert shown.left.side is not None and shown.left.side.leaf_id == leaf2
    assert shown.right.side is not None and shown.right.side.session.id == sid


def test_answers_and_settings_are_shown_as_text_never_markup(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    one = w.history.create_session(HOSTILE).id
    save_turn(w.history, one, "int_h1", HOSTILE, f"Answer {HOSTILE}")
    two = w.history.create_session("plain").id
    save_turn(
        w.history,
        two,
        "int_h2",
        "q",
        "Answer plain",
        request={"model": "m", "system_instruction": HOSTILE},
    )
    shown = w.extras.compare.compare_sessions(one, two)
    assert shown is not None
    qtbot.addWidget(shown)
    assert HOSTILE in shown.left_answer.toPlainText()
    assert "<script>" not in shown.left_answer.toHtml()
    assert _table(shown)["System instruction"] == ("—", HOSTILE)
    assert shown.left.session.currentText() == HOSTILE
    tip = shown.left.session.itemData(
        shown.left.session.currentIndex(), Qt.ItemDataRole.ToolTipRole
    )
    assert "&lt;script&gt;" in tip and "<script>" not in tip
    assert HOSTILE in shown.table.horizontalHeaderItem(1).text()  # type: ignore[union-attr]
