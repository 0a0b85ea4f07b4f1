"""The command palette, the generated shortcut sheet, standard keys, the saved layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSplitter
from pytestqt.qtbot import QtBot

from support.history_seed import seed_branches, seed_two_sessions
from workbench.core.settings import UiState, load_ui_state, save_ui_state
from workbench.ui.main_window import MainWindow
from workbench.ui.palette import clean, menu_actions
from workbench.ui.shortcuts_help import WIDGET_KEYS, shortcut_clashes
from workbench.ui.window_state import WindowStateKeeper, fit_rect

STANDARD = {
    "Ctrl+N": "New session",
    "Ctrl+F": "Find in transcript",
    "Ctrl+Q": "Quit",
    "Ctrl+,": "Settings",
    "Ctrl+K": "Command palette",
    "Ctrl+L": "Target picker",
    "Ctrl+B": "Run settings",
    "Ctrl+/": "Keyboard shortcuts",
    "Ctrl+Return": "Send message",
    "Ctrl+Shift+G": "Get code",
    "F2": "Rename session",
    "F5": "Reconnect",
}


def _by_key(w: MainWindow) -> dict[str, str]:
    out = {}
    for action, _where in menu_actions(w):
        for key in action.shortcuts():
            out[key.toString(QKeySequence.SequenceFormat.PortableText)] = clean(action.text())
    return out


def test_standard_shortcuts_exist_and_none_is_shared(
    make_window: Callable[..., MainWindow],
) -> None:
    w = make_window()
    keys = _by_key(w)
    for key, name in STANDARD.items():
        assert keys.get(key) == name, f"{key} should be {name}, is {keys.get(key)}"
    assert shortcut_clashes(w) == {}
    # The check sees a clash when there is one.
    extra = QAction("Another new thing", w)
    extra.setShortcut(QKeySequence("Ctrl+N"))
    w.addAction(extra)
    assert shortcut_clashes(w) == {"Ctrl+N": ["New session", "Another new thing"]}


def test_the_shortcut_sheet_lists_every_action_with_a_key(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    w.show()
    sheet = w.extras.show_shortcuts()
    assert sheet.isVisible() and w.extras.show_shortcuts() is sheet  # one at a time
    rows = sheet.shown_rows()
    listed = {(what, where) for _keys, what, where in rows}
    for action, where in menu_actions(w):
        if not action.shortcut().isEmpty():
            assert (clean(action.text()), where) in listed
    assert rows[-len(WIDGET_KEYS) :] == WIDGET_KEYS
    QTest.keyClick(sheet, Qt.Key.Key_Escape)
    assert not sheet.isVisible()
    qtbot.waitUntil(lambda: w.extras.shortcuts is None, timeout=2000)


def test_the_palette_lists_every_action_filters_and_runs(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    w.show()
    palette = w.extras.open_palette()
    names = set(palette.shown_names())
    for action, _where in menu_actions(w):
        assert clean(action.text()) in names
    QTest.keyClicks(palette.field, "kbd shrt")
    assert palette.shown_names()[0] == "Keyboard shortcuts"
    QTest.keyClick(palette.field, Qt.Key.Key_Return)
    assert not palette.isVisible()
    assert w.extras.shortcuts is not None and w.extras.shortcuts.isVisible()
    w.extras.shortcuts.close()
    # Up/Down choose; Esc closes without running anything.
    palette = w.extras.open_palette()
    first = palette.list.currentItem()
    QTest.keyClick(palette.field, Qt.Key.Key_Down)
    assert palette.list.currentItem() is not first
    QTest.keyClick(palette.field, Qt.Key.Key_Up)
    assert palette.list.currentItem() is first
    QTest.keyClick(palette.field, Qt.Key.Key_Escape)
    assert not palette.isVisible()


def test_the_palette_opens_recent_sessions_and_searches(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window()
    w.show()
    a, _b = seed_two_sessions(w.history)
    palette = w.extras.open_palette()
    assert "Prime check — 0.5B" in palette.shown_names()
    QTest.keyClicks(palette.field, "prime 0.5")
    assert palette.shown_names()[0] == "Prime check — 0.5B"
    QTest.keyClick(palette.field, Qt.Key.Key_Return)
    assert w.controller.session_id == a
    palette = w.extras.open_palette()
    QTest.keyClicks(palette.field, "zzqq")
    assert palette.shown_names() == ["Search all sessions for “zzqq”"]
    QTest.keyClick(palette.field, Qt.Key.Key_Return)
    assert w.sessions.search.text() == "zzqq"
    qtbot.waitUntil(lambda: w.sessions.model.rowCount() == 0, timeout=3000)  # searched
    assert not w.sessions.empty.isHidden()  # "No sessions match."


def test_a_first_start_keeps_the_default_layout(make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    assert not w.extras.layout.restored
    assert w.docks.runs_dock.isVisibleTo(w) and w.dock.isVisibleTo(w)
    assert w.controller.session_id is None


def test_layout_and_last_session_come_back(make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    sid, _l1, _l2 = seed_branches(w.history)
    w.show()
    w.docks.runs_dock.hide()
    splitter = w.extras.layout.splitter
    assert splitter is not None
    splitter.setSizes([330, 600])
    sizes = splitter.sizes()
    w.controller.open_session(sid)
    w.extras.layout.save()
    saved = load_ui_state(w.paths.ui_state_file)
    assert saved.last_session == sid and saved.geometry and saved.dock_state
    w.hide()

    again = make_window()
    again.show()
    assert again.extras.layout.restored
    assert not again.docks.runs_dock.isVisibleTo(again)
    restored = again.extras.layout.splitter
    assert restored is not None and restored.sizes() == sizes
    assert again.controller.session_id == sid
    assert again.header.session_title.full_text() == "Branching session"


def _small_window(qtbot: QtBot) -> QMainWindow:
    """A window with a splitter and a dock, small enough for the offscreen screen."""
    window = QMainWindow()
    qtbot.addWidget(window)
    splitter = QSplitter()
    splitter.addWidget(QLabel("left"))
    splitter.addWidget(QLabel("right"))
    window.setCentralWidget(splitter)
    dock = QDockWidget("Dock", window)
    dock.setObjectName("dock")
    dock.setWidget(QLabel("dock"))
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    return window


def test_geometry_comes_back_and_a_bigger_screens_is_fitted(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "window-state.json"
    first = _small_window(qtbot)
    first.show()
    first.setGeometry(QRect(40, 50, 500, 360))
    keeper = WindowStateKeeper(first, path)
    assert not keeper.restore()  # nothing saved yet: the layout stays as it is
    assert first.geometry() == QRect(40, 50, 500, 360)
    keeper.save()
    second = _small_window(qtbot)
    second.show()
    assert WindowStateKeeper(second, path).restore()
    assert second.geometry() == QRect(40, 50, 500, 360)
    # Saved on a screen bigger than this one: shrunk and moved inside it.
    second.setGeometry(QRect(900, 700, 3000, 2000))
    WindowStateKeeper(second, path).save()
    third = _small_window(qtbot)
    third.show()
    assert WindowStateKeeper(third, path).restore()
    screen = third.screen()
    assert screen is not None
    free = screen.availableGeometry()
    assert free.contains(third.geometry()), (third.geometry(), free)
    assert third.width() <= free.width() - 16 and third.height() <= free.height() - 48


def test_fit_rect_on_a_1366x768_laptop() -> None:
    laptop = QRect(0, 0, 1366, 768)
    for saved in (QRect(0, 0, 2560, 1440), QRect(1800, 900, 1200, 700), QRect(-50, -20, 900, 600)):
        fitted = fit_rect(saved, laptop)
        assert laptop.contains(fitted), (saved, fitted)
        assert fitted.width() <= min(saved.width(), 1366 - 16)
        assert fitted.height() <= min(saved.height(), 768 - 48)
    assert fit_rect(QRect(10, 10, 800, 600), laptop) == QRect(10, 10, 800, 600)


def test_a_broken_saved_layout_is_ignored(make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    save_ui_state(
        UiState(geometry="not base64!", dock_state="AAAA", last_session="s_gone"),
        w.paths.ui_state_file,
    )
    again = make_window()
    assert not again.extras.layout.restored
    assert again.controller.session_id is None
