"""Widgets behind the issue-19 fixes: chips that wrap, drafts per session, Send while
connecting, attachments refused when attached, runs that did not do their task, the agents
form's defaults, and a Settings dialog that keeps its size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from workbench.core.attachments import from_bytes
from workbench.core.profiles import default_profiles
from workbench.core.runs import RunRecord
from workbench.core.secrets import SecretStore
from workbench.ui.composer import Composer
from workbench.ui.main_window import MainWindow
from workbench.ui.runs.dock import RunsDock
from workbench.ui.settings_dialog import SettingsDialog

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_chips_wrap_instead_of_widening_the_composer(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.resize(520, 200)
    composer.show()
    before = composer.minimumSizeHint().width()
    for n in range(4):
        composer.add_attachment(from_bytes(f"a-rather-long-file-name-number-{n}.txt", b"x" * 10))
    QApplication.processEvents()
    assert composer.minimumSizeHint().width() <= max(before, 440)
    rows = {chip.geometry().top() for chip in composer._chips}
    assert len(rows) > 1  # wrapped onto more lines
    assert all(c.geometry().right() <= composer.chip_box.width() for c in composer._chips)
    assert all("▯" not in c.label.text() for c in composer._chips)
    composer.clear()
    QApplication.processEvents()
    assert composer.chip_box.isHidden()


def test_send_waits_for_the_connection(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    sent: list[str] = []
    composer.send_requested.connect(lambda text, _a: sent.append(text))
    composer.set_ready(False, "Connecting to Local engine…")
    assert not composer.send_button.isEnabled()
    composer.set_text("hello")
    composer.submit()
    assert sent == [] and "Connecting" in composer.message.text()
    composer.set_ready(True)
    composer.submit()
    assert sent == ["hello"]


async def test_drafts_stay_with_their_session(make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    a = w.history.create_session("A").id
    w.controller.open_session(a)
    w.composer.set_text("half-written")
    w.composer.add_attachment(from_bytes("list.txt", b"milk"))
    w.controller.new_session()  # Ctrl+N
    assert w.composer.attachments() == [] and w.composer.text() == ""
    w.composer.set_text("for the new one")
    w.controller.open_session(a)
    assert w.composer.text() == "half-written"
    assert [x.name for x in w.composer.attachments()] == ["list.txt"]


async def test_a_text_only_local_model_gets_images_as_ocr_text_and_says_so(
    make_window: Callable[..., MainWindow], until: Any
) -> None:
    """On the local engine a text-only model reads pictures by OCR: attached, with a note
    saying so (a server that cannot read them refuses them: tests/core)."""
    w = make_window()
    try:
        task = w.tasks.start("connect", w.start())
        await until(lambda: not w.composer.ready, what="connecting")
        # While connecting Send queues the message (tests/e2e/test_e2e_first_start.py).
        assert w.composer.send_button.toolTip().endswith("Send queues the message.")
        await task
        assert w.composer.ready and w.composer.send_button.isEnabled()
        w.dock.target.setEditText("scripted-text")
        w.controller.feed.attach_data("cat.png", PNG, "image/png")
        said = w.composer.message.text()
        assert [x.name for x in w.composer.attachments()] == ["cat.png"]
        assert said.startswith("scripted-text does not see pictures") and "by OCR" in said
        w.composer.clear()
        w.dock.target.setEditText("scripted")  # reads images itself: nothing to say
        w.controller.feed.attach_data("cat.png", PNG, "image/png")
        assert [x.name for x in w.composer.attachments()] == ["cat.png"]
        assert w.composer.message.isHidden()
    finally:
        await w.controller.shutdown()


def test_a_run_that_did_not_do_its_task_says_so(qtbot: QtBot) -> None:
    dock = RunsDock()
    qtbot.addWidget(dock)
    words = "I could not read sales.csv, so total.txt was not written."
    run = RunRecord(
        id="r1",
        profile_id="local",
        title="Total the sales",
        target="antigravity-preview-05-2026",
        target_kind="agent",
        status="completed",
        ended=1.0,
        answer=words,
        verdict="not_done",
        verdict_reason="its final answer says the task was not done",
        model="qwen2.5-coder-0.5b",
    )
    dock.set_runs([run])
    dock.select_run("r1")
    assert dock.model.index(0, 2).data() == "not done"
    assert words in dock.answer.text() and "Not done" in dock.answer.text()
    assert "qwen2.5-coder-0.5b" in dock.detail.text()
    ok = run.model_copy(update={"answer": "The total is 42.", "verdict": "finished"})
    dock.update_run(ok)
    assert dock.model.index(0, 2).data() == "finished"
    assert "The total is 42." in dock.answer.text()


def test_agent_form_defaults_for_the_local_engine(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    agents, panel = w.docks.agents, w.docks.agents_dock
    form = panel.form
    agents.set_models(["qwen2.5-coder-0.5b"])
    assert "gemini" not in form.model.placeholderText()
    assert "qwen2.5-coder-0.5b" in form.model.placeholderText()
    panel.new_button.click()
    assert form.description.text() == ""
    form.name.selectAll()
    qtbot.keyClicks(form.name, "sales-bot")
    assert agents.save_now()
    assert form.instructions.text().startswith("# sales-bot\n")
    assert not form.skill_add.isEnabled()  # a skill needs a name first
    qtbot.keyClicks(form.skill_name, "Bad Name")
    assert not form.skill_add.isEnabled() and form.errors["skills"].isVisibleTo(form)
    form.skill_name.clear()
    qtbot.keyClicks(form.skill_name, "make-charts")
    form.skill_add.click()
    assert [s.name for s in agents.current.skills] == ["make-charts"]  # type: ignore[union-attr]
    panel.set_notice("“sales-bot” is running in the background", fleeting=True)
    assert panel._notice_timer.isActive()


def test_settings_dialog_keeps_its_size_after_a_long_message(qtbot: QtBot) -> None:
    dialog = SettingsDialog(default_profiles(), "local", SecretStore())
    qtbot.addWidget(dialog)
    dialog.show()
    assert "gemini" not in dialog.default_target.placeholderText().lower()
    assert "googleapis" not in dialog.base_url.placeholderText()
    width = dialog.width()
    dialog.list.setCurrentRow(1)
    assert "gemini" in dialog.default_target.placeholderText()
    dialog.badge.setText("Not saved: " + "a very long reason " * 30)
    dialog.adjustSize()
    QApplication.processEvents()
    assert dialog.width() <= max(width, dialog.maximumWidth())
    screen = dialog.screen().availableGeometry()
    assert dialog.width() <= screen.width()
