"""Issue 7 item 6: bad input through the real window — each gives a clear message, the app
stays usable (the next send works) and nothing typed is lost.

Extends ``tests/e2e/test_app.py::test_attachments_refused_and_sent`` (an oversize and a
wrong-type file) and ``tests/ui/test_widgets.py::test_function_editor_shows_schema_errors``
(the editor widget alone) with: more attachment cases, invalid schemas sent through the whole
window, a server answering malformed JSON, an HTML error page, a broken event stream, and a
server that hangs (stopped with Esc, and timing out).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fake_server import FakeServer, Fault
from workbench.core import attachments
from workbench.core.attachments import MAX_INLINE_BYTES, MAX_TEXT_BYTES
from workbench.ui.main_window import MainWindow

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


async def _window(remote_window: Callable[..., MainWindow], server: FakeServer) -> MainWindow:
    w = remote_window(server.url, "any-key")
    await w.start()
    assert w.controller.connection is not None
    w.dock.target.setEditText("gemini-3-flash-preview")
    return w


async def _send(w: MainWindow, text: str, until: Any) -> None:
    w.composer.set_text(text)
    w.composer.submit()
    await until(lambda: not w.controller.busy, what="the turn to end")


async def _usable(w: MainWindow, server: FakeServer, until: Any) -> None:
    """The next send works: the answer shows and nothing is left in the box."""
    w.composer.clear()
    await _send(w, "are you there", until)
    w.transcript.flush()
    assert "Echo: are you there" in w.transcript.toPlainText()
    assert w.composer.text() == ""


async def test_a_broken_server_gives_plain_words_and_the_text_back(
    remote_window: Callable[..., MainWindow], server: FakeServer, until: Any
) -> None:
    w = await _window(remote_window, server)
    cases: list[tuple[Fault, str]] = [
        (
            Fault("POST", "interactions", status=500, kind="malformed"),
            "The server had a problem",
        ),
        (
            Fault("POST", "interactions", status=502, kind="html"),
            "The server had a problem",
        ),
        (
            Fault("POST", "interactions", status=200, kind="malformed"),
            "The server sent something Workbench cannot read",
        ),
        (
            Fault(
                "POST",
                "interactions",
                status=400,
                message="generation_config.temperature must be ≤ 2",
            ),
            "The server refused the request: generation_config.temperature must be ≤ 2",
        ),
    ]
    try:
        for fault, words in cases:
            server.add_fault(fault)
            typed = f"my carefully typed question ({fault.kind} {fault.status})"
            await _send(w, typed, until)
            notice = w.transcript._notice
            assert notice.startswith(words), notice
            assert "Traceback" not in notice and "<html" not in notice.lower()
            assert len(notice) < 400
            assert w.composer.text() == typed  # given back: nothing is lost
            await _usable(w, server, until)
        # A stream that breaks after the server accepted the message: the turn is kept (with
        # the typed text) and marked failed, in plain words.
        server.add_fault(Fault("POST", "interactions", kind="bad_stream"))
        await _send(w, "a question answered with garbage", until)
        notice = w.transcript._notice
        assert notice.startswith("The server sent something Workbench cannot read"), notice
        rec = w.history.interaction("v1_bad")
        assert rec is not None and rec.status == "failed"
        assert rec.input[0]["content"][0]["text"] == "a question answered with garbage"
        w.controller.new_session()  # (the fake server does not keep the broken interaction)
        await _usable(w, server, until)
    finally:
        await w.controller.shutdown()


async def test_a_hanging_server_can_be_stopped_and_times_out(
    remote_window: Callable[..., MainWindow], server: FakeServer, until: Any
) -> None:
    w = await _window(remote_window, server)
    try:
        server.add_fault(Fault("POST", "interactions", kind="hang", hang_seconds=30))
        w.composer.set_text("this will hang")
        w.composer.submit()
        await until(lambda: server.count("POST", "interactions") == 1, what="the request")
        assert w.composer.running
        w.composer.edit.escaped.emit()  # Esc
        await until(lambda: not w.controller.busy, what="the stop")
        assert w.composer.text() == "this will hang"  # back in the box
        assert "Stopped before the server answered" in w.transcript._notice
        server.faults.clear()
        await _usable(w, server, until)
        # Left alone, a hang ends at the read timeout (120 s in the app; 0.5 s here).
        conn = w.controller.connection
        assert conn is not None
        conn.client._transport._client.timeout = httpx.Timeout(10.0, read=0.5)
        server.add_fault(Fault("POST", "interactions", kind="hang", hang_seconds=5))
        await _send(w, "this will time out", until)
        notice = w.transcript._notice
        assert "did not answer in time" in notice and "did not send the request again" in notice
        assert w.composer.text() == "this will time out"
        server.faults.clear()
        await _usable(w, server, until)
    finally:
        await w.controller.shutdown()


async def test_bad_attachments_are_refused_and_the_draft_stays(
    remote_window: Callable[..., MainWindow],
    server: FakeServer,
    until: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = await _window(remote_window, server)
    try:
        w.composer.set_text("keep this draft")
        folder = tmp_path / "a-folder"
        folder.mkdir()
        empty = tmp_path / "empty.txt"
        empty.write_bytes(b"")
        fake_png = tmp_path / "photo.png"  # an executable dressed up as an image
        fake_png.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4)
        long_text = tmp_path / "notes.txt"
        long_text.write_text("x" * (MAX_TEXT_BYTES + 1))
        big = [tmp_path / f"big{n}.png" for n in range(2)]
        for path in big:
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_INLINE_BYTES * 2 // 3))
        cases = [
            (tmp_path / "gone.pdf", "“gone.pdf” cannot be read"),
            (folder, "“a-folder” is not a file"),
            (empty, "“empty.txt” is empty"),
            (fake_png, "“photo.png” is "),
            (long_text, "of text; at most 1.0 MB can be sent"),
        ]
        for path, words in cases:
            w.composer.files_requested.emit([str(path)])
            await until(lambda words=words: words in w.composer.message.text(), what=words)
            assert w.composer.attachments() == []
            assert w.composer.text() == "keep this draft"
        w.composer.files_requested.emit([str(p) for p in big])
        await until(lambda: len(w.composer.attachments()) == 2, what="both big files")
        first, second = w.composer.attachments()
        assert not first.upload and second.upload  # together they are too big to go inline
        assert "uploaded first (Files API)" in w.composer._chips[1].label.text()
        w.composer._chips[1].remove.click()  # this fake server has no Files API
        # A pasted image over the Files API's limit is refused the same way.
        monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES", 1000)
        w.composer.data_pasted.emit("paste.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 1001, "image/png")
        assert "the Files API takes files of at most" in w.composer.message.text()
        assert w.composer.text() == "keep this draft"
        # The draft and the accepted attachment go out together.
        w.composer.submit()
        await until(lambda: not w.controller.busy, what="the send")
        body = json.loads(server.requests_to("POST", "interactions")[-1].body)
        content = body["input"][0]["content"]
        assert content[0] == {"type": "text", "text": "keep this draft"}
        assert content[1]["type"] == "image" and content[1]["mime_type"] == "image/png"
        await _usable(w, server, until)
    finally:
        await w.controller.shutdown()


async def test_invalid_function_schemas_keep_the_last_valid_declarations(
    remote_window: Callable[..., MainWindow], server: FakeServer, until: Any
) -> None:
    w = await _window(remote_window, server)
    editor = w.dock.functions
    valid = [{"name": "lookup", "description": "d", "parameters": {"type": "object"}}]
    try:
        editor.edit.setPlainText(json.dumps(valid))
        editor.validate()
        broken = [
            '[{"name": "lookup", "parameters": {"type": "object", "required": "q"}}]',
            '[{"name": "lookup", "parameters": {"type": "objekt"}}]',
            '[{"name": "lookup", "parameters": ',
            '{"name": "not a list"}',
        ]
        for text in broken:
            editor.edit.setPlainText(text)
            problems = editor.validate()
            assert problems, text
            status = editor.status.text()
            assert "The last valid declarations stay in use" in status, status
            await _send(w, f"call it ({len(text)})", until)
            assert w.composer.text() == ""  # sent …
            body = json.loads(server.requests_to("POST", "interactions")[-1].body)
            tools = body.get("tools") or []
            assert [t.get("name") for t in tools] == ["lookup"]  # … with the valid declaration
            assert tools[0]["parameters"] == {"type": "object"}
            assert editor.edit.toPlainText() == text  # what was typed in the editor stays
        await _usable(w, server, until)
    finally:
        await w.controller.shutdown()
