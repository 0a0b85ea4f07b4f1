from __future__ import annotations

import gc
import json

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from workbench.core.attachments import from_bytes
from workbench.core.history import SessionInfo
from workbench.core.profiles import default_profiles
from workbench.core.run_settings import RunSettings
from workbench.core.secrets import SecretStore
from workbench.ui.composer import Composer
from workbench.ui.function_editor import FunctionEditor
from workbench.ui.run_settings_dock import RunSettingsDock
from workbench.ui.sessions_panel import SessionsPanel
from workbench.ui.settings_dialog import SettingsDialog
from workbench.ui.transcript import TranscriptView, TurnEntry

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def test_composer_enter_sends_shift_enter_newline_esc_stops(qtbot: QtBot) -> None:
    c = Composer()
    qtbot.addWidget(c)
    sent: list[tuple[str, list[object]]] = []
    stops: list[bool] = []
    c.send_requested.connect(lambda t, a: sent.append((t, a)))
    c.stop_requested.connect(lambda: stops.append(True))
    qtbot.keyClicks(c.edit, "line one")
    qtbot.keyClick(c.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(c.edit, "line two")
    assert c.text() == "line one\nline two"
    qtbot.keyClick(c.edit, Qt.Key.Key_Return)
    assert sent == [("line one\nline two", [])]
    c.set_running(True)
    assert c.send_button.text() == "Stop"
    qtbot.keyClick(c.edit, Qt.Key.Key_Escape)
    assert stops == [True]
    qtbot.keyClick(c.edit, Qt.Key.Key_Return)  # no second send while running
    assert len(sent) == 1


def test_composer_chips_and_refusal_keep_the_text(qtbot: QtBot) -> None:
    c = Composer()
    qtbot.addWidget(c)
    c.set_text("my long draft")
    c.add_attachment(from_bytes("cat.png", PNG))
    assert "image/png" in c._chips[0].detail.text()  # until the summary is computed
    assert "sent inline (base64)" in c._chips[0].label.text()
    c.refuse("“big.mov” is 30.0 MB; files sent inline may be at most 20.0 MB.")
    assert not c.message.isHidden()
    assert c.text() == "my long draft"
    assert len(c.attachments()) == 1


def test_composer_paste_image_and_files(qtbot: QtBot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = Composer()
    qtbot.addWidget(c)
    pasted: list[tuple[str, bytes, str]] = []
    files: list[list[str]] = []
    c.data_pasted.connect(lambda n, d, m: pasted.append((n, d, m)))
    c.files_requested.connect(files.append)
    mime = QMimeData()
    img = QImage(4, 4, QImage.Format.Format_RGB32)
    img.fill(0xFF0000)
    mime.setImageData(img)
    c.edit.insertFromMimeData(mime)
    assert pasted[0][0] == "pasted image.png"
    assert pasted[0][1].startswith(b"\x89PNG")
    mime2 = QMimeData()
    mime2.setUrls([QUrl.fromLocalFile(str(tmp_path / "a.pdf"))])
    c.edit.insertFromMimeData(mime2)
    assert files == [[str(tmp_path / "a.pdf")]]
    text = QMimeData()
    text.setText("plain words")
    c.edit.insertFromMimeData(text)
    assert c.text() == "plain words"


def test_function_editor_shows_schema_errors(qtbot: QtBot) -> None:
    ed = FunctionEditor()
    qtbot.addWidget(ed)
    got: list[list[object]] = []
    ed.functions_changed.connect(got.append)
    ed.edit.setPlainText('[{"name": "f", "parameters": {"type": "object"}}]')
    ed.validate()
    assert got[-1] == [{"name": "f", "parameters": {"type": "object"}}]
    assert "1 function" in ed.status.text()
    ed.edit.setPlainText('[{"name": "f", "parameters": {"type": "object", "required": "x"}}]')
    problems = ed.validate()
    assert problems
    assert "invalid JSON Schema" in ed.status.text()
    assert "last valid declarations stay in use" in ed.status.text()
    assert ed.functions() == [{"name": "f", "parameters": {"type": "object"}}]
    ed.edit.setPlainText("[{")
    ed.validate()
    assert "line 1" in ed.status.text()


def test_run_settings_dock_round_trip_and_capabilities(qtbot: QtBot) -> None:
    from workbench.core.capabilities import capabilities_for
    from workbench.core.profiles import local_profile

    dock = RunSettingsDock()
    qtbot.addWidget(dock)
    settings = RunSettings(
        target="m",
        system_instruction="Be brief",
        temperature=0.3,
        max_output_tokens=100,
        builtin_tools=["google_search"],
        functions=[{"name": "f"}],
        stream=False,
        store=True,
    )
    dock.load(settings)
    assert dock.run_settings() == settings
    dock.apply_capabilities(capabilities_for(local_profile(), [], "m"))
    assert not dock.builtin["google_search"].isEnabled()
    assert "offline" in dock.builtin["google_search"].toolTip()
    assert dock.run_settings().builtin_tools == []
    dock.kind.setCurrentIndex(1)
    dock.apply_capabilities(capabilities_for(local_profile(), [], "a", "agent"))
    assert not dock.temperature.isEnabled()
    assert "Agents" in dock.temperature.toolTip()


def test_sessions_panel_model_and_rename(qtbot: QtBot) -> None:
    panel = SessionsPanel()
    qtbot.addWidget(panel)
    rows = [
        SessionInfo("s1", "First", 1.0, 1.0, True, "", None),
        SessionInfo("s2", "", 2.0, 2.0, False, "", None),
    ]
    panel.set_sessions(rows)
    model = panel.model
    assert model.rowCount() == 2
    assert str(model.data(model.index(0))).startswith("First")
    # Pinned rows carry the app's pin icon, not an emoji that needs an emoji font.
    assert not model.data(model.index(0), Qt.ItemDataRole.DecorationRole).isNull()
    assert model.data(model.index(1), Qt.ItemDataRole.DecorationRole) is None
    assert "Untitled session" in str(model.data(model.index(1)))
    renames: list[tuple[str, str]] = []
    panel.rename_requested.connect(lambda sid, t: renames.append((sid, t)))
    model.setData(model.index(1), "  Named ")
    assert renames == [("s2", "Named")]


def test_transcript_renders_turn_parts(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    branches: list[str] = []
    view.branch_requested.connect(branches.append)
    data = {
        "id": "v1_x",
        "status": "completed",
        "steps": [
            {"type": "thought", "summary": [{"type": "text", "text": "pondering"}]},
            {
                "type": "function_call",
                "id": "c",
                "name": "get_weather",
                "arguments": {"city": "Oslo"},
            },
            {"type": "function_result", "call_id": "c", "result": "sunny"},
            {
                "type": "model_output",
                "content": [{"type": "text", "text": "Here:\n\n```python\nprint(1)\n```\n"}],
            },
        ],
        "usage": {"total_input_tokens": 4, "total_output_tokens": 9},
    }
    user = [{"type": "user_input", "content": [{"type": "text", "text": "hello"}]}]
    view.set_entries(
        [
            TurnEntry(
                "v1_x",
                user,
                data,
                {"thought_seconds": [2.5], "ttft": 0.1},
                "scripted",
                branch_index=1,
                branch_count=2,
            )
        ]
    )
    view.flush()
    text = view.toPlainText()
    assert "hello" in text
    assert "Thought for 2.5 s" in text
    assert "pondering" not in text  # collapsed
    assert "Tool call · get_weather" in text
    assert "sunny" in text
    assert "print(1)" in text
    assert "Copy code" in text
    assert "1/2" in text
    assert "4 in · 9 out" in text
    view.toggle("v1_x-0")
    view.flush()
    assert "pondering" in view.toPlainText()
    view._on_link(QUrl("wb:copy-code/v1_x-2-0"))
    assert QApplication.clipboard().text() == "print(1)"
    view._on_link(QUrl("wb:branch/v1_x"))
    assert branches == ["v1_x"]


def test_transcript_repaints_are_coalesced(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.flush()
    before = view.repaints
    user = [{"type": "user_input", "content": [{"type": "text", "text": "q"}]}]
    for n in range(200):
        text = " ".join(["word"] * n)
        data = {
            "id": "i",
            "status": "in_progress",
            "steps": [{"type": "model_output", "content": [{"type": "text", "text": text}]}],
        }
        view.set_live(TurnEntry("i", user, data, live=True))
    qtbot.waitUntil(lambda: view.repaints > before, timeout=2000)
    assert view.repaints - before <= 2
    assert "word word" in view.toPlainText()


def test_model_output_html_is_not_trusted(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    data = {
        "id": "i",
        "status": "completed",
        "steps": [
            {
                "type": "model_output",
                "content": [{"type": "text", "text": "<b>bold?</b> <img src='x'>"}],
            }
        ],
    }
    view.set_entries([TurnEntry("i", [], data)])
    view.flush()
    assert "<b>bold?</b>" in view.toPlainText()


def test_settings_dialog_is_freed_and_says_when_no_keyring(qtbot: QtBot) -> None:
    from keyring.backends import fail

    store = SecretStore(backend=fail.Keyring())
    dialog = SettingsDialog(default_profiles(), "local", store)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.list.setCurrentRow(1)  # Gemini
    assert not dialog.key_box.isHidden()
    assert "No usable keyring" in dialog.keyring_note.text()
    assert dialog.session_only.isVisible()
    dialog.key.setText("AIza-secret")
    dialog.save_key.click()
    assert "Not saved" in dialog.badge.text()
    dialog.session_only.setChecked(True)
    dialog.key.setText("AIza-secret")
    dialog.save_key.click()
    assert "this session only" in dialog.badge.text()
    assert store.get("gemini") == "AIza-secret"
    accepted: list[tuple[list[object], str]] = []
    dialog.settings_accepted.connect(lambda p, a: accepted.append((p, a)))
    dialog.active.setCurrentIndex(1)
    destroyed: list[bool] = []
    dialog.destroyed.connect(lambda: destroyed.append(True))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert accepted[0][1] == "gemini"
    qtbot.waitUntil(lambda: bool(destroyed), timeout=2000)
    gc.collect()


def test_settings_dialog_validates_profiles(qtbot: QtBot) -> None:
    from keyring.backends import fail

    dialog = SettingsDialog(default_profiles(), "local", SecretStore(backend=fail.Keyring()))
    qtbot.addWidget(dialog)
    dialog.add_button.click()
    assert dialog.list.count() == 3
    dialog.base_url.setText("ftp://nope")
    accepted: list[object] = []
    dialog.settings_accepted.connect(lambda p, a: accepted.append(p))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert not accepted
    assert "http://" in dialog.problems.text()
    dialog.base_url.setText("http://127.0.0.1:9/x")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert accepted
    assert json.dumps([p.model_dump() for p in accepted[0]]).count("server-1") == 1  # type: ignore[attr-defined]
