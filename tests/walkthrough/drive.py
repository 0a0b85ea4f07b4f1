"""The first-time walkthrough, scripted: the real window on a real X server, a window manager
and the local engine (scripted backend), on a fresh data home with no keyring.

Run by ``test_walkthrough.py`` under its own Xvfb + openbox (``DISPLAY`` set, ``xcb``). Each
step asserts on what is on screen — geometry within the screen, headers not elided at the
default size, the sessions list standing still while chips are added, the words a user
reads — and saves a screenshot of the screen into ``argv[1]``. Exit status 0 means every
check passed; a failure prints the step and the reason and exits 1.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="walkthrough-"))
HOME = Path(tempfile.mkdtemp(prefix="wb-walkthrough-"))
os.environ["WORKBENCH_HOME"] = str(HOME / "home")

import qasync  # noqa: E402
from PySide6.QtCore import QModelIndex, QRect, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QHeaderView, QWidget  # noqa: E402

from support.qt_harness import wait_until  # noqa: E402
from workbench.app import prepare  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402

STEP = ["start"]


def step(name: str) -> None:
    STEP[0] = name
    print(f"walkthrough: {name}", flush=True)


def check(ok: object, message: str) -> None:
    if not ok:
        raise AssertionError(f"[{STEP[0]}] {message}")


def screen_rect() -> QRect:
    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    return screen.geometry()


def on_screen(widget: QWidget, what: str) -> None:
    """The widget's frame lies inside the screen (so OK, Send, … can be clicked)."""
    frame = widget.frameGeometry() if widget.isWindow() else widget.geometry()
    if not widget.isWindow():
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        frame = QRect(top_left, widget.size())
    check(screen_rect().contains(frame), f"{what} {frame} is not inside the screen {screen_rect()}")


def headers_fit(header: QHeaderView, what: str) -> None:
    """No visible header section is narrower than its title (no "Tar…", "n the s")."""
    model = header.model()
    assert model is not None
    metrics = header.fontMetrics()
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        title = str(model.headerData(section, header.orientation()) or "")
        need = metrics.horizontalAdvance(title) + 8
        check(
            header.sectionSize(section) >= need,
            f"{what}: header “{title}” is {header.sectionSize(section)} px, needs {need}",
        )


async def shot(name: str) -> None:
    """Save the screen as X shows it (after pending paints reach the server)."""
    await asyncio.sleep(0.4)
    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    path = OUT / f"{name}.png"
    check(screen.grabWindow(0).save(str(path)), f"could not save {path}")


async def until(cond: Callable[[], object], what: str, limit: float = 30.0) -> None:
    await wait_until(cond, limit, f"[{STEP[0]}] {what}")


async def settle(seconds: float = 0.3) -> None:
    # Never QApplication.processEvents() here: inside a qasync task it re-enters the loop.
    await asyncio.sleep(seconds)


def files_fixture() -> dict[str, Path]:
    data = HOME / "files"
    data.mkdir()
    out = {
        "list": data / "list.txt",
        "notes": data / "meeting-notes-with-a-rather-long-name.md",
        "sales": data / "sales.csv",
        "png": data / "chart.png",
    }
    out["list"].write_text("milk\neggs\nbread\n")
    out["notes"].write_text("# Notes\n\n- ship it\n")
    out["sales"].write_text("month,amount\njan,10\nfeb,12\nmar,20\n")
    out["png"].write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return out


async def walkthrough(w: MainWindow) -> None:
    files = files_fixture()
    composer, sessions, transcript = w.composer, w.sessions, w.transcript

    step("first start")
    w.tasks.start("connect", w.start())
    await asyncio.sleep(0)
    # While connecting Send queues the message (issue 14 item 7), and says so.
    check(
        "queues the message" in composer.send_button.toolTip(),
        f"Send while connecting says {composer.send_button.toolTip()!r}",
    )
    await until(lambda: w.controller.connection is not None, "the local engine to answer")
    await until(lambda: composer.send_button.toolTip() == "Send (Enter)", "Send to be ready")
    check(w.dock.target.currentText() == "scripted", f"target is {w.dock.target.currentText()!r}")
    await settle(0.5)
    on_screen(w, "the main window")
    check("Start a conversation" in transcript.toPlainText(), "no welcome text")
    headers_fit(w.docks.runs_dock.table.horizontalHeader(), "Runs table")
    headers_fit(w.docks.files_dock.tree.header(), "Sandbox files tree")
    await shot("walkthrough-first-start")

    step("chat")
    composer.edit.setFocus()
    composer.edit.setPlainText(
        "Show me a code block [[text: Sure:\n\n```python\nprint('hello')\n```\n\nThat is all.]]"
    )
    QTest.keyClick(composer.edit, Qt.Key.Key_Return)
    await until(lambda: len(transcript.entries()) == 1 and not w.controller.busy, "the answer")
    transcript.flush()
    check("print('hello')" in transcript.toPlainText(), "the code block is not shown")
    check(sessions.model.rowCount() == 1, "the session is not listed")
    check(sessions.current_id() == w.controller.session_id, "the sidebar highlights another row")
    await shot("walkthrough-chat")

    step("attachments")
    sessions_width = sessions.width()
    plus = w.composer.add_button.mapTo(w, w.composer.add_button.rect().topLeft())
    center_width = transcript.width()
    composer.files_requested.emit([str(files["list"])])
    await until(lambda: len(composer.attachments()) == 1, "the first chip")
    composer.files_requested.emit([str(files["notes"])])
    await until(lambda: len(composer.attachments()) == 2, "the second chip")
    composer.files_requested.emit([str(files["sales"])])
    await until(lambda: len(composer.attachments()) == 3, "the third chip")
    await settle()
    check(
        abs(sessions.width() - sessions_width) <= 2,
        f"sessions list {sessions_width} → {sessions.width()}",
    )
    check(
        abs(transcript.width() - center_width) <= 2,
        f"centre pane {center_width} → {transcript.width()}",
    )
    moved = w.composer.add_button.mapTo(w, w.composer.add_button.rect().topLeft())
    check(moved.x() == plus.x(), f"the + button moved from x={plus.x()} to x={moved.x()}")
    for chip in composer._chips:
        inside = chip.geometry().right() <= composer.chip_box.width()
        check(inside, f"chip {chip.attachment.name} sticks out of the composer")
        words = chip.title.text() + chip.detail.text() + chip.label.text()
        check("▯" not in words, "a missing-glyph box on a chip")
    # The text-only local model does not see pictures: attached, and told it reads them by OCR.
    w.dock.target.setEditText("scripted-text")
    await settle()
    composer.files_requested.emit([str(files["png"])])
    await until(lambda: composer.message.isVisible(), "the note")
    said = composer.message.text()
    check("chart.png" in said and "OCR" in said, f"the note says {said!r}")
    check("steps[" not in said and len(composer.attachments()) == 4, "the picture is missing")
    composer._chips[-1].remove.click()
    w.dock.target.setEditText("scripted")
    await settle()
    await shot("walkthrough-attachments")
    # Ctrl+N: the chips stay with the session they were added to.
    first_session = w.controller.session_id
    QTest.keyClick(w, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    await settle()
    check(composer.attachments() == [], "attachments followed Ctrl+N into a new session")
    assert first_session is not None
    w.controller.open_session(first_session)
    check(len(composer.attachments()) == 3, "the draft did not come back with its session")
    composer.edit.setPlainText("What is on the list?")
    QTest.keyClick(composer.edit, Qt.Key.Key_Return)
    await until(lambda: len(transcript.entries()) == 2 and not w.controller.busy, "answer 2")
    transcript.flush()
    # The user's own turn, as drawn: from the last "You" to the answer's heading.
    shown = transcript.toPlainText().rsplit("You", 1)[-1].split("\nscripted", 1)[0]
    check("File `" not in shown and "```" not in shown, f"the wrapper shows in {shown!r}")
    check("list.txt" in shown, f"the attachment is not named in the turn: {shown!r}")
    check(
        abs(sessions_width - sessions.width()) <= 2,
        f"the sessions list went from {sessions_width} to {sessions.width()} px",
    )

    step("agent run with a data source")
    dock = w.docks.agents_dock
    dock.show()
    dock.raise_()
    await settle()
    dock.new_button.click()
    form = dock.form
    form.name.selectAll()
    QTest.keyClicks(form.name, "sales-bot")
    w.docks.agents.save_now()
    check(form.instructions.text().startswith("# sales-bot"), "AGENTS.md kept the old title")
    check(form.description.text() == "", "the description is prefilled")
    w.docks.agents.add_data(files["sales"])
    await settle()
    target = form.data_model.index(0, 3).data()
    check(target == "sales.csv", f"the data source lands at {target!r}")
    headers_fit(form.data_view.horizontalHeader(), "Data sources table")
    dock.prompt.setText(
        "Read sales.csv and write the total of the amount column to total.txt "
        "[[text: I could not read sales.csv, so total.txt was not written.]]"
    )
    dock.run_button.click()
    runs = w.docks.runs_dock
    await until(lambda: runs.model.rowCount() == 1, "the run row")
    run = runs.model.run_at(0)
    assert run is not None
    await until(lambda: run.ended is not None, "the agent run to end", limit=90)
    await settle()
    runs.select_run(run.id)
    await settle()
    chip_text = runs.model.index(0, 2).data()
    check(chip_text != "finished", f"a run that says it failed shows {chip_text!r}")
    check("could not read sales.csv" in runs.answer.text(), "the answer's words are not shown")
    check(runs.table.rowHeight(0) * 3 <= runs.table.viewport().height(), "Runs shows < 3 rows")
    check("running in the background" not in dock.notice.text(), "a stale “is running” note")
    answer_box = runs.answer.parentWidget()
    assert answer_box is not None
    check(runs.answer.isVisibleTo(answer_box), "the answer is not shown")
    await shot("walkthrough-agent-run")

    step("sandbox")
    sandbox = w.docks.files_dock
    await until(lambda: sandbox.model.environment_id == run.environment_id, "its sandbox")
    root = QModelIndex()

    def names(parent: QModelIndex) -> list[str]:
        m = sandbox.model
        return [str(m.index(r, 0, parent).data()) for r in range(m.rowCount(parent))]

    await until(lambda: "sales.csv" in names(root), "sales.csv at the sandbox root")
    name_width = sandbox.tree.header().sectionSize(0)
    check(name_width >= 120, f"the Name column is {name_width} px wide")
    agents_dir = sandbox.model.index(names(root).index(".agents"), 0, root)
    sandbox.tree.expand(agents_dir)
    await until(lambda: "AGENTS.md" in names(agents_dir), "the .agents listing")
    sandbox.refresh_button.click()
    await until(lambda: ".agents" in names(QModelIndex()), "the listing after Refresh")

    def reopened() -> bool:
        ids = names(QModelIndex())
        if ".agents" not in ids:
            return False
        index = sandbox.model.index(ids.index(".agents"), 0, QModelIndex())
        return sandbox.tree.isExpanded(index) and "AGENTS.md" in names(index)

    await until(reopened, "the expanded folder to stay open after Refresh")
    sales = sandbox.model.index(names(QModelIndex()).index("sales.csv"), 0, QModelIndex())
    sandbox.tree.setCurrentIndex(sales)
    await until(lambda: sandbox.preview.kind == "csv", "the CSV preview")
    await shot("walkthrough-sandbox")

    step("open the run's transcript")
    runs.open_button.click()
    await until(lambda: w.controller.session_id == run.session_id, "the run's session")
    await settle()
    check(sessions.current_id() == run.session_id, "the sidebar highlights another session")
    record = w.history.interaction(run.interaction_id)
    check(record is not None, "the run is not in the history")
    assert record is not None
    check(record.target == (run.model or run.target), f"answer attributed to {record.target!r}")
    print(f"walkthrough: the run's answer is attributed to {record.target!r}", flush=True)

    step("agents panel floated and enlarged")
    dock.setFloating(True)
    dock.resize(760, 840)
    dock.move(300, 20)
    await settle(0.5)
    on_screen(dock, "the floating Agents panel")
    ident = form._groups[0]
    check(
        ident.width() >= 0.9 * form.width(),
        f"the form stays {ident.width()} px wide in a {form.width()} px panel",
    )
    dock.setFloating(False)
    await settle()

    step("export")
    out = HOME / "session.md"
    w.export_to("md", out)
    check(out.exists() and out.read_text().startswith("# "), "the Markdown export")

    step("settings")
    dialog = w.open_settings()
    await settle(0.5)
    on_screen(dialog, "the Settings dialog")
    local_hint = dialog.default_target.placeholderText()
    check("gemini" not in local_hint.lower(), f"the Local engine profile hints {local_hint!r}")
    dialog.list.setCurrentRow(1)  # Gemini
    await settle()
    dialog.key.setText("not-a-real-key-" + "x" * 40)
    dialog.save_key.click()  # no keyring on this machine: refused in words
    await settle(0.5)
    on_screen(dialog, "the Settings dialog after a failed Save key")
    on_screen(dialog.buttons, "OK / Cancel")
    for edit in (dialog.name, dialog.base_url, dialog.default_target):
        need = edit.fontMetrics().height() + 4
        check(edit.height() >= need, f"{edit.accessibleName()} is squashed to {edit.height()} px")
    await shot("walkthrough-settings")
    dialog.reject()
    await settle()

    step("quit")
    done = asyncio.Event()
    w.quit_finished.connect(done.set)
    QTest.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    await asyncio.wait_for(done.wait(), 30)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    paths, settings, history, secrets = prepare(backend="scripted")
    w = MainWindow(paths, settings, history, secrets)
    w.show()
    status = 0
    with loop:
        try:
            loop.run_until_complete(asyncio.wait_for(walkthrough(w), 240))
        except BaseException:
            traceback.print_exc()
            with_shot = OUT / "walkthrough-failure.png"
            QGuiApplication.primaryScreen().grabWindow(0).save(str(with_shot))
            status = 1
            loop.run_until_complete(w.controller.shutdown())
    history.close()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
