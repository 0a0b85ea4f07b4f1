"""UI test harness: a qasync event loop for async tests, a polling helper, a main window."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from workbench.app import prepare
from workbench.ui.main_window import MainWindow


def _qasync_loop() -> asyncio.AbstractEventLoop:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # closing a window must not stop the loop
    loop = qasync.QEventLoop(app)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    return loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"qasync": _qasync_loop}


async def wait_until(cond: Callable[[], object], limit: float = 15.0, what: str = "") -> None:
    """Await ``cond()`` becoming true while the loop (and Qt) keep running."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.02)


@pytest.fixture
def make_window(qtbot: object, _workbench_home: Path) -> Iterator[Callable[..., MainWindow]]:
    """Build main windows on the test's WORKBENCH_HOME; closed and freed afterwards."""
    made: list[MainWindow] = []

    def make(backend: str | None = "scripted") -> MainWindow:
        paths, settings, history, secrets = prepare(backend=backend)
        window = MainWindow(paths, settings, history, secrets)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        made.append(window)
        return window

    yield make
    for window in made:
        window.history.close()


@pytest.fixture
def until() -> Callable[..., object]:
    """The polling helper, for tests (never qtbot.waitUntil inside an async test)."""
    return wait_until
