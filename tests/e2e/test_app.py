"""The app against a real engine subprocess (scripted backend): send, stream, store, continue."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QKeySequence

from workbench.core.attachments import MAX_INLINE_BYTES
from workbench.ui.main_window import MainWindow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _send(w: MainWindow, text: str, until: Any) -> str:
    w.composer.set_text(text)
    w.composer.submit()
    assert w.controller.busy
    await until(lambda: not w.controller.busy, what="the turn to finish")
    entries = w.transcript.entries()
    assert entries
    iid = entries[-1].interaction_id
    assert iid
    return iid


async def test_opens_connects_streams_stores_and_continues(
    until: Any, make_window: Callable[..., MainWindow], _workbench_home: Path
) -> None:
    w = make_window()
    w.show()
    assert "Workbench" in w.windowTitle()
    assert w.focusWidget() is w.composer.edit
    await w.start()
    conn = w.controller.connection
    assert conn is not None
    assert conn.engine_info is not None
    pid = conn.engine_info.pid
    assert conn.engine_info.url.startswith("http://127.0.0.1:")
    assert (_workbench_home / "data" / "engine").is_dir()  # engine data under the app's data dir
    assert w.dock.target.currentText() == "scripted"
    assert w.focusWidget() is w.composer.edit
    try:
        snapshots: list[int] = []
        w.controller.run_started.connect(lambda: snapshots.append(w.transcript.repaints))
        first = await _send(w, "[[thought: pondering]] [[text: Hello **from** the engine]]", until)
        w.transcript.flush()
        text = w.transcript.toPlainText()
        assert "Hello from the engine" in text
        assert "Thought for" in text
        assert " in · " in text  # usage footer
        rec = w.history.interaction(first)
        assert rec is not None
        assert rec.status == "completed"
        assert rec.parent_id is None
        assert "previous_interaction_id" not in rec.request
        assert "ttft" in rec.metrics
        # Continuing sends only the new turn with previous_interaction_id.
        second = await _send(w, "[[text: second answer]]", until)
        rec2 = w.history.interaction(second)
        assert rec2 is not None
        assert rec2.parent_id == first
        assert rec2.request["previous_interaction_id"] == first
        assert len(rec2.input) == 1
        assert "second answer" in w.transcript.toPlainText() or True
        w.transcript.flush()
        assert "second answer" in w.transcript.toPlainText()
        # Search (FTS5) finds it, offline.
        sid = w.controller.session_id
        assert sid is not None
        w.sessions.search.setText("second")
        await until(lambda: w.sessions.model.rowCount() == 1, what="search results")
        assert w.sessions.model.session_at(0).id == sid  # type: ignore[union-attr]
        w.sessions.search.setText("zzzunfindable")
        await until(lambda: w.sessions.model.rowCount() == 0, what="no results")
        assert not w.sessions.empty.isHidden()
        w.sessions.search.clear()
        await until(lambda: w.sessions.model.rowCount() == 1)
    finally:
        w.quit_action.trigger()
        await until(lambda: w.controller.connection is None, what="shutdown")
    assert QKeySequence("Ctrl+Q") == w.quit_action.shortcut()
    await until(lambda: not _alive(pid), limit=10, what="the engine to stop")


async def test_edit_and_resend_keeps_the_old_branch(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    try:
        first = await _send(w, "[[text: one]]", until)
        old = await _send(w, "[[text: two]]", until)
        w.controller.edit_turn(old)
        assert w.composer.text() == "[[text: two]]"
        new = await _send(w, "[[text: two, edited]]", until)
        assert new != old
        rec = w.history.interaction(new)
        assert rec is not None
        assert rec.parent_id == first
        entries = w.transcript.entries()
        assert (entries[-1].branch_index, entries[-1].branch_count) == (2, 2)
        w.transcript.flush()
        assert "2/2" in w.transcript.toPlainText()
        w.controller.switch_branch(new, -1)
        assert w.transcript.entries()[-1].interaction_id == old
        # Branch from the first turn: the next message is a third sibling after it.
        w.controller.branch_from(first)
        assert [e.interaction_id for e in w.transcript.entries()] == [first]
        third = await _send(w, "[[text: three]]", until)
        assert w.history.interaction(third).parent_id == first  # type: ignore[union-attr]
        assert w.transcript.entries()[-1].branch_count == 3
    finally:
        await w.controller.shutdown()


async def test_stop_with_escape(until: Any, make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    await w.start()
    try:
        w.composer.set_text("[[tokens: 200, 0.05]]")
        w.composer.submit()
        await until(
            lambda: (
                w.controller.sending.live is not None and w.controller.sending.live.interaction_id
            )
        )
        w.composer.edit.escaped.emit()
        await until(lambda: not w.controller.busy, what="the stop")
        rec = w.history.interaction(w.transcript.entries()[-1].interaction_id or "")
        assert rec is not None
        assert rec.status == "cancelled"
        assert not w.composer.running
    finally:
        await w.controller.shutdown()


async def test_rename_pin_delete(until: Any, make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    await w.start()
    try:
        await _send(w, "[[text: a]]", until)
        a = w.controller.session_id
        w.controller.new_session()
        await _send(w, "[[text: b]]", until)
        b = w.controller.session_id
        assert a and b and a != b
        w.sessions.model.setData(w.sessions.model.index(w.sessions.model.row_of(a)), "Renamed")
        assert w.history.session(a).title == "Renamed"
        w.controller.pin_session(a, True)
        assert w.sessions.model.session_at(0).id == a  # type: ignore[union-attr]
        w.sessions.confirm_delete(b)
        box = w.sessions._confirm
        assert box is not None
        box.button(box.StandardButton.Yes).click()
        await until(lambda: w.sessions.model.rowCount() == 1, what="the delete")
        assert w.controller.session_id is None
        assert [s.id for s in w.history.sessions()] == [a]
    finally:
        await w.controller.shutdown()


async def test_attachments_refused_and_sent(
    until: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    w = make_window()
    await w.start()
    try:
        w.composer.set_text("keep this draft")
        big = tmp_path / "huge.png"
        with big.open("wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\n")
            fh.truncate(MAX_INLINE_BYTES + 10)
        exe = tmp_path / "tool.exe"
        exe.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00")
        png = tmp_path / "dot.png"
        png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        w.composer.files_requested.emit([str(big), str(png), str(exe)])
        await until(lambda: "cannot be sent" in w.composer.message.text(), what="refusal")
        assert [a.name for a in w.composer.attachments()] == ["huge.png", "dot.png"]
        assert w.composer.attachments()[0].upload  # over the inline limit: Files API
        assert w.composer.text() == "keep this draft"
        # The engine cannot use the fake PNG once uploaded: said, and nothing is lost.
        w.composer.submit()
        await until(lambda: "cannot use it" in w.composer.message.text(), what="upload refused")
        assert w.composer.text() == "keep this draft" and len(w.composer.attachments()) == 2
        assert w.composer.upload_bar.isHidden() and w.history.sessions() == []
        w.composer._chips[0].remove.click()
        w.composer.set_text("what is this?")
        iid = await _send(w, "what is this?", until)
        rec = w.history.interaction(iid)
        assert rec is not None
        assert rec.attachments[0].name == "dot.png"
        w.transcript.flush()
        assert "[image: 72 bytes]" in w.transcript.toPlainText()  # the scripted echo
    finally:
        await w.controller.shutdown()


async def test_function_call_round_trip(until: Any, make_window: Callable[..., MainWindow]) -> None:
    w = make_window()
    await w.start()
    try:
        call_turn = await _send(w, '[[call get_weather {"city": "Oslo"}]]', until)
        rec = w.history.interaction(call_turn)
        assert rec is not None
        assert rec.status == "requires_action"
        w.transcript.flush()
        assert "Give the result" in w.transcript.toPlainText()
        w.controller.answer_calls(call_turn)
        w.transcript.flush()
        assert "Type the result of get_weather" in w.transcript.toPlainText()
        answer = await _send(w, '{"temp_c": 21}', until)
        rec2 = w.history.interaction(answer)
        assert rec2 is not None
        assert rec2.parent_id == call_turn
        assert rec2.input[0]["type"] == "function_result"
        assert rec2.input[0]["result"] == {"temp_c": 21}
        assert rec2.input[0]["call_id"] == rec.data["steps"][-1]["id"]
        w.transcript.flush()
        assert "get_weather returned" in w.transcript.toPlainText()
    finally:
        await w.controller.shutdown()


async def test_settings_are_written_once_typing_pauses(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    """Issue 14 item 4: typing a system instruction does not write settings.json per key."""
    w = make_window()
    await w.start()
    try:
        path = w.paths.settings_file
        writes: list[str] = []
        import workbench.ui.chat.settings_sync as chat

        real = chat.save_settings
        chat.save_settings = lambda s, p: (writes.append(s.run.system_instruction), real(s, p))
        try:
            for n in range(1, 30):
                w.dock.system.setPlainText("Answer briefly"[: n % 15] + "!" * n)
            assert writes == []  # nothing yet: the user is still typing
            await until(lambda: len(writes) == 1, what="one write once typing paused")
            assert "!" * 29 in path.read_text(encoding="utf-8")
        finally:
            chat.save_settings = real
    finally:
        await w.controller.shutdown()
