"""Find in the transcript (Ctrl+F) and "Get code" for the message being written."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from workbench.core.engine_process import TOKEN_ENV
from workbench.ui.chat.get_code import GetCodeDialog
from workbench.ui.main_window import MainWindow
from workbench.ui.transcript import TranscriptView, TurnEntry
from workbench.ui.transcript.find import FindBar


def _entry(n: int, text: str, *, live: bool = False) -> TurnEntry:
    data = {
        "id": f"v1_t{n}",
        "status": "in_progress" if live else "completed",
        "steps": [{"type": "model_output", "content": [{"type": "text", "text": text}]}],
    }
    user: list[Any] = [{"type": "user_input", "content": [{"type": "text", "text": f"q{n}"}]}]
    return TurnEntry(f"v1_t{n}", user, data, target="scripted", live=live)


def _bar(qtbot: QtBot, entries: list[TurnEntry]) -> tuple[TranscriptView, FindBar]:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    view.set_entries(entries)
    view.flush()
    return view, FindBar(view)


def _highlighted(view: TranscriptView) -> list[str]:
    return [sel.cursor.selectedText() for sel in view.extraSelections()]


def test_find_highlights_counts_steps_and_closes(qtbot: QtBot) -> None:
    view, bar = _bar(qtbot, [_entry(n, f"apple pie number {n}") for n in range(5)])
    view.verticalScrollBar().setValue(0)  # the first match shown is the first below the top
    bar.open_bar()
    assert bar.isVisible() and view.focusWidget() is bar.edit
    QTest.keyClicks(bar.edit, "APPLE")  # case does not matter
    assert bar.count.text() == "1 of 5"
    assert _highlighted(view) == ["apple"] * 5
    QTest.keyClick(bar.edit, Qt.Key.Key_Return)
    assert bar.count.text() == "2 of 5"
    assert view.textCursor().block().text().startswith("apple pie number 1")
    QTest.keyClick(bar.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(bar.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count.text() == "5 of 5"  # wraps around
    bar.edit.setText("banana")
    assert bar.count.text() == "No matches" and _highlighted(view) == []
    assert not bar.next_button.isEnabled()
    bar.edit.setText("pie")
    QTest.keyClick(bar.edit, Qt.Key.Key_Escape)
    assert not bar.isVisible() and view.extraSelections() == []


def test_find_searches_unloaded_pages_and_follows_a_streaming_answer(qtbot: QtBot) -> None:
    entries = [_entry(n, f"turn {n} says hello") for n in range(TranscriptView.PAGE + 30)]
    entries[0] = _entry(0, "the needle is in the first turn")
    view, bar = _bar(qtbot, entries)
    assert "needle" not in view.toPlainText()  # the first turns are not in the document yet
    bar.open_bar()
    bar.edit.setText("needle")
    assert bar.count.text() == "1 of 1"
    view.set_live(_entry(999, "a live needle and another needle", live=True))
    view.flush()
    qtbot.waitUntil(lambda: bar.count.text().endswith("of 3"), timeout=3000)


def test_find_bar_and_get_code_in_the_window(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    w = make_window(backend="scripted")
    w.show()
    w.composer.set_text("Summarise this")
    assert w.controller.open_get_code(w) is None  # no engine yet: no URL to show
    # A Gemini profile needs no running engine: its URL is known.
    gemini = next(p for p in w.settings.profiles if p.kind == "gemini")
    w.settings.active_profile = gemini.id
    w.dock.target.setEditText("gemini-2.5-flash")
    dialog = w.controller.open_get_code(w)
    assert isinstance(dialog, GetCodeDialog)
    qtbot.addWidget(dialog)
    code = dialog.samples
    assert "Summarise this" in code.python and "gemini-2.5-flash" in code.curl
    assert json.loads(code.json)["model"] == "gemini-2.5-flash"
    assert "$GEMINI_API_KEY" in code.curl and TOKEN_ENV not in code.python
    dialog.tabs.setCurrentIndex(1)
    dialog.copy_current()
    assert QGuiApplication.clipboard().text() == code.curl
    # Ctrl+F opens the find bar on the transcript.
    w.find_bar.open_bar()
    assert w.find_bar.isVisible()
