"""The Sandbox files dock against the fake server's environments API (always available):
lazy tree, previews, save as, download all, upload, attach, cancel."""

from __future__ import annotations

import base64
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QIODevice, QModelIndex
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from support.fake_server import FakeServer
from workbench.client import Client
from workbench.core.attachments import Attachment
from workbench.core.connection import Connection
from workbench.core.history import HistoryStore
from workbench.core.profiles import default_profiles
from workbench.core.sandbox_files import make_preview, preview_kind
from workbench.core.tasks import TaskManager
from workbench.ui.files.controller import FilesController
from workbench.ui.files.dock import FilesDock


def _png() -> bytes:
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(0x3366CC)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


def _env(server: FakeServer) -> str:
    sources = [
        {"type": "inline", "target": "workspace/report.md", "content": "# Report\n\n**bold**"},
        {"type": "inline", "target": "workspace/data/table.csv", "content": "a,b\n1,2\n3,4\n"},
        {"type": "inline", "target": "workspace/main.py", "content": "print('hi')\n"},
        {"type": "inline", "target": "workspace/dot.png",
         "content": base64.b64encode(_png()).decode(), "encoding": "base64"},
        {"type": "inline", "target": ".agents/AGENTS.md", "content": "Be brief."},
    ]  # fmt: skip
    import httpx

    reply = httpx.post(f"{server.url}/v1/environments", json={"sources": sources})
    reply.raise_for_status()
    return str(reply.json()["id"])


def _child(dock: FilesDock, parent: QModelIndex, name: str) -> QModelIndex:
    model = dock.model
    for row in range(model.rowCount(parent)):
        idx = model.index(row, 0, parent)
        if idx.data() == name:
            return idx
    raise AssertionError(f"{name} not listed under {parent.data()}")


def test_preview_kinds() -> None:
    assert preview_kind("a/b.md") == "markdown"
    assert preview_kind("x.csv", "text/plain") == "csv"
    assert preview_kind("x.png", "text/plain") == "image"
    assert preview_kind("x.py") == "text"
    assert preview_kind("x.bin") == "binary"
    assert make_preview("x.bin", b"plain words").kind == "text"
    assert make_preview("x.bin", b"\xff\xfe\x00").kind == "binary"
    assert make_preview("t.csv", b"a,b\n1,2\n").rows == [["a", "b"], ["1", "2"]]


async def test_files_dock_browse_preview_save_upload_attach(
    qtbot: QtBot, server: FakeServer, tmp_path: Path, until: Any, qtmodeltester: Any
) -> None:
    env = _env(server)
    client = Client(server.url, api_key="k")
    conn = Connection(default_profiles()[0], client)
    history = HistoryStore(tmp_path / "h.sqlite3")
    tasks = TaskManager()
    dock = FilesDock()
    qtbot.addWidget(dock)
    dock.resize(900, 500)
    dock.show()
    ctl = FilesController(dock, tasks, history, lambda: conn)
    attached: list[Attachment] = []
    ctl.attachment_ready.connect(attached.append)
    messages: list[str] = []
    ctl.status_message.connect(messages.append)
    try:
        assert not dock.download_button.isEnabled()
        ctl.set_environment(env, "test")
        model = dock.model
        await until(lambda: model.rowCount() == 2, what="the root listing")
        qtmodeltester.check(model)
        root_names = [model.index(r, 0).data() for r in range(model.rowCount())]
        assert root_names == [".agents", "workspace"]
        workspace = _child(dock, QModelIndex(), "workspace")
        assert model.canFetchMore(workspace)
        dock.tree.expand(workspace)
        await until(lambda: model.rowCount(workspace) == 4, what="lazy workspace listing")
        names = [model.index(r, 0, workspace).data() for r in range(4)]
        assert names == ["data", "dot.png", "main.py", "report.md"]  # directories first
        assert model.index(2, 1, workspace).data() == "12 B"
        qtmodeltester.check(model)

        # Previews: Markdown rendered, CSV as a table, image, text.
        dock.tree.setCurrentIndex(_child(dock, workspace, "report.md"))
        await until(lambda: dock.preview.kind == "markdown", what="markdown preview")
        assert "Report" in dock.preview.markdown.toPlainText()
        assert "**" not in dock.preview.markdown.toPlainText()
        dock.tree.setCurrentIndex(_child(dock, workspace, "dot.png"))
        await until(lambda: dock.preview.kind == "image", what="image preview")
        assert dock.preview.image.pixmap().width() == 4
        dock.tree.setCurrentIndex(_child(dock, workspace, "main.py"))
        await until(lambda: dock.preview.kind == "text", what="text preview")
        assert "print('hi')" in dock.preview.text.toPlainText()
        data_dir = _child(dock, workspace, "data")
        dock.tree.expand(data_dir)
        await until(lambda: model.rowCount(data_dir) == 1)
        dock.tree.setCurrentIndex(model.index(0, 0, data_dir))
        await until(lambda: dock.preview.kind == "csv", what="csv preview")
        assert dock.preview.table.rowCount() == 2
        assert dock.preview.table.horizontalHeaderItem(1).text() == "b"
        assert dock.preview.table.item(1, 0).text() == "3"

        # Save as, then download everything as tar.
        entry = dock.current_entry()
        assert entry is not None and entry.path == "workspace/data/table.csv"
        saved = tmp_path / "saved.csv"
        dock.save_requested.emit(entry, str(saved))
        await until(saved.exists, what="save as")
        assert saved.read_text() == "a,b\n1,2\n3,4\n"
        tar_path = tmp_path / "all.tar"
        dock.download_all_requested.emit(str(tar_path))
        await until(lambda: tar_path.exists() and dock.progress_box.isHidden(), what="tar")
        with tarfile.open(tar_path) as tar:
            assert "workspace/report.md" in tar.getnames()

        # Upload into the selected directory; the tree is listed again.
        local = tmp_path / "notes.txt"
        local.write_text("uploaded!")
        dock.upload_requested.emit([str(local)], "workspace/data")
        await until(lambda: "workspace/data/notes.txt" in server.env_files[env], what="upload")
        assert server.env_files[env]["workspace/data/notes.txt"][0] == b"uploaded!"
        await until(lambda: any(m.startswith("Uploaded") for m in messages), what="upload end")
        await until(lambda: model.rowCount() == 2, what="refresh after upload")

        # Attach a sandbox file to the next turn.
        workspace = _child(dock, QModelIndex(), "workspace")
        dock.tree.expand(workspace)
        await until(lambda: model.rowCount(workspace) == 4)
        dock.tree.setCurrentIndex(_child(dock, workspace, "main.py"))
        dock.attach_button.click()
        await until(lambda: len(attached) == 1, what="attachment")
        assert attached[0].name == "main.py"

        # A transfer can be cancelled; nothing half-written is left behind.
        partial = tmp_path / "cancelled.tar"
        dock.download_all_requested.emit(str(partial))
        dock.cancel_button.click()
        await until(lambda: not tasks.running("files-transfer"), what="cancel")
        assert not partial.exists()
        assert dock.progress_box.isHidden()

        # An unknown sandbox says so next to the tree.
        ctl.set_environment("env_missing")
        await until(lambda: not dock.problem.isHidden(), what="the problem")
        assert "Could not list" in dock.problem.text()
    finally:
        await tasks.cancel_all()
        await client.aclose()
        history.close()


async def test_a_session_shows_the_sandbox_its_agent_used(qtbot: QtBot, tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    dock = FilesDock()
    qtbot.addWidget(dock)
    tasks = TaskManager()
    ctl = FilesController(dock, tasks, history, lambda: None)
    requested: list[str] = []
    dock.model.fetch_requested.connect(requested.append)
    sid = history.create_session("agent work").id
    history.save_interaction(
        sid, "v1_a", parent_id=None, input_blocks=[], request={"agent": "a"},
        data={"id": "v1_a", "status": "completed", "environment_id": "env_9"},
    )  # fmt: skip
    ctl.session_opened(sid)
    assert ctl.environment_id == "env_9"
    assert "env_9" in dock.where.text()
    assert "<" not in dock.where.text()  # a plain label: markup would show as written
    assert requested == ["."]  # the root is listed lazily
    await tasks.cancel_all()
    history.close()
